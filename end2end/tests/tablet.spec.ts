import { test, expect } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { TABLETS, waitForHydration } from './helpers';

test.describe('tablet layout and accessibility', () => {
  for (const size of TABLETS) {
    test(`fits ${size.width}x${size.height} with touch targets of 48px or more`, async ({ page }) => {
      await page.setViewportSize(size);
      await page.goto('/');
      await waitForHydration(page);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      const targets = page.locator('header a, header button, .room-card a');
      const count = await targets.count();
      expect(count).toBeGreaterThan(10);
      for (let i = 0; i < count; i++) {
        const box = await targets.nth(i).boundingBox();
        expect(box, `target ${i} is laid out`).not.toBeNull();
        expect(box!.height, `target ${i} height`).toBeGreaterThanOrEqual(48);
        expect(box!.width, `target ${i} width`).toBeGreaterThanOrEqual(48);
      }
    });
  }

  for (const path of ['/', '/board', '/rooms/5', '/lab', '/escort', '/nowhere']) {
    test(`axe finds no serious or critical violation on ${path}`, async ({ page }) => {
      await page.goto(path);
      await waitForHydration(page);
      const results = await new AxeBuilder({ page }).analyze();
      const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
    });
  }
});
