import { type Browser, type Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { signIn, waitForHydration } from './helpers';

/** Opens the rooms screen and waits until its live link is up. */
async function roomsScreen(page: Page) {
  await page.goto('/');
  await waitForHydration(page);
  await expect(page.locator('.live-indicator')).toHaveAttribute('data-link', 'live');
  // A marker on window survives only if the page is never reloaded.
  await page.evaluate(() => ((window as unknown as { plateauMarker: number }).plateauMarker = 1));
}

async function notReloaded(page: Page) {
  const marker = await page.evaluate(() => (window as unknown as { plateauMarker?: number }).plateauMarker);
  expect(marker).toBe(1);
}

/** A tablet without JavaScript (it cannot follow the live link) on the LAB room, available. */
async function labRoomWithoutScript(browser: Browser, username: string) {
  const context = await browser.newContext({ javaScriptEnabled: false });
  await signIn(context, username);
  const page = await context.newPage();
  await page.goto('/');
  await page.locator('.room-card[data-room="LAB"] a').click();
  await expect(page.locator('.room-detail')).toHaveAttribute('data-status', 'U');
  return { context, page };
}

/** On a tablet: opens the LAB room and taps the button for `label`. */
async function changeLabRoom(page: Page, label: string) {
  await page.goto('/');
  await waitForHydration(page);
  await page.locator('.room-card[data-room="LAB"] a').tap();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('LAB');
  await page.getByRole('button', { name: label }).tap();
}

test.describe('live rooms', () => {
  test('a room closed on one tablet shows closed on another at once, without reloading', async ({ browser }) => {
    // The front desk watches the rooms; a nurse works on a tablet in the corridor.
    const desk = await browser.newContext();
    await signIn(desk, 's.lambert');
    const watcher = await desk.newPage();
    await roomsScreen(watcher);
    await expect(watcher.locator('.live-indicator .live-state')).toHaveText('En direct');
    await expect(watcher.locator('.live-indicator .live-updated')).toContainText('à jour à');
    await expect(watcher.locator('.room-card[data-room="LAB"]')).toHaveAttribute('data-status', 'U');

    const ward = await browser.newContext();
    await signIn(ward, 'a.girard');
    const tablet = await ward.newPage();
    await changeLabRoom(tablet, 'Fermer la salle');
    await expect(tablet.locator('.room-detail')).toHaveAttribute('data-status', 'C');

    const lab = watcher.locator('.room-card[data-room="LAB"]');
    await expect(lab).toHaveAttribute('data-status', 'C');
    await expect(lab).toContainText('Fermée');

    // The board on a third screen follows too.
    const wall = await desk.newPage();
    await wall.goto('/board');
    await waitForHydration(wall);
    await expect(wall.locator('.room-card[data-room="LAB"]')).toHaveAttribute('data-status', 'C');

    // And back: the room reopens for everyone.
    await tablet.getByRole('button', { name: 'Rouvrir la salle' }).tap();
    await expect(tablet.locator('.room-detail')).toHaveAttribute('data-status', 'U');
    await expect(lab).toHaveAttribute('data-status', 'U');
    await expect(wall.locator('.room-card[data-room="LAB"]')).toHaveAttribute('data-status', 'U');
    await notReloaded(watcher);
    await desk.close();
    await ward.close();
  });

  test('a tablet that loses the network says so, then catches up with what it missed', async ({ browser }) => {
    const desk = await browser.newContext();
    await signIn(desk, 's.lambert');
    const watcher = await desk.newPage();
    await roomsScreen(watcher);

    await desk.setOffline(true);
    await expect(watcher.locator('.live-indicator')).toHaveAttribute('data-link', 'offline');
    await expect(watcher.locator('.live-indicator .live-state')).toHaveText('Hors ligne');

    // Meanwhile a nurse reports the lab room contaminated.
    const ward = await browser.newContext();
    await signIn(ward, 'a.girard');
    const tablet = await ward.newPage();
    await changeLabRoom(tablet, 'Signaler contaminée');
    await expect(tablet.locator('.room-detail')).toHaveAttribute('data-status', 'K');

    await desk.setOffline(false);
    await expect(watcher.locator('.live-indicator')).toHaveAttribute('data-link', 'live');
    await expect(watcher.locator('.room-card[data-room="LAB"]')).toHaveAttribute('data-status', 'K');
    await notReloaded(watcher);

    // Leave the room as the other journeys expect it: cleaned, with its checklist.
    const cleaning = tablet.locator('.cleaning');
    const boxes = cleaning.getByRole('checkbox');
    for (let i = 0; i < (await boxes.count()); i++) await boxes.nth(i).check();
    await cleaning.getByRole('button', { name: 'Nettoyée : rendre disponible' }).tap();
    await expect(tablet.locator('.room-detail')).toHaveAttribute('data-status', 'U');
    await expect(watcher.locator('.room-card[data-room="LAB"]')).toHaveAttribute('data-status', 'U');
    await desk.close();
    await ward.close();
  });

  test('a change refused because someone else acted first says so', async ({ browser }) => {
    // A tablet that cannot follow the link (here: no script) still shows the room as
    // available when a colleague closes it; its own tap is refused, and it is told why.
    const { context: stale, page: late } = await labRoomWithoutScript(browser, 'a.diallo');

    const ward = await browser.newContext();
    await signIn(ward, 'a.girard');
    const first = await ward.newPage();
    await changeLabRoom(first, 'Fermer la salle');
    await expect(first.locator('.room-detail')).toHaveAttribute('data-status', 'C');

    await late.getByRole('button', { name: 'Fermer la salle' }).click();
    await expect(late.getByRole('alert')).toContainText('Quelqu’un a modifié ceci au même moment');
    await expect(late.locator('.room-detail')).toHaveAttribute('data-status', 'C');

    await first.getByRole('button', { name: 'Rouvrir la salle' }).tap();
    await expect(first.locator('.room-detail')).toHaveAttribute('data-status', 'U');
    await stale.close();
    await ward.close();
  });
});

test('without JavaScript, the status buttons are plain forms that come back to the room', async ({ browser }) => {
  const { context, page } = await labRoomWithoutScript(browser, 'a.girard');
  // Without a script the page cannot follow the link, and says so.
  await expect(page.locator('.live-indicator .live-state')).toHaveText('Tel que chargé');
  await page.getByRole('button', { name: 'Fermer la salle' }).click();
  await expect(page).toHaveURL(/\/rooms\/\d+/);
  await expect(page.locator('.room-detail')).toHaveAttribute('data-status', 'C');
  await page.getByRole('button', { name: 'Rouvrir la salle' }).click();
  await expect(page.locator('.room-detail')).toHaveAttribute('data-status', 'U');
  await context.close();
});
