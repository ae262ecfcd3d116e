import { test as base, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';

/**
 * Every journey fails on any console error or uncaught exception of any page it opens
 * (a WebAssembly panic is one: a panicked client is a frozen tablet). A journey that
 * provokes an error on purpose (a refused request the browser logs) names it with
 * `allowConsoleErrors`.
 */
let allowed: RegExp[] = [];

export function allowConsoleErrors(...patterns: RegExp[]) {
  allowed.push(...patterns);
}

function watch(page: Page, errors: string[]) {
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`${page.url()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`${page.url()}: ${error.message}`));
}

function watchContext(context: BrowserContext, errors: string[]) {
  context.pages().forEach((page) => watch(page, errors));
  context.on('page', (page) => watch(page, errors));
}

export const test = base.extend<{ consoleGuard: void }>({
  consoleGuard: [
    async ({ browser, context }, use) => {
      allowed = [];
      const errors: string[] = [];
      watchContext(context, errors);
      const b = browser as Browser & { newContext: Browser['newContext'] };
      const original = b.newContext.bind(browser);
      b.newContext = async (...args: Parameters<Browser['newContext']>) => {
        const created = await original(...args);
        watchContext(created, errors);
        return created;
      };
      await use();
      b.newContext = original;
      // A 4xx is the server's answer to what a journey tried on purpose (a refusal, a
      // wrong PIN), which Chromium also logs; a 5xx or any script error is not.
      const answered = /Failed to load resource: the server responded with a status of 4\d\d/;
      const unexpected = errors.filter((e) => !answered.test(e) && !allowed.some((pattern) => pattern.test(e)));
      expect(unexpected, 'console errors or panics during the journey').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
