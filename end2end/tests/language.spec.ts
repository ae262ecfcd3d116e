import { test, expect } from './fixtures';
import { openMenu, signIn, waitForHydration } from './helpers';

test.describe('language', () => {
  // A supervisor sees every screen and every patient.
  test.beforeEach(async ({ context }) => signIn(context));

  test('follows the browser language when nothing was chosen', async ({ browser }) => {
    const context = await browser.newContext({ locale: 'en-GB' });
    await signIn(context);
    const page = await context.newPage();
    await page.goto('/');
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(page.getByRole('heading', { level: 1, name: 'Rooms' })).toBeVisible();
    await context.close();
  });

  test('switches at once with JavaScript and is remembered', async ({ page }) => {
    await page.goto('/');
    await waitForHydration(page);
    await expect(page.getByRole('heading', { level: 1, name: 'Salles' })).toBeVisible();
    await page.evaluate(() => ((window as unknown as { plateauMarker: number }).plateauMarker = 1));
    await openMenu(page);
    await page.getByRole('button', { name: 'English' }).tap();
    await expect(page.getByRole('heading', { level: 1, name: 'Rooms' })).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(page.getByRole('button', { name: 'English' })).toHaveAttribute('aria-pressed', 'true');
    await expect(page.locator('.room-card[data-room="E1"]')).toContainText('Occupied');
    // No reload happened: the switch was applied in place.
    expect(await page.evaluate(() => (window as unknown as { plateauMarker?: number }).plateauMarker)).toBe(1);
    await page.reload();
    await expect(page.getByRole('heading', { level: 1, name: 'Rooms' })).toBeVisible();
    await openMenu(page);
    await page.getByRole('button', { name: 'Français' }).tap();
    await expect(page.getByRole('heading', { level: 1, name: 'Salles' })).toBeVisible();
  });

  test('switches without JavaScript too', async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'fr-FR' });
    await signIn(context);
    const page = await context.newPage();
    await page.goto('/board');
    await expect(page.getByRole('heading', { level: 1, name: 'Tableau' })).toBeVisible();
    await page.locator('.more-menu summary').click();
    await page.getByRole('button', { name: 'English' }).click();
    await expect(page).toHaveURL(/\/board/);
    await expect(page.getByRole('heading', { level: 1, name: 'Board' })).toBeVisible();
    await context.close();
  });
});
