import { type BrowserContext, type Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { signIn, waitForHydration } from './helpers';
import { readFileSync } from 'node:fs';
import path from 'node:path';

type Budget = { user: string | null; path: string; wasm: number; assets: number };
const budgets: { pages: Budget[] } = JSON.parse(readFileSync(path.join(__dirname, '..', 'budgets.json'), 'utf8'));

// What each page downloads before it works, against the budgets of end2end/budgets.json
// (sizes are deterministic: the client's files are compressed once, at build), and the
// client's files downloaded once: a second page load takes them from the browser's cache.

type Weight = { wasm: number; assets: number };

/** The bytes on the wire of every file of the client the page fetches. */
function weigh(page: Page): () => Promise<Weight> {
  const sizes: Promise<{ path: string; bytes: number }>[] = [];
  page.on('requestfinished', (request) => {
    const file = new URL(request.url()).pathname;
    if (file.startsWith('/pkg/')) {
      sizes.push(request.sizes().then((s) => ({ path: file, bytes: s.responseBodySize })));
    }
  });
  return async () => {
    const files = await Promise.all(sizes);
    return {
      wasm: files.filter((f) => f.path.endsWith('.wasm')).reduce((sum, f) => sum + f.bytes, 0),
      assets: files.reduce((sum, f) => sum + f.bytes, 0),
    };
  };
}

async function open(context: BrowserContext, address: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(address);
  await waitForHydration(page);
  await page.waitForLoadState('networkidle');
  return page;
}

test('every page downloads no more than its budget', async ({ browser }) => {
  const over: string[] = [];
  const measured: string[] = [];
  for (const budget of budgets.pages) {
    const context = await browser.newContext();
    if (budget.user) await signIn(context, budget.user);
    const page = await context.newPage();
    const weight = weigh(page);
    await page.goto(budget.path);
    if (budget.wasm > 0) await waitForHydration(page);
    await page.waitForLoadState('networkidle');
    const { wasm, assets } = await weight();
    measured.push(`${budget.path}: wasm ${wasm}, assets ${assets}`);
    if (wasm > budget.wasm) over.push(`${budget.path}: WebAssembly ${wasm} B > ${budget.wasm} B`);
    if (assets > budget.assets) over.push(`${budget.path}: JS + WASM + CSS ${assets} B > ${budget.assets} B`);
    if (budget.wasm === 0 && wasm > 0) over.push(`${budget.path}: a server page fetched WebAssembly`);
    await context.close();
  }
  console.log(measured.join('\n'));
  expect(over, measured.join('\n')).toEqual([]);
});

test('the client is downloaded once, compressed at build, then taken from the cache', async ({ browser }) => {
  const context = await browser.newContext();
  await signIn(context, 'c.lefevre');
  const first = await open(context, '/board');
  const files = await first.evaluate(() =>
    performance.getEntriesByType('resource').map((e) => (e as PerformanceResourceTiming).name).filter((n) => n.includes('/pkg/')),
  );
  expect(files.some((f) => f.endsWith('.wasm'))).toBe(true);
  for (const file of files) {
    const answer = await context.request.get(file, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(answer.headers()['cache-control'], file).toBe('public, max-age=31536000, immutable');
    expect(answer.headers()['content-encoding'], file).toBe('br');
  }
  // Another page, loaded in full: none of the client's files comes over the network again.
  const second = await context.newPage();
  const cdp = await context.newCDPSession(second);
  await cdp.send('Network.enable');
  const fromNetwork: string[] = [];
  cdp.on('Network.responseReceived', (event) => {
    const { url, fromDiskCache, fromPrefetchCache } = event.response;
    if (new URL(url).pathname.startsWith('/pkg/') && !fromDiskCache && !fromPrefetchCache) fromNetwork.push(url);
  });
  await second.goto('/');
  await waitForHydration(second);
  await second.waitForLoadState('networkidle');
  expect(fromNetwork).toEqual([]);
  await context.close();
});
