import { test, expect, type Page } from '@playwright/test';
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

    // Leave the room as the other journeys expect it.
    await tablet.getByRole('button', { name: 'Nettoyée : disponible' }).tap();
    await expect(tablet.locator('.room-detail')).toHaveAttribute('data-status', 'U');
    await expect(watcher.locator('.room-card[data-room="LAB"]')).toHaveAttribute('data-status', 'U');
    await desk.close();
    await ward.close();
  });

  test('a change refused because someone else acted first says so', async ({ browser }) => {
    const one = await browser.newContext();
    await signIn(one, 'a.girard');
    const first = await one.newPage();
    const two = await browser.newContext();
    await signIn(two, 'a.diallo');
    const second = await two.newPage();
    for (const page of [first, second]) {
      await page.goto('/');
      await waitForHydration(page);
      await page.locator('.room-card[data-room="LAB"] a').tap();
      await expect(page.locator('.room-detail')).toHaveAttribute('data-status', 'U');
    }
    // Both see "available"; the first closes it. The second tablet updates by itself, so
    // to race we post the stale form directly, as a tablet that missed the update would.
    await first.getByRole('button', { name: 'Fermer la salle' }).tap();
    await expect(first.locator('.room-detail')).toHaveAttribute('data-status', 'C');
    await expect(second.locator('.room-detail')).toHaveAttribute('data-status', 'C');
    const room = first.url().split('/').pop() ?? '';
    const stale = await two.request.post('/api/room_status', {
      form: { room_id: room, from: 'U', to: 'C' },
      headers: { origin: 'http://127.0.0.1:3100', accept: 'application/json' },
    });
    expect(stale.status()).toBe(409);
    await first.getByRole('button', { name: 'Rouvrir la salle' }).tap();
    await expect(second.locator('.room-detail')).toHaveAttribute('data-status', 'U');
    await one.close();
    await two.close();
  });
});
