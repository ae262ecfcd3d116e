import { type BrowserContext, type Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { waitForHydration } from './helpers';
import { emptyPort, EMPTY_CLINIC_PASSWORD } from '../playwright.config';

// A clinic on its first day, without the demo: the administrator sets up a room, the
// front desk registers a patient and checks them in, the physician calls them in from
// the waiting room, the desk sends them home. Every one of these screens is a server
// page: it works as plain HTML forms and downloads no WebAssembly.
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

test('a clinic on its first day sets up a room, registers, checks in, calls and discharges a patient', async ({ browser }) => {
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
  expect(adminWasm).toEqual([]);
  await admin.close();

  // The front desk lands on the desk and registers a patient with an allergy.
  const desk = await browser.newContext();
  const deskPage = await signedIn(desk, 'accueil');
  const deskWasm = noWebAssembly(deskPage);
  await expect(deskPage).toHaveURL(`${base}/desk`);
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

  // Checked in, with the physician as attending.
  await deskPage.getByLabel('Motif de venue').fill('Plaie de la main');
  await deskPage.getByLabel('Médecin référent').selectOption({ label: 'docteur Premier' });
  await deskPage.getByRole('button', { name: 'Enregistrer l’arrivée' }).click();
  await expect(deskPage.getByText('Plaie de la main')).toBeVisible();
  await expect(deskPage.getByRole('button', { name: 'Terminer la venue' })).toBeVisible();
  expect(deskWasm).toEqual([]);

  // The physician calls the patient into the exam room from the waiting room.
  const doctor = await browser.newContext();
  const doctorPage = await signedIn(doctor, 'docteur');
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
