import { test, expect } from './fixtures';
import { openMenu, signIn, waitForHydration } from './helpers';

// The server whose screens lock after ten seconds (playwright.config.ts).
const IDLE_SERVER = 'http://127.0.0.1:3101';

test('a supervisor turns a wall screen into a board that never locks and changes nothing', async ({ browser }) => {
  test.setTimeout(60_000);
  const context = await browser.newContext({ baseURL: IDLE_SERVER, viewport: { width: 1920, height: 1080 } });
  await signIn(context, 'j.morel', IDLE_SERVER);
  const page = await context.newPage();
  await page.goto('/board');
  await waitForHydration(page);
  // On her own tablet the supervisor sees names in full.
  await expect(page.locator('.board')).toContainText('DURAND');
  await page.getByRole('button', { name: 'Faire de cet écran un tableau mural' }).tap();

  // The screen is now a wall board: the board alone, shortened, in large type.
  await expect(page.locator('.board.wall-board')).toBeVisible();
  await waitForHydration(page);
  await expect(page.locator('.wall-board-badge')).toHaveText('Tableau mural · installé par Julie Morel');
  await expect(page.locator('.board')).not.toContainText('DURAND');
  await expect(page.locator('.main-nav')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Verrouiller' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Faire de cet écran un tableau mural' })).toHaveCount(0);
  await expect(page.locator('.board button')).toHaveCount(0);
  const width = await page.locator('main').evaluate((main) => main.getBoundingClientRect().width);
  expect(width).toBeGreaterThan(1850);
  const type = await page.locator('.room-code').first().evaluate((code) => parseFloat(getComputedStyle(code).fontSize));
  expect(type).toBeGreaterThan(40);
  // Each room's card says what goes on in it: the equipment kept there, the procedure.
  await expect(page.locator('.room-card[data-room="S1"] .room-equipment')).toContainText('IRR-1');

  // Left alone for longer than the idle time, it still shows the board.
  await page.waitForTimeout(14_000);
  await expect(page.getByRole('heading', { name: 'Écran verrouillé' })).toHaveCount(0);
  await expect(page.locator('.board.wall-board')).toBeVisible();

  // It opens nothing else.
  await page.goto('/account');
  await expect(page.getByRole('heading', { name: 'Accès refusé' })).toBeVisible();
  await page.goto('/board');
  await waitForHydration(page);
  // Leaving wall board mode signs the screen out.
  await openMenu(page);
  await page.getByRole('button', { name: 'Quitter le tableau mural' }).tap();
  await expect(page).toHaveURL(/\/sign-in/);
  await context.close();
});

test('an administrator of an empty clinic sets a wall board up from her account page', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  await signIn(context, 'n.faure');
  const page = await context.newPage();
  await page.goto('/account');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Faire de cet écran un tableau mural' }).tap();
  await expect(page).toHaveURL(/\/board$/);
  await expect(page.locator('.board.wall-board')).toBeVisible();
  await expect(page.locator('.wall-board-badge')).toHaveText('Tableau mural · installé par Nicolas Faure');
  await expect(page.locator('.board')).not.toContainText('DURAND');
  await context.close();
});

test('each room card on the board shows the procedure under way and its staff', async ({ browser }) => {
  const context = await browser.newContext();
  await signIn(context, 'j.morel');
  const page = await context.newPage();
  await page.goto('/board');
  await waitForHydration(page);
  // The demo clinic has three procedures with their patient in a room.
  await expect(page.locator('.under-way .staff-item')).toHaveCount(3);
  await expect(page.locator('.room-card .room-procedure')).toHaveCount(3);
  const suturing = page.locator('.room-card').filter({ has: page.locator('.room-procedure[data-state="in_progress"]') });
  await expect(suturing.filter({ hasText: 'Antoine Girard' })).toHaveCount(1);
  await context.close();
});
