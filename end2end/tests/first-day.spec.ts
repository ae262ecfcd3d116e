import { type BrowserContext, type Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { waitForHydration } from './helpers';
import { emptyPort, EMPTY_CLINIC_PASSWORD } from '../playwright.config';

// A clinic on its first day, without the demo: the administrator sets up the clinic, a
// room, an item of equipment and a reference lab; the front desk finds nobody, registers
// a patient and checks them in, and the physician's board shows them waiting at once;
// the physician calls them in from the waiting room, the desk sends them home. Every
// screen but the board is a server page: plain HTML forms, no WebAssembly.
const base = `http://127.0.0.1:${emptyPort}`;

async function signedIn(context: BrowserContext, username: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${base}/sign-in`);
  await waitForHydration(page);
  await page.getByLabel(/Identifiant|Username/).fill(username);
  await page.getByLabel(/Mot de passe|Password/).fill(EMPTY_CLINIC_PASSWORD);
  await page.getByRole('button', { name: /Se connecter|Sign in/ }).click();
  await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
  return page;
}

/** Fails the journey if a server page downloads any WebAssembly. */
function noWebAssembly(page: Page): string[] {
  const fetched: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.endsWith('.wasm') && /^\/(desk|patients|waiting-room|follow-ups|setup)/.test(new URL(page.url()).pathname)) {
      fetched.push(`${page.url()} -> ${url.pathname}`);
    }
  });
  return fetched;
}

test('a clinic on its first day sets itself up, registers, checks in, calls and discharges a patient', async ({ browser }) => {
  // A whole first day: the set-up pages, the desk, two tablets.
  test.setTimeout(120_000);
  // The administrator adds the first exam room; a wrong code is refused and the name typed stays.
  const admin = await browser.newContext();
  const adminPage = await signedIn(admin, 'admin');
  const adminWasm = noWebAssembly(adminPage);
  await adminPage.goto(`${base}/setup/rooms`);
  await expect(adminPage.getByText('Aucune salle : ajoutez la première.')).toBeVisible();
  const addForm = adminPage.locator('form.room-form').last();
  await addForm.getByLabel('Code').fill('e x');
  await addForm.getByLabel('Nom').fill('Examen 1');
  await addForm.getByRole('button', { name: 'Ajouter' }).click();
  await expect(adminPage.getByRole('alert').first()).toBeVisible();
  const retry = adminPage.locator('form.room-form').last();
  await expect(retry.getByLabel('Nom')).toHaveValue('Examen 1');
  await retry.getByLabel('Code').fill('EX1');
  await retry.getByRole('button', { name: 'Ajouter' }).click();
  await expect(adminPage.locator('form.room-form').first().getByLabel('Code')).toHaveValue('EX1');

  // The clinic itself: a FINESS number that is none is refused, then its own is kept.
  await adminPage.getByRole('link', { name: 'Établissement', exact: true }).click();
  await adminPage.getByLabel('Numéro FINESS').fill('12345');
  await adminPage.getByRole('button', { name: 'Enregistrer' }).click();
  await expect(adminPage.getByRole('alert').first()).toBeVisible();
  await adminPage.getByLabel('Numéro FINESS').fill('750000523');
  await adminPage.getByRole('button', { name: 'Enregistrer' }).click();
  await expect(adminPage.getByText('Enregistré.')).toBeVisible();
  await expect(adminPage.getByLabel('Numéro FINESS')).toHaveValue('750000523');

  // An ultrasound kept in the exam room.
  await adminPage.getByRole('link', { name: 'Équipement', exact: true }).click();
  await adminPage.getByLabel('Code (étiquette)').fill('ECHO-1');
  await adminPage.getByLabel('Nom', { exact: true }).fill('Échographe portable');
  await adminPage.locator('select[name="kind"]').selectOption('ultrasound');
  await adminPage.getByLabel('Rangé en salle').selectOption({ label: 'EX1 · Examen 1' });
  await adminPage.getByRole('button', { name: 'Ajouter' }).click();
  await expect(adminPage.locator('form.room-form').first().getByLabel('Code (étiquette)')).toHaveValue('ECHO-1');

  // The reference lab: its interface token is shown once, then only that it is active.
  await adminPage.getByRole('link', { name: 'Laboratoires et accueil', exact: true }).click();
  const labForm = adminPage.locator('form.room-form').last();
  await labForm.locator('input[name="code"]').fill('BIO-REF');
  await labForm.getByLabel('Nom', { exact: true }).fill('Biologie de référence');
  await labForm.getByRole('button', { name: 'Ajouter' }).click();
  const token = (await adminPage.locator('code.token').textContent()) ?? '';
  expect(token.length).toBeGreaterThan(40);
  await adminPage.getByRole('link', { name: 'Retour aux interfaces' }).click();
  await expect(adminPage.getByText(/HTTP : jeton actif/)).toBeVisible();
  await expect(adminPage.locator('body')).not.toContainText(token);
  expect(adminWasm).toEqual([]);
  await admin.close();

  // The front desk lands on the desk and registers a patient with an allergy.
  const desk = await browser.newContext();
  const deskPage = await signedIn(desk, 'accueil');
  const deskWasm = noWebAssembly(deskPage);
  await expect(deskPage).toHaveURL(`${base}/desk`);
  await deskPage.getByLabel('Rechercher un patient').fill('Œuvray');
  await deskPage.getByRole('button', { name: 'Rechercher', exact: true }).click();
  await expect(deskPage.getByText('Aucun patient ne correspond.')).toBeVisible();
  await deskPage.getByRole('link', { name: 'Enregistrer un patient' }).click();
  await deskPage.getByLabel('Nom d’usage').fill('Œuvray');
  await deskPage.getByLabel('Prénom').fill('Léa');
  await deskPage.getByLabel('Date de naissance').fill('1990-02-03');
  await deskPage.getByLabel('Sexe').selectOption('female');
  await deskPage.getByLabel('Langue parlée').fill('fr');
  await deskPage.getByLabel('Allergies ci-dessous').check();
  await deskPage.getByLabel('Substance').first().fill('Pénicilline');
  await deskPage.getByRole('button', { name: 'Enregistrer', exact: true }).click();
  await expect(deskPage.getByRole('heading', { name: 'Œuvray Léa' })).toBeVisible();
  await expect(deskPage.getByText('Pénicilline')).toBeVisible();
  const patientPage = deskPage.url();

  // The same person again: the desk is shown the record it already has.
  await deskPage.goto(`${base}/desk/register`);
  await deskPage.getByLabel('Nom d’usage').fill('Oeuvray');
  await deskPage.getByLabel('Prénom').fill('Lea');
  await deskPage.getByLabel('Date de naissance').fill('1990-02-03');
  await deskPage.getByLabel('Sexe').selectOption('female');
  await deskPage.getByLabel('Langue parlée').fill('fr');
  await deskPage.getByRole('button', { name: 'Enregistrer', exact: true }).click();
  await expect(deskPage.getByText('Ce patient est peut-être déjà enregistré')).toBeVisible();
  await deskPage.getByRole('link', { name: /Œuvray Léa/ }).click();
  expect(deskPage.url()).toBe(patientPage);

  // The physician's board, on another tablet, is open before the patient arrives.
  const doctor = await browser.newContext();
  const doctorPage = await signedIn(doctor, 'docteur');
  await doctorPage.goto(`${base}/board`);
  await waitForHydration(doctorPage);
  await expect(doctorPage.getByText('Personne n’attend.')).toBeVisible();

  // Checked in, with the physician as attending.
  await deskPage.getByLabel('Motif de venue').fill('Plaie de la main');
  await deskPage.getByLabel('Médecin référent').selectOption({ label: 'docteur Premier' });
  await deskPage.getByRole('button', { name: 'Enregistrer l’arrivée' }).click();
  await expect(deskPage.getByText('Plaie de la main')).toBeVisible();
  await expect(deskPage.getByRole('button', { name: 'Terminer la venue' })).toBeVisible();
  expect(deskWasm).toEqual([]);

  // The board shows them waiting without being reloaded.
  await expect(doctorPage.locator('.queue-item').filter({ hasText: 'Plaie de la main' })).toBeVisible();

  // The physician calls the patient into the exam room from the waiting room.
  await doctorPage.getByRole('link', { name: 'Salle d’attente' }).click();
  await expect(doctorPage.getByText('Œuvray Léa')).toBeVisible();
  await doctorPage.getByLabel('Appeler en salle').selectOption({ label: 'Examen 1' });
  await doctorPage.getByRole('button', { name: 'Appeler', exact: true }).click();
  await expect(doctorPage.getByText('Personne n’attend.')).toBeVisible();
  await doctor.close();

  // The desk sees the room, and ends the visit.
  await deskPage.reload();
  await expect(deskPage.getByText('Examen 1')).toBeVisible();
  await deskPage.getByRole('button', { name: 'Terminer la venue' }).click();
  await expect(deskPage.getByText('Pas de venue en cours.')).toBeVisible();
  await desk.close();
});
