import { test, expect } from './fixtures';
import { DEMO_PASSWORD, DEMO_PIN, openMenu, signIn, waitForHydration, signedInPage } from './helpers';

const IDLE_SERVER = 'http://127.0.0.1:3101';

test.describe('signing in', () => {
  test('a nurse signs in with the form and comes back to the page she asked for', async ({ page }) => {
    await page.goto('/board');
    await expect(page).toHaveURL(/\/sign-in\?next=\/board$/);
    await waitForHydration(page);
    await page.getByLabel('Identifiant').fill('a.girard');
    await page.getByLabel('Mot de passe').fill('not her password');
    await page.getByRole('button', { name: 'Se connecter' }).tap();
    await expect(page.getByRole('alert')).toContainText('Identifiant ou mot de passe incorrect');
    await page.getByLabel('Mot de passe').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).tap();
    await expect(page).toHaveURL(/\/board$/);
    await expect(page.locator('.user-name')).toHaveText('Antoine Girard');
    await expect(page.getByRole('heading', { name: 'En attente', exact: true })).toBeVisible();
    // Signing out ends it: the board sends her back to sign in.
    await waitForHydration(page);
    await openMenu(page);
    await page.getByRole('button', { name: 'Se déconnecter' }).tap();
    await expect(page).toHaveURL(/\/sign-in$/);
    await page.goto('/board');
    await expect(page).toHaveURL(/\/sign-in/);
  });

  test('each role sees the screens it may use, and only those', async ({ browser }) => {
    const expectations: [string, string[], string[]][] = [
      ['i.chevalier', ['Laboratoire'], ['Salles', 'Tableau', 'Comptes', 'Accueil', 'Salle d’attente']],
      ['s.lambert', ['Accueil', 'Salles', 'Tableau'], ['Laboratoire', 'Comptes', 'Accès d\'urgence']],
      ['n.faure', ['Comptes', 'Journal d\'audit', 'Paramétrage'], ['Salles', 'Laboratoire', 'Accès d\'urgence']],
      ['j.morel', ['Accueil', 'Salles', 'Tableau', 'Salle d’attente', 'Laboratoire', 'Suivi après sortie', 'Accès d\'urgence'], ['Comptes']],
    ];
    for (const [user, shown, hidden] of expectations) {
      const context = await browser.newContext();
      await signIn(context, user);
      const page = await context.newPage();
      await page.goto('/account');
      const nav = page.getByRole('navigation', { name: 'Navigation principale' });
      for (const name of shown) await expect(nav.getByRole('link', { name, exact: true })).toBeVisible();
      for (const name of hidden) await expect(nav.getByRole('link', { name, exact: true })).toHaveCount(0);
      await context.close();
    }
    // Typing the address is no way round: the page refuses, with a 403.
    const context = await browser.newContext();
    await signIn(context, 'i.chevalier');
    const page = await context.newPage();
    const response = await page.goto('/board');
    expect(response?.status()).toBe(403);
    await expect(page.getByRole('heading', { name: 'Accès refusé' })).toBeVisible();
    await context.close();
  });
});

