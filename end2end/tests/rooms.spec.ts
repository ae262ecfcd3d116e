import { test, expect } from './fixtures';
import { signIn, waitForHydration } from './helpers';

test.describe('rooms screen', () => {
  // A supervisor sees every screen and every patient.
  test.beforeEach(async ({ context }) => signIn(context));

  test('renders every room with its status and patient without JavaScript', async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'en-US' });
    await signIn(context);
    const page = await context.newPage();
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1, name: 'Rooms' })).toBeVisible();
    const rooms = page.locator('.room-card');
    await expect(rooms).toHaveCount(9);
    const e1 = page.locator('.room-card[data-room="E1"]');
    await expect(e1).toContainText('Occupied');
    await expect(e1).toContainText('DURAND, Élise');
    await expect(e1).toContainText('DEMO-0001');
    await expect(page.locator('.room-card[data-room="E3"]')).toContainText('Housekeeping');
    await expect(page.locator('.room-card[data-room="S2"]')).toContainText('Contaminated');
    await expect(page.locator('.room-card[data-room="LAB"]')).toContainText('No patient');
    await context.close();
  });

  test('hydrates, then opens a room and the board without reloading the page', async ({ page }) => {
    await page.goto('/');
    await waitForHydration(page);
    await expect(page.getByRole('heading', { level: 1, name: 'Salles' })).toBeVisible();
    // A marker on window survives only client-side navigation.
    await page.evaluate(() => ((window as unknown as { plateauMarker: number }).plateauMarker = 1));
    await page.locator('.room-card[data-room="S1"] a').tap();
    await expect(page).toHaveURL(/\/rooms\/\d+$/);
    await expect(page.getByRole('heading', { level: 1 })).toContainText('S1 · Soins 1');
    await expect(page.getByText('Motif de la visite')).toBeVisible();
    await page.getByRole('link', { name: 'Tableau' }).tap();
    await expect(page).toHaveURL(/\/board$/);
    await expect(page.getByRole('heading', { name: 'En attente', exact: true })).toBeVisible();
    // The back-office queue: the STAT capillary sample first.
    await expect(page.locator('.procedure-queue .queue-item').first()).toContainText('BERTRAND, Nina');
    await expect(page.locator('.procedure-queue .queue-item').first()).toContainText('Immédiate');
    await expect(page.getByRole('link', { name: 'Tableau' })).toHaveAttribute('aria-current', 'page');
    const marker = await page.evaluate(() => (window as unknown as { plateauMarker?: number }).plateauMarker);
    expect(marker).toBe(1);
  });

  test('an unknown address shows a translated page that leads back', async ({ page }) => {
    const response = await page.goto('/nowhere');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Page introuvable' })).toBeVisible();
    await waitForHydration(page);
    await page.getByRole('link', { name: 'Aller aux salles' }).tap();
    await expect(page.locator('.room-card')).toHaveCount(9);
  });
});
