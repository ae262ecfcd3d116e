import { test, expect } from './fixtures';
import AxeBuilder from '@axe-core/playwright';
import { openMenu, signIn, TABLETS, waitForHydration } from './helpers';

test.describe('tablet layout and accessibility', () => {
  // A supervisor sees every screen and every patient.
  test.beforeEach(async ({ context }) => signIn(context));

  for (const size of TABLETS) {
    test(`fits ${size.width}x${size.height} with touch targets of 48px or more`, async ({ page }) => {
      await page.setViewportSize(size);
      await page.goto('/');
      await waitForHydration(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      // The top bar is one line whatever the size.
      const bar = await page.locator('.topbar').boundingBox();
      expect(bar!.height).toBeLessThanOrEqual(64);
      const targetsOf = async (selector: string, least: number) => {
        const targets = page.locator(selector);
        const count = await targets.count();
        expect(count).toBeGreaterThan(least);
        for (let i = 0; i < count; i++) {
          const box = await targets.nth(i).boundingBox();
          expect(box, `${selector} target ${i} is laid out`).not.toBeNull();
          expect(box!.height, `${selector} target ${i} height`).toBeGreaterThanOrEqual(48);
          expect(box!.width, `${selector} target ${i} width`).toBeGreaterThanOrEqual(48);
        }
      };
      await targetsOf('header a:visible, header button:visible, header summary, .room-card a', 10);
      // And what the menu holds, once open.
      await openMenu(page);
      await targetsOf('.more-menu-panel a, .more-menu-panel button', 2);
    });
  }

  const pages: [string, string][] = [
    ['/', 'j.morel'],
    ['/board', 'j.morel'],
    ['/rooms/5', 'j.morel'],
    // A procedure in progress (the demo's laceration repair in S1), and an exam room
    // with the physician's order form.
    ['/procedures/1', 'j.morel'],
    ['/rooms/1', 'c.lefevre'],
    ['/supervision', 'j.morel'],
    ['/lab', 'j.morel'],
    ['/lab/send-outs', 'i.chevalier'],
    ['/lab/turnaround', 'i.chevalier'],
    ['/admin/lab-tests', 'n.faure'],
    ['/escort', 'j.morel'],
    ['/nowhere', 'j.morel'],
    ['/account', 'j.morel'],
    ['/break-glass', 'j.morel'],
    ['/admin/accounts', 'n.faure'],
    ['/admin/accounts/1', 'n.faure'],
    ['/admin/accounts/new', 'n.faure'],
    ['/admin/audit', 'n.faure'],
    ['/admin/catalog', 'n.faure'],
  ];
  for (const [path, user] of pages) {
    test(`axe finds no serious or critical violation on ${path}`, async ({ page, context }) => {
      await signIn(context, user);
      await page.goto(path);
      await waitForHydration(page);
      const results = await new AxeBuilder({ page }).analyze();
      const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
    });
  }

  test('axe finds no serious or critical violation on the sign-in and lock screens', async ({ browser }) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto('/sign-in');
    await waitForHydration(page);
    let results = await new AxeBuilder({ page }).analyze();
    const serious = (r: typeof results) =>
      r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id);
    expect(serious(results)).toEqual([]);
    await signIn(context, 'a.diallo');
    await page.goto('/');
    await waitForHydration(page);
    await page.getByRole('button', { name: 'Verrouiller' }).tap();
    await expect(page.getByRole('heading', { name: 'Écran verrouillé' })).toBeVisible();
    results = await new AxeBuilder({ page }).analyze();
    expect(serious(results)).toEqual([]);
    await context.close();
  });
});
