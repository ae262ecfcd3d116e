import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';

/** Waits until the WebAssembly client has taken over the server-rendered page (a server page: until it has loaded). */
export async function waitForHydration(page: Page) {
  // A server page loads no client (no hydration script): it works once it has loaded.
  await page.waitForLoadState('load');
  if ((await page.locator('link[rel="modulepreload"]').count()) === 0) return;
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1);
}

/** The tablet sizes Plateau is used at, landscape and portrait. */
export const TABLETS = [
  { width: 1024, height: 768 },
  { width: 1180, height: 820 },
  { width: 1280, height: 800 },
  { width: 768, height: 1024 },
  { width: 820, height: 1180 },
  { width: 800, height: 1280 },
];

/** The demo clinic's password and PIN (README). */
export const DEMO_PASSWORD = 'tilleuls-demo';
export const DEMO_PIN = '2468';

/**
 * Signs a browser context in as a demo account through the sign-in endpoint, as the
 * form does; the session cookie lands in the context. Journeys about signing in use the
 * form itself.
 */
export async function signIn(context: BrowserContext, username = 'j.morel', baseURL = 'http://127.0.0.1:3100') {
  const response = await context.request.post(`${baseURL}/api/sign_in`, {
    form: { username, password: DEMO_PASSWORD },
    headers: { origin: baseURL, accept: 'application/json' },
  });
  expect(response.status(), `sign-in as ${username}`).toBe(200);
}

/**
 * A new browser context signed in as `username`, with one page open at `path` and
 * hydrated: how most journeys begin for each person in them.
 */
export async function signedInPage(browser: Browser, username: string, path: string) {
  const context = await browser.newContext();
  await signIn(context, username);
  const page = await context.newPage();
  await page.goto(path);
  await waitForHydration(page);
  return { context, page };
}

/**
 * Collects the page's console errors and uncaught exceptions from now on; a journey
 * expects the list to stay empty.
 */
export function collectConsoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/** Opens the top bar's menu (account, language, sign-out). */
export async function openMenu(page: Page) {
  const menu = page.locator('.more-menu');
  if ((await menu.getAttribute('open')) === null) await menu.locator('summary').tap();
  await expect(menu).toHaveAttribute('open', '');
}
