import { expect, type Page } from '@playwright/test';

/** Waits until the WebAssembly client has taken over the server-rendered page. */
export async function waitForHydration(page: Page) {
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
