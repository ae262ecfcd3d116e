import { type Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { signIn, waitForHydration, signedInPage } from './helpers';

/** Opens a room's page from the rooms screen. */
async function openRoom(page: Page, code: string) {
  await page.goto('/');
  await waitForHydration(page);
  await page.locator(`.room-card[data-room="${code}"] a`).tap();
  await expect(page.getByRole('heading', { level: 1 })).toContainText(code);
}

/** Chooses the option of a select whose text names `name`. */
async function choose(page: Page, label: string, name: string) {
  const select = page.locator('.team').getByLabel(label, { exact: true });
  const value = await select.locator('option', { hasText: name }).getAttribute('value');
  await select.selectOption(value ?? '');
}

/** Ticks every item of a room's cleaning checklist and attests it. */
async function attestCleaning(page: Page, code: string) {
  await openRoom(page, code);
  const form = page.locator('.cleaning');
  const boxes = form.getByRole('checkbox');
  for (let i = 0; i < (await boxes.count()); i++) await boxes.nth(i).check();
  await form.getByRole('button', { name: 'Nettoyée : rendre disponible' }).tap();
  await expect(page.locator('.room-detail')).toHaveAttribute('data-status', 'U');
}

test.describe('procedure room', () => {
  test('ear irrigation: ordered, roomed, staffed by qualification, positioned, done, room cleaned', async ({ browser }) => {
    // The physician examines Ana Oliveira in E4; the assistant works the back office.
    const physicianContext = await browser.newContext();
    await signIn(physicianContext, 'y.benali');
    const physician = await physicianContext.newPage();
    const { context: assistantContext, page: assistant } = await signedInPage(browser, 'c.fontaine', '/board');
    await expect(assistant.locator('.live-indicator')).toHaveAttribute('data-link', 'live');

    await openRoom(physician, 'E4');
    await expect(physician.locator('.live-indicator')).toHaveAttribute('data-link', 'live');
    const order = physician.locator('.order-form');
    await order.getByLabel('Soin', { exact: true }).selectOption({ label: "Lavage d'oreille" });
    await order.getByLabel('Urgente', { exact: true }).check();
    await order.getByLabel('Note pour le plateau').fill('Bouchon de cérumen gauche');
    await order.getByRole('button', { name: 'Prescrire' }).tap();
    await expect(order.getByText("Prescrit : le plateau l'a reçu.")).toBeVisible();

    // The order reaches the back-office queue on the board without a reload.
    const queued = assistant.locator('.procedure-queue .queue-item[data-kind="ear_irrigation"]');
    await expect(queued).toContainText('OLIVEIRA, Ana');
    await expect(queued).toContainText('Urgente');

    // No procedure room is free: S2 was contaminated. The procedure says so and what
    // frees one, and which room the patient is in; clean S2 first.
    await assistant.locator('.procedure-queue .queue-item[data-kind="ear_irrigation"] a').tap();
    await expect(assistant.locator('.rooming .notice')).toContainText('Aucune salle d’intervention n’est libre');
    await expect(assistant.locator('.procedure-room')).toHaveAttribute('data-room', 'E4');
    await attestCleaning(assistant, 'S2');
    await assistant.goto('/board');
    await waitForHydration(assistant);
    await assistant.locator('.procedure-queue .queue-item[data-kind="ear_irrigation"] a').tap();
    await expect(assistant.getByRole('heading', { level: 1 })).toHaveText("Lavage d'oreille");
    await assistant.getByRole('button', { name: /En S2/ }).tap();
    await expect(assistant.locator('.procedure-head')).toHaveAttribute('data-state', 'roomed');

    // The exam room went to housekeeping, and the physician's tablet shows it at once.
    await expect(physician.locator('.room-detail')).toHaveAttribute('data-status', 'H');
    await expect(physician.locator('.room-detail')).toContainText('Nettoyage');

    // A nurse without the assistant's certification is refused, and told why.
    const team = assistant.locator('.team');
    await choose(assistant, 'Personne', 'Antoine Girard');
    await team.getByLabel('Comme', { exact: true }).selectOption('performer');
    await team.getByRole('button', { name: 'Affecter' }).tap();
    await expect(team.locator('.form-error')).toContainText("n'a pas la certification requise");
    // The certified assistant is accepted.
    await choose(assistant, 'Personne', 'Chloé Fontaine');
    await team.getByLabel('Comme', { exact: true }).selectOption('performer');
    await team.getByRole('button', { name: 'Affecter' }).tap();
    await expect(team.locator('.team-member[data-role="performer"]')).toContainText('Chloé Fontaine');

    // The irrigator in S2 is reserved.
    await assistant.locator('.equipment-item[data-code="IRR-2"]').getByRole('button', { name: 'Réserver' }).tap();
    await expect(assistant.locator('.equipment-item[data-code="IRR-2"]')).toContainText('réservé pour ce soin');

    // Seated, as the catalog says, shoulder blades and heels checked.
    const positioning = assistant.locator('.positioning-form');
    await positioning.locator('.position-choice[data-position="33586001"]').tap();
    await positioning.getByLabel('Omoplates', { exact: true }).check();
    await positioning.getByLabel('Talons', { exact: true }).check();
    await positioning.getByLabel('Oreiller', { exact: true }).check();
    await positioning.getByRole('button', { name: 'Enregistrer la position' }).tap();
    await expect(assistant.locator('.positioning-now')).toHaveAttribute('data-position', '33586001');
    await expect(assistant.locator('.positioning-now')).toContainText('Chloé Fontaine');

    await assistant.getByRole('button', { name: 'Commencer le soin' }).tap();
    await expect(assistant.locator('.procedure-head')).toHaveAttribute('data-state', 'in_progress');
    await assistant.getByRole('button', { name: 'Soin terminé' }).tap();
    await expect(assistant.locator('.procedure-head')).toHaveAttribute('data-state', 'done');

    // The patient has left S2, which waits for cleaning; cleaned, it is available again.
    await openRoom(assistant, 'S2');
    await expect(assistant.locator('.room-detail')).toHaveAttribute('data-status', 'H');
    await attestCleaning(assistant, 'S2');
    await expect(assistant.locator('.last-cleaning')).toContainText('Chloé Fontaine');

    // The irrigator went to sterilisation; back from it, it is ready for the next patient.
    await assistant.goto('/board');
    await waitForHydration(assistant);
    const irrigator = assistant.locator('.equipment-item[data-code="IRR-2"]');
    await expect(irrigator).toHaveAttribute('data-state', 'sterilising');
    await irrigator.getByRole('button', { name: "Prêt à l'emploi" }).tap();
    await expect(irrigator).toHaveAttribute('data-state', 'available');
    await physicianContext.close();
    await assistantContext.close();
  });

  test('a supervised venipuncture: the supervisor attests presence, then co-signs the work', async ({ browser }) => {
    // Julie Morel supervises; Aminata Diallo draws blood without the certification.
    const supervisorContext = await browser.newContext();
    await signIn(supervisorContext, 'j.morel');
    const supervisor = await supervisorContext.newPage();
    const assistantContext = await browser.newContext();
    await signIn(assistantContext, 'a.diallo');
    const assistant = await assistantContext.newPage();

    await supervisor.goto('/board');
    await waitForHydration(supervisor);
    await supervisor.locator('.procedure-queue .queue-item[data-kind="venipuncture"] a').tap();
    await expect(supervisor.getByRole('heading', { level: 1 })).toHaveText('Prise de sang veineuse');
    await supervisor.getByRole('button', { name: /En S2/ }).tap();
    await expect(supervisor.locator('.procedure-head')).toHaveAttribute('data-state', 'roomed');
    const team = supervisor.locator('.team');
    await choose(supervisor, 'Personne', 'Aminata Diallo');
    await team.getByLabel('Comme', { exact: true }).selectOption('performer');
    await team.getByRole('button', { name: 'Affecter' }).tap();
    await expect(team.locator('.team-member[data-role="performer"]')).toContainText('Aminata Diallo');
    await choose(supervisor, 'Personne', 'Julie Morel');
    await team.getByLabel('Comme', { exact: true }).selectOption('supervisor');
    await team.getByRole('button', { name: 'Affecter' }).tap();
    await expect(team.locator('.team-member[data-role="supervisor"]')).toContainText('Présence non confirmée');

    // The assistant cannot start before the supervisor says she is there.
    await assistant.goto(supervisor.url());
    await waitForHydration(assistant);
    await assistant.getByRole('button', { name: 'Commencer le soin' }).tap();
    await expect(assistant.locator('.form-error').first()).toContainText("n'a pas encore confirmé sa présence");

    // The supervision page lists it as awaiting her presence; she attests it.
    await supervisor.goto('/supervision');
    await waitForHydration(supervisor);
    const awaiting = supervisor.locator('ol.queue').first();
    await expect(awaiting).toContainText('Prise de sang veineuse');
    await awaiting.getByRole('link').first().tap();
    await waitForHydration(supervisor);
    await supervisor.getByRole('button', { name: 'Je suis présent(e)' }).tap();
    await expect(team.locator('.team-member[data-role="supervisor"]')).toContainText('Présent');

    await assistant.reload();
    await waitForHydration(assistant);
    await assistant.getByRole('button', { name: 'Commencer le soin' }).tap();
    await expect(assistant.locator('.procedure-head')).toHaveAttribute('data-state', 'in_progress');
    await assistant.getByRole('button', { name: 'Soin terminé' }).tap();
    await expect(assistant.locator('.procedure-head')).toHaveAttribute('data-state', 'done');
    // The performer sees the work awaiting co-signature, and cannot co-sign it herself.
    await expect(assistant.locator('.team-member[data-role="supervisor"]')).toContainText('En attente de contresignature');
    await expect(assistant.getByRole('button', { name: 'Contresigner le soin' })).toHaveCount(0);

    // Done, it awaits her co-signature; she co-signs with a remark.
    await supervisor.goto('/supervision');
    await waitForHydration(supervisor);
    const toCosign = supervisor.locator('ol.queue').last();
    await expect(toCosign).toContainText('Prise de sang veineuse');
    await toCosign.getByRole('link').first().tap();
    await waitForHydration(supervisor);
    await supervisor.getByLabel('Remarque (facultative)').fill('Geste sûr');
    await supervisor.getByRole('button', { name: 'Contresigner le soin' }).tap();
    await expect(supervisor.locator('.team-member[data-role="supervisor"] .cosigned')).toContainText('Contresigné à');
    await expect(supervisor.locator('.team-member[data-role="supervisor"] .cosigned')).toContainText('Geste sûr');
    await supervisor.goto('/supervision');
    await waitForHydration(supervisor);
    await expect(supervisor.getByText('Rien à contresigner.')).toBeVisible();

    // The room she left waits for cleaning, then is made ready for the next patient.
    await attestCleaning(supervisor, 'S2');
    await supervisorContext.close();
    await assistantContext.close();
  });

  test('an administrator adds a procedure to the catalog and physicians can order it', async ({ browser }) => {
    const { context: adminContext, page: admin } = await signedInPage(browser, 'n.faure', '/admin/catalog');
    const form = admin.locator('.kind-form').first();
    await form.getByLabel('Code (minuscules, par ex. lavage_oreille)').fill('holter');
    await form.getByLabel('Nom en français').fill('Pose de holter');
    await form.getByLabel('Nom en anglais').fill('Holter fitting');
    await form.getByLabel('Certification requise').selectOption('ecg');
    await form.getByLabel('Électrocardiographe').check();
    await form.getByLabel('Durée habituelle (minutes)').fill('20');
    await form.getByRole('button', { name: 'Enregistrer' }).tap();
    await expect(admin.locator('.catalog-entry[data-code="holter"]')).toContainText('Pose de holter');
    // A duplicate code is refused, with the field named.
    await form.getByLabel('Code (minuscules, par ex. lavage_oreille)').fill('holter');
    await form.getByLabel('Nom en français').fill('Autre holter');
    await form.getByLabel('Nom en anglais').fill('Other holter');
    await form.getByRole('button', { name: 'Enregistrer' }).tap();
    await expect(admin.locator('.form-error').first()).toContainText('Code');

    const doctorContext = await browser.newContext();
    await signIn(doctorContext, 'c.lefevre');
    const doctor = await doctorContext.newPage();
    await openRoom(doctor, 'E2');
    await expect(doctor.locator('.order-form option', { hasText: 'Pose de holter' })).toHaveCount(1);
    await adminContext.close();
    await doctorContext.close();
  });
});