test.describe('shared tablets', () => {
  test('the screen locks when idle, hides the patient, and unlocks with the PIN', async ({ browser }) => {
    test.setTimeout(60_000);
    const context = await browser.newContext({ baseURL: IDLE_SERVER });
    await signIn(context, 'c.lefevre', IDLE_SERVER);
    const page = await context.newPage();
    await page.goto('/');
    await waitForHydration(page);
    await page.locator('.room-card[data-room="E1"] a').tap();
    await expect(page.getByText('DURAND, Élise')).toBeVisible();
    // Ten seconds without a touch: locked, and the patient is gone from the page.
    await expect(page.getByRole('heading', { name: 'Écran verrouillé' })).toBeVisible({ timeout: 20_000 });
    await expect(page.getByText('DURAND')).toHaveCount(0);
    await expect(page.locator('.lock-screen')).toContainText('Camille Lefèvre');
    await page.getByLabel('Code PIN').fill('1111');
    await page.getByRole('button', { name: 'Déverrouiller' }).tap();
    await expect(page.getByRole('alert')).toContainText('incorrect');
    await page.getByLabel('Code PIN').fill(DEMO_PIN);
    await page.getByRole('button', { name: 'Déverrouiller' }).tap();
    await expect(page.getByText('DURAND, Élise')).toBeVisible();
    // A reload after the lock still shows the lock screen: the server holds it too.
    await page.getByRole('button', { name: 'Verrouiller' }).tap();
    await expect(page.getByRole('heading', { name: 'Écran verrouillé' })).toBeVisible();
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Écran verrouillé' })).toBeVisible();
    await expect(page.getByText('DURAND')).toHaveCount(0);
    // Someone else takes the tablet: a full sign-in switches the user.
    await waitForHydration(page);
    await page.getByRole('link', { name: 'Quelqu\'un d\'autre ? Se connecter' }).tap();
    await page.getByLabel('Identifiant').fill('a.girard');
    await page.getByLabel('Mot de passe').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Se connecter' }).tap();
    await expect(page.locator('.user-name')).toHaveText('Antoine Girard');
    await context.close();
  });

  test('a nurse outside the care team opens a patient by breaking the glass', async ({ page, context }) => {
    await signIn(context, 'a.girard');
    await page.goto('/');
    await waitForHydration(page);
    await page.locator('.room-card[data-room="E2"] a').tap();
    await expect(page.getByText('Un patient est dans cette salle, hors de vos affectations.')).toBeVisible();
    await expect(page.locator('.room-detail')).not.toContainText('PETIT');
    await page.getByLabel('Motif de l\'accès d\'urgence').fill('Malaise du patient, le médecin est absent');
    await page.getByRole('button', { name: 'Ouvrir en urgence' }).tap();
    await expect(page.locator('.room-detail')).toContainText('PETIT, Karim');
    await expect(page.locator('.break-glass-active')).toBeVisible();
  });
});

test.describe('own account', () => {
  test('a person ends a session left on another tablet, sets a new PIN and unlocks with it', async ({ browser }) => {
    const otherTablet = await browser.newContext();
    await signIn(otherTablet, 'l.roux');
    const { context: context, page: page } = await signedInPage(browser, 'l.roux', '/account');
    await expect(page.locator('.session')).toHaveCount(2);
    await page.locator('.session[data-current="false"] button').tap();
    await expect(page.locator('.session')).toHaveCount(1);
    const other = await otherTablet.newPage();
    await other.goto('/');
    await expect(other).toHaveURL(/\/sign-in/);

    await page.getByLabel('Nouveau code PIN').fill('97531');
    await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Enregistrer' }).first().tap();
    await expect(page.getByText('Enregistré.')).toBeVisible();
    await page.getByRole('button', { name: 'Verrouiller' }).tap();
    // The lock screen replaces the page once the server has locked the session; until
    // then "Code PIN" would also name the account page's "Nouveau code PIN" field.
    await expect(page.getByRole('heading', { name: 'Écran verrouillé' })).toBeVisible();
    await page.getByLabel('Code PIN', { exact: true }).fill(DEMO_PIN);
    await page.getByRole('button', { name: 'Déverrouiller' }).tap();
    await expect(page.getByRole('alert')).toContainText('incorrect');
    await page.getByLabel('Code PIN', { exact: true }).fill('97531');
    await page.getByRole('button', { name: 'Déverrouiller' }).tap();
    await expect(page.getByRole('heading', { name: 'Mon compte' })).toBeVisible();
    await otherTablet.close();
    await context.close();
  });
});

