import { type Page } from '@playwright/test';
import { allowConsoleErrors, test, expect } from './fixtures';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { DEMO_PIN, signIn, waitForHydration, signedInPage, collectConsoleErrors } from './helpers';

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
    // The browser's clock runs as usual, and can be moved on to watch the countdown.
    await nurse.clock.install();
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
    await expect(bench.locator('.result[data-flag="HH"]')).toContainText('6,8');
    await bench.getByRole('button', { name: 'Valider' }).tap();
    await expect(lab.locator('.bench-order[data-loinc="2823-3"]')).toHaveAttribute('data-state', 'verified');

    // The room's tablet shows the alert without a reload, and the result with its flag.
    const alert = nurse.locator('.critical-banner .critical-alert');
    await expect(alert).toContainText('Potassium 6,8 mmol/L');
    await expect(nurse.locator('.lab-order[data-loinc="2823-3"] .result')).toHaveAttribute('data-flag', 'HH');
    // Wherever the nurse has scrolled, the alert is on screen, nothing over it.
    await nurse.mouse.wheel(0, 5000);
    await nurse.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await expect(alert.locator('h3')).toBeInViewport();
    const heading = await alert.locator('h3').boundingBox();
    const topbar = await nurse.locator('.topbar').boundingBox();
    expect(heading!.y).toBeGreaterThanOrEqual(topbar!.y + topbar!.height);
    // Its countdown moves on by itself.
    const countdown = alert.locator('.countdown');
    const before = await countdown.textContent();
    await nurse.clock.fastForward('02:00');
    await expect(countdown).not.toHaveText(before!);

    // Locked, the tablet says a critical value waits, naming nobody.
    await nurse.getByRole('button', { name: 'Verrouiller' }).tap();
    const waiting = nurse.locator('.critical-waiting');
    await expect(waiting).toContainText('1 valeur critique en attente');
    await expect(nurse.locator('body')).not.toContainText('GARNIER');
    await nurse.getByLabel('Code PIN').fill(DEMO_PIN);
    await nurse.getByRole('button', { name: 'Déverrouiller' }).tap();
    await expect(alert).toContainText('Potassium 6,8 mmol/L');

    // The Wi-Fi drops as the nurse acknowledges: the card stays, with what she typed.
    allowConsoleErrors(/ERR_INTERNET_DISCONNECTED|ERR_NETWORK_CHANGED|WebSocket/);
    await nurseContext.setOffline(true);
    await alert.getByLabel('Valeur relue').fill('6,8');
    await alert.getByRole('button', { name: 'Prendre en compte' }).tap();
    await expect(nurse.locator('.critical-banner .form-error').first()).toBeVisible();
    await expect(alert).toBeVisible();
    await expect(alert.getByLabel('Valeur relue')).toHaveValue('6,8');
    await nurseContext.setOffline(false);
    // A misheard value is refused; the right one is recorded.
    await alert.getByLabel('Valeur relue').fill('6,3');
    await alert.getByRole('button', { name: 'Prendre en compte' }).tap();
    await expect(nurse.locator('.form-error').first()).toContainText('Valeur relue');
    await alert.getByLabel('Valeur relue').fill('6,8');
    await alert.getByRole('button', { name: 'Prendre en compte' }).tap();
    await expect(nurse.locator('.critical-banner')).toBeHidden();

    // The lab sees it confirmed, live.
    await lab.goto('/lab');
    await waitForHydration(lab);
    const confirmed = lab.locator('.alert-line[data-state="acknowledged"]', { hasText: 'Potassium 6,8' });
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
    const { context: labContext, page: lab } = await signedInPage(browser, 'i.chevalier', '/lab');
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

  test('the lab packs a send-out with its manifest and follows it to the reference lab', async ({ browser }) => {
    const { context: labContext, page: lab } = await signedInPage(browser, 'i.chevalier', '/lab');
    await lab.getByRole('link', { name: 'Envois au laboratoire de référence' }).tap();
    await expect(lab.getByRole('heading', { level: 1 })).toHaveText('Envois au laboratoire de référence');
    // Samir Haddad's blood count waits; packing nothing is refused.
    const form = lab.locator('.pack-form');
    // Nothing is chosen, not even the reference lab: a tap sends nothing.
    await expect(form.locator('#reference-lab')).toHaveValue('');
    await form.locator('#reference-lab').selectOption({ index: 1 });
    await form.getByRole('button', { name: 'Préparer le colis et son bordereau' }).tap();
    await expect(lab.locator('.form-error').first()).toBeVisible();
    await form.getByLabel(/HADDAD, Samir/).check();
    await form.getByRole('button', { name: 'Préparer le colis et son bordereau' }).tap();
    const manifest = lab.locator('.manifest').first();
    await expect(manifest).toHaveAttribute('data-state', 'packed');
    await expect(manifest).toContainText('HADDAD, Samir');
    await expect(manifest).toContainText('57021-8');
    await manifest.getByRole('button', { name: 'Expédié' }).tap();
    await expect(lab.locator('.manifest').first()).toHaveAttribute('data-state', 'shipped');
    await lab.locator('.manifest').first().getByRole('button', { name: 'Reçu par le laboratoire de référence' }).tap();
    await expect(lab.locator('.manifest').first()).toHaveAttribute('data-state', 'received');
    await expectNoSeriousAxeViolation(lab);
    await labContext.close();
  });

  test('an administrator adds a test to the lab catalog and physicians can order it', async ({ browser }) => {
    const { context: adminContext, page: admin } = await signedInPage(browser, 'n.faure', '/admin/lab-tests');
    const form = admin.locator('.test-form').first();
    // A LOINC code with the wrong check digit is refused on its field.
    await form.getByLabel(/Code LOINC/).fill('17861-5');
    await form.getByLabel('Nom en français').fill('Calcium');
    await form.getByLabel('Nom en anglais').fill('Calcium');
    await form.getByLabel(/^Échantillon/).selectOption('SER');
    await form.getByLabel(/^Unité/).fill('mmol/L');
    await form.getByLabel(/^Décimales/).fill('2');
    await form.getByLabel('Critique à partir de (bas)').fill('1,6');
    await form.getByLabel('Critique à partir de (haut)').fill('3,5');
    await form.getByLabel(/^Valeurs de référence/).fill('any 18 150 2.2 2.6');
    await form.getByRole('button', { name: 'Enregistrer' }).tap();
    await expect(admin.locator('.form-error').first()).toContainText('Code LOINC');
    await form.getByLabel(/Code LOINC/).fill('17861-6');
    await form.getByRole('button', { name: 'Enregistrer' }).tap();
    await expect(admin.locator('.catalog-entry[data-loinc="17861-6"]')).toContainText('Calcium');

    const doctorContext = await browser.newContext();
    await signIn(doctorContext, 'c.lefevre');
    const doctor = await doctorContext.newPage();
    await openRoom(doctor, 'E2');
    await expect(doctor.locator('.lab-order-form option', { hasText: 'Calcium' })).toHaveCount(1);
    await adminContext.close();
    await doctorContext.close();
  });

  test('results a reference lab sent for an order nobody placed are held, and a technician discards them', async ({ browser, request }) => {
    // The reference lab's interface posts its message with its token and no session.
    // Another system's message, sent as the demo reference lab names itself (MSH-4).
    const message = readFileSync(path.resolve(__dirname, '../../app/src/lab/fixtures/ORU-R01-01.hl7'), 'utf8')
      .replace('|IA Public Health Lab^2.16.840.1.114222.4.1.10411^ISO|', '|REFLAB|');
    const answer = await request.post('/hl7/oru', {
      headers: { authorization: 'Bearer demo-reflab-token', 'content-type': 'application/hl7-v2' },
      data: message,
    });
    expect(answer.status()).toBe(200);
    expect(await answer.text()).toContain('MSA|AE|');

    const { context: labContext, page: lab } = await signedInPage(browser, 'i.chevalier', '/lab');
    const held = lab.locator('.quarantine .held');
    const before = await held.count();
    expect(before).toBeGreaterThan(0);
    await expect(held.first()).toContainText('Aucune prescription ne porte ce numéro');
    await expect(held.first()).toContainText('Finn, Huckleberry');
    // Attaching needs the patient checked; discarding needs a reason.
    await held.first().getByRole('button', { name: 'Écarter' }).tap();
    await expect(held).toHaveCount(before);
    await held.first().getByLabel("Motif de l'écart").fill('Patient inconnu de la clinique');
    await held.first().getByRole('button', { name: 'Écarter' }).tap();
    await expect(held).toHaveCount(before - 1);
    await expect(lab.getByText('Traité : enregistré à votre nom.')).toBeVisible();
    await labContext.close();
  });

  test('a technician compares a held result with the order, both identities side by side, and a second person confirms', async ({ browser, request }) => {
    // The reference lab answers Élise Durand's hemogram, sent out this morning, but names
    // "Elisa", born on another day.
    const message = [
      'MSH|^~\\&|LIS|REFLAB|PLATEAU|TILLEULS|20261202091000+0100||ORU^R01^ORU_R01|E2E-HELD-1|P|2.5.1',
      'PID|1||LAB-5512^^^REFLAB^PI||DURAND^ELISA||19580413|F',
      'OBR|1|PL-DEMO-0001||24317-0^Hemogram and platelet count^LN',
      'OBX|1|NM|718-7^Hemoglobin^LN||13.1|g/dL|12.0-16.0|N|||F',
      'NTE|1||Échantillon légèrement hémolysé',
    ].join('\r');
    const answer = await request.post('/hl7/oru', {
      headers: { authorization: 'Bearer demo-reflab-token', 'content-type': 'application/hl7-v2' },
      data: message,
    });
    expect(await answer.text()).toContain('patient_mismatch');

    const { context: first, page: lab } = await signedInPage(browser, 'i.chevalier', '/lab');
    const errors = collectConsoleErrors(lab);
    const held = lab.locator('.quarantine .held', { hasText: 'ELISA' });
    await expect(held).toHaveCount(1);
    await expect(held).toContainText("Le patient du message n'est pas celui de la prescription");
    await held.getByLabel('Rattacher à la prescription (numéro)').fill('PL-DEMO-0001');
    await held.getByRole('button', { name: 'Comparer' }).tap();
    await waitForHydration(lab);
    const comparison = lab.locator('.held-comparison');
    await expect(comparison.locator('.message-identity')).toContainText('DURAND ELISA');
    await expect(comparison.locator('.message-identity')).toContainText('13/04/1958');
    await expect(comparison.locator('.order-identity')).toContainText('DURAND Élise');
    await expect(comparison.locator('.order-identity')).toContainText('14/03/1958');
    await expect(comparison.getByText("Pas le même patient, d'après Plateau.")).toBeVisible();
    // Another patient than the message names: a reason, and someone else confirms.
    await comparison.getByLabel('Pourquoi ces résultats sont ceux de cette prescription').fill('Date de naissance inversée par le laboratoire, confirmé par téléphone');
    await comparison.getByLabel("J'ai vérifié que le patient est celui de la prescription").check();
    await comparison.getByRole('button', { name: "Demander la confirmation d'une deuxième personne" }).tap();
    await expect(lab.locator('.attach-request[data-mine="true"]')).toContainText('Inès Chevalier a demandé');
    await expect(lab.locator('.held-comparison button', { hasText: 'Confirmer et rattacher' })).toHaveCount(0);
    expect(errors).toEqual([]);
    await first.close();

    const { context: second, page: colleague } = await signedInPage(browser, 'm.perrin', '/lab');
    const request_ = colleague.locator('.attach-request', { hasText: 'Inès Chevalier' });
    await expect(request_).toContainText('Date de naissance inversée');
    await request_.getByRole('link', { name: 'Comparer' }).tap();
    await waitForHydration(colleague);
    const seen = colleague.locator('.held-comparison');
    await expect(seen.locator('.message-identity')).toContainText('DURAND ELISA');
    await expect(seen.locator('.order-identity')).toContainText('DURAND Élise');
    await seen.getByRole('button', { name: 'Confirmer et rattacher' }).tap();
    await expect(colleague.getByText('Traité : enregistré à votre nom.')).toBeVisible();
    await expect(colleague.locator('.quarantine .held', { hasText: 'ELISA' })).toHaveCount(0);
    await second.close();

    // In the exam room, the result shows with the lab's note and who reported it.
    const { context: doctor, page: room } = await signedInPage(browser, 'c.lefevre', '/');
    await openRoom(room, 'E1');
    const result = room.locator('.lab-order[data-loinc="24317-0"] .result', { hasText: 'Hémoglobine' });
    await expect(result).toContainText('13,1 g/dL');
    await expect(result).toContainText('rendu par Laboratoire de référence (démo)');
    await expect(result).toContainText('Échantillon légèrement hémolysé');
    await doctor.close();
  });

  test('a control id a lab sends twice with other content is kept, and a technician marks it reviewed', async ({ browser, request }) => {
    // The lab's counter was reset: two different messages under one control id.
    const message = (value: string) => [
      'MSH|^~\\&|LIS|REFLAB|PLATEAU|TILLEULS|20261202091000+0100||ORU^R01^ORU_R01|E2E-REUSED-1|P|2.5.1',
      'PID|1||DEMO-0001^^^TILLEULS^MR||DURAND^ELISE||19580314|F',
      'OBR|1|PL-E2E-LOST||24317-0^Hemogram and platelet count^LN',
      `OBX|1|NM|718-7^Hemoglobin^LN||${value}|g/dL|||||F`,
    ].join('\r');
    for (const value of ['12.8', '14.1']) {
      const answer = await request.post('/hl7/oru', {
        headers: { authorization: 'Bearer demo-reflab-token', 'content-type': 'application/hl7-v2' },
        data: message(value),
      });
      expect(answer.status()).toBe(200);
    }
    const { context, page: lab } = await signedInPage(browser, 'i.chevalier', '/lab');
    const errors = collectConsoleErrors(lab);
    const reused = lab.locator('.reused .reused-control-id', { hasText: 'E2E-REUSED-1' });
    await expect(reused).toHaveCount(1);
    await expect(reused).toContainText('1 message(s) antérieur(s)');
    await reused.getByRole('button', { name: 'Vérifié' }).tap();
    await expect(reused).toHaveCount(0);
    await expect(lab.getByText('Traité : enregistré à votre nom.')).toBeVisible();
    expect(errors).toEqual([]);
    await context.close();
  });
});
