import { test, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { signIn, waitForHydration } from './helpers';

/** Opens a room's page from the rooms screen. */
async function openRoom(page: Page, code: string) {
  await page.goto('/');
  await waitForHydration(page);
  await page.locator(`.room-card[data-room="${code}"] a`).tap();
  await expect(page.getByRole('heading', { level: 1 })).toContainText(code);
}

async function expectNoSeriousAxeViolation(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`)).toEqual([]);
}

test.describe('lab', () => {
  test('a critical potassium: verified in the lab, acknowledged with read-back in the room, seen confirmed', async ({ browser }) => {
    // Antoine Girard cares for Paul Garnier in S1; Inès Chevalier runs the lab.
    const nurseContext = await browser.newContext();
    await signIn(nurseContext, 'a.girard');
    const nurse = await nurseContext.newPage();
    const labContext = await browser.newContext();
    await signIn(labContext, 'i.chevalier');
    const lab = await labContext.newPage();

    await openRoom(nurse, 'S1');
    await expect(nurse.locator('.live-indicator')).toHaveAttribute('data-link', 'live');
    await expect(nurse.locator('.lab-order[data-loinc="2823-3"]')).toHaveAttribute('data-state', 'received');

    // The technician opens the specimen from the worklist and enters the value.
    await lab.goto('/lab');
    await waitForHydration(lab);
    await expect(lab.locator('.live-indicator')).toHaveAttribute('data-link', 'live');
    await lab.locator('.worklist-column[data-state="received"] .work-item', { hasText: 'Potassium' }).getByRole('link').tap();
    await expect(lab.locator('.specimen-head')).toContainText('GARNIER, Paul');
    await expectNoSeriousAxeViolation(lab);
    const bench = lab.locator('.bench-order[data-loinc="2823-3"]');
    // An impossible value is refused with the reason.
    await bench.getByLabel(/Résultat/).fill('42');
    await bench.getByRole('button', { name: 'Saisir' }).tap();
    await expect(bench.locator('.form-error')).toContainText('plausible');
    await bench.getByLabel(/Résultat/).fill('6,8');
    await bench.getByRole('button', { name: 'Saisir' }).tap();
    await expect(bench.locator('.result[data-flag="HH"]')).toContainText('6.8');
    await bench.getByRole('button', { name: 'Valider' }).tap();
    await expect(lab.locator('.bench-order[data-loinc="2823-3"]')).toHaveAttribute('data-state', 'verified');

    // The room's tablet shows the alert without a reload, and the result with its flag.
    const alert = nurse.locator('.critical-banner .critical-alert');
    await expect(alert).toContainText('Potassium 6.8 mmol/L');
    await expect(nurse.locator('.lab-order[data-loinc="2823-3"] .result')).toHaveAttribute('data-flag', 'HH');
    // A misheard value is refused; the right one is recorded.
    await alert.getByLabel('Valeur relue').fill('6,3');
    await alert.getByRole('button', { name: 'Prendre en compte' }).tap();
    await expect(nurse.locator('.form-error').first()).toContainText('Valeur relue');
    await alert.getByLabel('Valeur relue').fill('6,8');
    await alert.getByRole('button', { name: 'Prendre en compte' }).tap();
    await expect(nurse.locator('.critical-banner')).toHaveCount(0);

    // The lab sees it confirmed, live.
    await lab.goto('/lab');
    await waitForHydration(lab);
    const confirmed = lab.locator('.alert-line[data-state="acknowledged"]', { hasText: 'Potassium 6.8' });
    await expect(confirmed).toContainText('Antoine Girard');
    await expect(confirmed).toContainText('Confirmé avec relecture');
    await nurseContext.close();
    await labContext.close();
  });

  test('a test ordered in the exam room, labelled at the bedside once identity is confirmed, received by scanning', async ({ browser }) => {
    const doctorContext = await browser.newContext();
    await signIn(doctorContext, 'c.lefevre');
    const doctor = await doctorContext.newPage();
    await openRoom(doctor, 'E1');
    const order = doctor.locator('.lab-order-form');
    await order.getByLabel('Examen', { exact: true }).selectOption({ label: 'Glycémie capillaire' });
    await order.getByRole('button', { name: "Prescrire l'examen" }).tap();
    await expect(order.getByText('Prescrit : le préleveur le voit déjà.')).toBeVisible();
    await expect(doctor.locator('.lab-order[data-loinc="2339-0"]')).toHaveAttribute('data-state', 'ordered');

    // Élise Durand says her name and a date of birth that is not hers: no label.
    const collect = doctor.locator('.collection-form');
    await collect.getByLabel(/Glycémie capillaire/).check();
    await collect.getByLabel(/Le patient a dit son nom/).check();
    await collect.getByLabel('Date de naissance énoncée').fill('1958-03-15');
    await collect.getByRole('button', { name: 'Confirmer et étiqueter' }).tap();
    await expect(collect.locator('.form-error')).toContainText('ne correspond pas au dossier');
    await collect.getByLabel('Date de naissance énoncée').fill('1958-03-14');
    await collect.getByRole('button', { name: 'Confirmer et étiqueter' }).tap();
    const accession = (await doctor.locator('.label-link .accession').textContent()) ?? '';
    expect(accession).toMatch(/^L\d{10}$/);

    // The label: the barcode, two identifiers, the specimen, who and when.
    await doctor.goto(`/lab/labels/${accession}`);
    await waitForHydration(doctor);
    const label = doctor.locator('.specimen-label');
    await expect(label.locator('svg.barcode rect').nth(5)).toBeAttached();
    await expect(label).toContainText('DURAND, Élise');
    await expect(label).toContainText('14/03/1958');
    await expect(label).toContainText('Sang capillaire');
    await expect(label).toContainText('Camille Lefèvre');
    await expectNoSeriousAxeViolation(doctor);

    // The lab scans the label: the specimen opens, and is received.
    const labContext = await browser.newContext();
    await signIn(labContext, 'i.chevalier');
    const lab = await labContext.newPage();
    await lab.goto('/lab');
    await waitForHydration(lab);
    await lab.getByLabel('Scannez ou tapez un numéro de prélèvement').fill(accession);
    await lab.getByLabel('Scannez ou tapez un numéro de prélèvement').press('Enter');
    await expect(lab.getByRole('heading', { level: 1 })).toHaveText(accession);
    await lab.getByRole('button', { name: 'Réceptionner le prélèvement' }).tap();
    await expect(lab.locator('.specimen-head')).toHaveAttribute('data-state', 'received');
    await expect(doctor.locator('.specimen-label')).toBeVisible();
    await openRoom(doctor, 'E1');
    await expect(doctor.locator('.lab-order[data-loinc="2339-0"]')).toHaveAttribute('data-state', 'received');
    await doctorContext.close();
    await labContext.close();
  });
});