test.describe('administration', () => {
  test('an administrator creates an account, the new person chooses her password, and a supervisor confirms her nurse role', async ({ page, context, browser }) => {
    await signIn(context, 'n.faure');
    await page.goto('/admin/accounts');
    await waitForHydration(page);
    await page.getByRole('link', { name: 'Nouveau compte' }).tap();
    await expect(page.getByRole('heading', { name: 'Nouveau compte' })).toBeVisible();
    await page.getByLabel('Prénom').fill('Léon');
    await page.getByLabel('Nom', { exact: true }).fill('Petitjean');
    await page.getByLabel('Identifiant').fill('c.lefevre');
    await page.getByLabel('Infirmier(ère)').check();
    await page.getByLabel('Mot de passe initial').fill('un mot de passe long');
    await page.getByRole('button', { name: 'Créer' }).tap();
    await expect(page.getByRole('alert')).toContainText('Identifiant');
    // The form comes back as typed (a server page), but for the password, never sent back.
    await expect(page.getByLabel('Prénom')).toHaveValue('Léon');
    await expect(page.getByLabel('Infirmier(ère)')).toBeChecked();
    await page.getByLabel('Identifiant').fill('l.petitjean');
    await page.getByLabel('Mot de passe initial').fill('un mot de passe long');
    await page.getByRole('button', { name: 'Créer' }).tap();
    await expect(page).toHaveURL(/\/admin\/accounts\/\d+$/);
    await expect(page.getByRole('heading', { level: 1 })).toContainText('Léon Petitjean');
    // A certification with its expiry date.
    await page.locator('select[name="kind"]').selectOption('bls');
    await page.getByLabel('Valable jusqu\'au').fill('2030-06-30');
    await page.getByRole('button', { name: 'Ajouter' }).tap();
    await expect(page.locator('.certifications li[data-kind="bls"]')).toContainText('30/06/2030');

    const newcomer = await browser.newContext();
    const other = await newcomer.newPage();
    await other.goto('/sign-in');
    await waitForHydration(other);
    await other.getByLabel('Identifiant').fill('l.petitjean');
    await other.getByLabel('Mot de passe', { exact: true }).fill('un mot de passe long');
    await other.getByRole('button', { name: 'Se connecter' }).tap();
    // The administrator chose that password: Léon chooses his own before anything opens.
    await expect(other.getByText('Votre mot de passe a été défini par un administrateur')).toBeVisible();
    await other.getByLabel('Nouveau mot de passe').fill('le mien, que personne ne connaît');
    await other.getByRole('button', { name: 'Se connecter' }).tap();
    await expect(other.locator('.user-name')).toHaveText('Léon Petitjean');
    // The nurse role opens patients: it waits for a second person.
    await expect(other.getByRole('heading', { name: 'Mon compte' })).toBeVisible();

    const supervisorContext = await browser.newContext();
    await signIn(supervisorContext, 'j.morel');
    const supervisor = await supervisorContext.newPage();
    await supervisor.goto('/supervision');
    await waitForHydration(supervisor);
    const grant = supervisor.locator('.role-grant-list li[data-username="l.petitjean"]');
    await expect(grant).toContainText('Infirmier');
    await expect(grant).toContainText('n.faure');
    await grant.getByRole('button', { name: 'Confirmer' }).tap();
    await expect(supervisor.getByText('Aucun rôle n’attend de confirmation.')).toBeVisible();
    await supervisorContext.close();

    await other.goto('/');
    await expect(other.getByRole('heading', { name: 'Salles' })).toBeVisible();
    await newcomer.close();
  });

  test('the audit trail shows who read which patient, filtered and exported', async ({ page, context, browser }) => {
    const doctor = await browser.newContext();
    await signIn(doctor, 'c.lefevre');
    const doctorPage = await doctor.newPage();
    await doctorPage.goto('/');
    await doctorPage.locator('.room-card[data-room="E1"] a').click();
    await expect(doctorPage.getByText('DURAND, Élise')).toBeVisible();
    await doctor.close();

    await signIn(context, 'n.faure');
    await page.goto('/admin/audit');
    await waitForHydration(page);
    await page.getByLabel('Identifiant').fill('c.lefevre');
    await page.getByLabel('N° de dossier patient').fill('DEMO-0001');
    await page.getByRole('button', { name: 'Filtrer' }).tap();
    await expect(page).toHaveURL(/username=c.lefevre/);
    const rows = page.locator('.audit-lines tbody tr');
    await expect(rows.first()).toContainText('patient.read');
    await expect(rows.first()).toContainText('DEMO-0001');
    const csv = page.getByRole('link', { name: 'Exporter en CSV' });
    await expect(csv).toHaveAttribute('href', /\/audit\.csv\?username=c\.lefevre&patient=DEMO-0001/);
    const download = await page.request.get((await csv.getAttribute('href'))!);
    expect(download.status()).toBe(200);
    expect(await download.text()).toContain('patient.read');
  });
});
