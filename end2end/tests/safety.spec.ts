import { test, expect } from './fixtures';
import { signIn, signedInPage, waitForHydration } from './helpers';

// Safe and quick on the tablet (issue 16). These journeys change the demo clinic: they
// run after the lab's.

test.describe('safety', () => {
  test('an order needs a choice, and a double tap orders once', async ({ browser }) => {
    const { context, page } = await signedInPage(browser, 'c.lefevre', '/');
    await page.locator('.room-card[data-room="E1"] a').tap();
    await waitForHydration(page);
    const order = page.locator('.order-form');
    const kind = order.getByLabel('Soin', { exact: true });
    // Nothing is preselected: a tap orders nothing.
    await expect(kind).toHaveValue('');
    const queued = async () => {
      const response = await context.request.post('/api/procedure_queue', {
        headers: { origin: 'http://127.0.0.1:3100', accept: 'application/json' },
      });
      const snapshot = await response.json();
      return snapshot.queue.length as number;
    };
    const before = await queued();
    await order.getByRole('button', { name: 'Prescrire' }).tap();
    expect(await queued()).toBe(before);
    // Chosen, then tapped twice in a row: one order, and the form is empty again.
    await kind.selectOption({ label: 'Électrocardiogramme' });
    const submit = order.getByRole('button', { name: 'Prescrire' });
    await Promise.all([submit.tap(), submit.tap()]);
    await expect(order.getByText("Prescrit : le plateau l'a reçu.")).toBeVisible();
    await expect(kind).toHaveValue('');
    await expect.poll(queued).toBe(before + 1);
    await page.waitForTimeout(500);
    expect(await queued()).toBe(before + 1);
    await context.close();
  });

  test('the front desk sees the rooms and the board shortened', async ({ browser }) => {
    const { context, page } = await signedInPage(browser, 's.lambert', '/');
    await expect(page.locator('.room-card[data-room="E1"]')).toContainText('DU. É.');
    await expect(page.locator('main')).not.toContainText('DURAND');
    await page.goto('/board');
    await waitForHydration(page);
    await expect(page.locator('main')).not.toContainText('DURAND');
    await expect(page.locator('.short-identity').first()).toBeVisible();
    await context.close();
  });

  test('a phlebotomist opens a queued procedure she may take, and sees where the patient is', async ({ browser }) => {
    const { context, page } = await signedInPage(browser, 'h.mercier', '/board');
    const item = page.locator('.procedure-queue .queue-item').first();
    await item.locator('a').tap();
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expect(page.locator('.procedure-head')).toBeVisible();
    await expect(page.locator('.restricted-patient')).toHaveCount(0);
    await expect(page.locator('.procedure-room')).toBeVisible();
    await context.close();
  });

  test('printing the label and the manifest opens the print dialog', async ({ browser }) => {
    const { context, page } = await signedInPage(browser, 'i.chevalier', '/lab/send-outs');
    await page.addInitScript(() => {
      (window as unknown as { printed: number }).printed = 0;
      window.print = () => {
        (window as unknown as { printed: number }).printed += 1;
      };
    });
    await page.reload();
    await waitForHydration(page);
    await page.getByRole('button', { name: 'Imprimer le bordereau' }).first().tap();
    expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
    const worklist = await (
      await context.request.post('/api/lab_worklist', {
        headers: { origin: 'http://127.0.0.1:3100', accept: 'application/json' },
      })
    ).json();
    const accession = JSON.stringify(worklist).match(/"accession":"([^"]+)"/)![1];
    await page.goto(`/lab/labels/${accession}`);
    await waitForHydration(page);
    await page.getByRole('button', { name: "Imprimer l'étiquette" }).tap();
    expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
    await context.close();
  });

  test('everyone sets their own shift from their account', async ({ browser }) => {
    const { context, page } = await signedInPage(browser, 'h.mercier', '/account');
    const mine = page.locator('.my-presence');
    await page.getByRole('button', { name: 'Prendre une pause' }).tap();
    await expect(mine).toHaveAttribute('data-presence', 'break');
    await page.getByRole('button', { name: 'Prendre ou reprendre mon service' }).tap();
    await expect(mine).toHaveAttribute('data-presence', 'on_shift');
    // On a supervisor's page, other people's rows speak of them, not of "me".
    await context.close();
    const supervisor = await signedInPage(browser, 'j.morel', '/supervision');
    const row = supervisor.page.locator('tr', { hasText: 'Hugo Mercier' });
    await expect(row.getByRole('button', { name: 'Mettre en pause' })).toBeVisible();
    await expect(row.getByText('mon service')).toHaveCount(0);
    await supervisor.context.close();
  });

  test('the top bar takes one line, and focus follows navigation', async ({ browser }) => {
    const { context, page } = await signedInPage(browser, 'j.morel', '/');
    const bar = await page.locator('.topbar').boundingBox();
    expect(bar!.height).toBeLessThanOrEqual(0.1 * 768);
    await page.locator('.main-nav').getByRole('link', { name: 'Tableau' }).tap();
    await expect(page.getByRole('heading', { level: 1, name: 'Tableau' })).toBeVisible();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await context.close();
  });
});

test('a locked tablet says nothing of patients, and signing in again is possible', async ({ browser }) => {
  const context = await browser.newContext();
  await signIn(context, 'a.girard');
  const page = await context.newPage();
  await page.goto('/');
  await waitForHydration(page);
  await page.getByRole('button', { name: 'Verrouiller' }).tap();
  await expect(page.getByRole('heading', { name: 'Écran verrouillé' })).toBeVisible();
  await expect(page.locator('.main-nav')).toHaveCount(0);
  await context.close();
});
