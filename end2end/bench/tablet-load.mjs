// Time to a working page on a clinic tablet, and what it downloads: Chromium with 4x CPU
// slowdown, 10 Mbit/s and 40 ms round trip (Chrome DevTools Protocol), against a running
// Plateau holding the demo clinic. For each page: a cold load (empty cache) and a second
// load in the same browser (warm cache), until the page is usable (hydrated, or loaded
// for a server page); then signing in from a cold cache to the first working page.
// Usage: node tablet-load.mjs BASE_URL [--no-cache]  (--no-cache: every load as if the
// files were sent `no-store`, the way Plateau served them before issue 18).
import { chromium } from '@playwright/test';

const base = process.argv[2] ?? 'http://127.0.0.1:3950';
const noCache = process.argv.includes('--no-cache');
const PASSWORD = 'tilleuls-demo';
const pages = [
  ['c.lefevre', '/board'],
  ['c.lefevre', '/'],
  ['i.chevalier', '/lab'],
  ['s.lambert', '/desk'],
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});

async function tablet(context) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: 40,
    downloadThroughput: (10 * 1024 * 1024) / 8,
    uploadThroughput: (10 * 1024 * 1024) / 8,
  });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  if (noCache) await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let bytes = 0;
  cdp.on('Network.loadingFinished', (event) => (bytes += event.encodedDataLength));
  return { page, bytes: () => bytes, reset: () => (bytes = 0) };
}

async function usable(page) {
  const hydrating = await page.locator('script[type="module"]').count();
  if (hydrating) await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 60_000 });
  else await page.waitForLoadState('load');
}

async function signInBy(context, username) {
  const answer = await context.request.post(`${base}/api/sign_in`, {
    form: { username, password: PASSWORD },
    headers: { origin: base, accept: 'application/json' },
  });
  if (answer.status() !== 200) throw new Error(`sign-in as ${username}: ${answer.status()}`);
}

const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
console.log(`tablet profile: 4x CPU, 10 Mbit/s, 40 ms${noCache ? ', cache disabled (as no-store)' : ''}`);
for (const [user, path] of pages) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  await signInBy(context, user);
  const t = await tablet(context);
  const times = [];
  const sizes = [];
  for (const round of ['cold', 'second']) {
    t.reset();
    const start = Date.now();
    await t.page.goto(`${base}${path}`);
    await usable(t.page);
    times.push(Date.now() - start);
    await t.page.waitForLoadState('networkidle');
    sizes.push(t.bytes());
  }
  console.log(`${path.padEnd(8)} cold ${String(times[0]).padStart(5)} ms ${kb(sizes[0]).padStart(8)}   second load ${String(times[1]).padStart(5)} ms ${kb(sizes[1]).padStart(8)}`);
  await context.close();
}

// Signing in on a tablet whose cache is empty: the sign-in page, the form, the first page.
{
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  const t = await tablet(context);
  const start = Date.now();
  await t.page.goto(`${base}/sign-in`);
  await usable(t.page);
  await t.page.getByLabel(/Identifiant|Username/).fill('c.lefevre');
  await t.page.getByLabel(/Mot de passe|Password/).fill(PASSWORD);
  await t.page.getByRole('button', { name: /Se connecter|Sign in/ }).click();
  await t.page.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
  await usable(t.page);
  const took = Date.now() - start;
  await t.page.waitForLoadState('networkidle');
  console.log(`sign-in  cold cache to the first working page: ${took} ms, ${kb(t.bytes())}`);
  await context.close();
}
await browser.close();
