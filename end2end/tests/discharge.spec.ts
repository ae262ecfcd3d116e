import { test, expect } from './fixtures';
import { signIn } from './helpers';

// After the lab journeys (it ends a demo visit they use): a supervisor sends home a
// patient whose blood count is still out, is stopped by the discharge hold, ends the visit
// with a reason, and follows the pending item up; then merges a duplicate record the desk
// made knowingly. All of it on server pages: plain forms, no WebAssembly.
test('a supervisor ends a held visit with a reason, follows it up, and merges a duplicate', async ({ browser }) => {
  const context = await browser.newContext();
  await signIn(context, 'j.morel');
  const page = await context.newPage();
  const wasm: string[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('.wasm')) wasm.push(request.url());
  });

  await page.goto('/desk?q=haddad');
  await page.getByRole('link', { name: /HADDAD|Haddad/ }).first().click();
  await expect(page.getByRole('heading', { level: 1, name: /Haddad/ })).toBeVisible();
  await page.getByRole('button', { name: 'Terminer la venue' }).click();
  await expect(page.getByText('Sortie suspendue : il reste des éléments en attente')).toBeVisible();
  await page.getByLabel(/Raison de partir/).fill('Parti avant le résultat, sera rappelé');
  await page.getByRole('button', { name: 'Terminer quand même' }).click();
  await expect(page.getByText('Pas de venue en cours.')).toBeVisible();

  await page.goto('/follow-ups');
  const items = page.locator('.follow-up-list li', { hasText: 'Haddad' });
  await expect(items.first()).toContainText('Parti avant le résultat');
  const count = await items.count();
  for (let i = 0; i < count; i++) {
    await items.first().getByRole('button', { name: 'Suivi fait' }).click();
    await expect(items).toHaveCount(count - i - 1);
  }

  // Two records of one person: the second made knowingly, then merged into the first.
  const register = async (given: string) => {
    await page.goto('/desk/register');
    await page.getByLabel('Nom d’usage').fill('Doublon');
    await page.getByLabel('Prénom').fill(given);
    await page.getByLabel('Date de naissance').fill('1971-06-30');
    await page.getByLabel('Sexe').selectOption('male');
    await page.getByLabel('Langue parlée').fill('fr');
    await page.getByRole('button', { name: /^Enregistrer$|Ce sont des personnes différentes/ }).click();
  };
  await register('Marc');
  await expect(page.getByRole('heading', { level: 1, name: 'Doublon Marc' })).toBeVisible();
  const kept = page.url();
  await register('Marc');
  await expect(page.getByText('Ce patient est peut-être déjà enregistré')).toBeVisible();
  await expect(page.getByLabel('Prénom')).toHaveValue('Marc');
  await page.getByRole('button', { name: 'Ce sont des personnes différentes : enregistrer' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Doublon Marc' })).toBeVisible();
  const duplicate = page.url();
  expect(duplicate).not.toBe(kept);
  const number = (await page.locator('dd.record-number').textContent())!.trim();

  await page.goto(kept);
  await page.getByLabel('Numéro de dossier du doublon').fill(number);
  await page.getByLabel('Raison').fill('Même personne enregistrée deux fois');
  const merged = page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === kept);
  await page.getByRole('button', { name: 'Fusionner' }).click();
  expect((await merged).status()).toBe(303);
  await expect(page).toHaveURL(kept);
  await page.goto(duplicate);
  await expect(page.getByText('Ce dossier était un doublon')).toBeVisible();
  expect(wasm).toEqual([]);
  await context.close();
});
