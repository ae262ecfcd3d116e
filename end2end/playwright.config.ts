import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The journeys run against the release build (`cargo leptos build --release --precompress`) on a fresh
// SQLite database holding the demo clinic, in Debian's Chromium at tablet size.
const port = Number(process.env.PLATEAU_E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
const root = path.resolve(__dirname, '..');
const dataDir = process.env.PLATEAU_E2E_DATA_DIR ?? mkdtempSync(path.join(tmpdir(), 'plateau-e2e-'));
// A second server whose screens lock after ten seconds, for the idle-lock journey.
export const idlePort = port + 1;
const idleDataDir = mkdtempSync(path.join(tmpdir(), 'plateau-e2e-idle-'));
// A third server holding no demo: a clinic on its first day, with one administrator, a
// front desk and a physician added from the command line (README), for the journeys
// that must work without the demo.
export const emptyPort = port + 2;
export const EMPTY_CLINIC_PASSWORD = 'premier-jour-clinique';
const emptyDataDir = mkdtempSync(path.join(tmpdir(), 'plateau-e2e-empty-'));
const addUser = (username: string, role: string) =>
  `printf '%s\\n' '${EMPTY_CLINIC_PASSWORD}' | ${binary} user add --data-dir ${emptyDataDir} --username ${username} ` +
  `--role ${role} --password-stdin --facility 'Clinique du Parc' --timezone Europe/Paris --given-name ${username} --family-name Premier`;
const binary = path.join(root, 'target/release/plateau');
const siteRoot = path.join(root, 'target/site');

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    viewport: { width: 1024, height: 768 },
    hasTouch: true,
    locale: 'fr-FR',
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  // The back-office and lab journeys change the demo clinic (they move patients, clean
  // rooms, verify results): they run after the journeys that read the clinic as seeded.
  projects: [
    { name: 'screens', testIgnore: /(procedure-room|lab|safety|discharge)\.spec\.ts/ },
    { name: 'procedure room', testMatch: /procedure-room\.spec\.ts/, dependencies: ['screens'] },
    { name: 'lab', testMatch: /lab\.spec\.ts/, dependencies: ['procedure room'] },
    { name: 'safety', testMatch: /safety\.spec\.ts/, dependencies: ['lab'] },
    { name: 'discharge', testMatch: /discharge\.spec\.ts/, dependencies: ['safety'] },
  ],
  webServer: [
    {
      command: `${binary} serve --demo --listen 127.0.0.1:${port} --data-dir ${dataDir} --site-root ${siteRoot}`,
      url: `${baseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: { PLATEAU_LOG: 'warn' },
    },
    {
      command: `${binary} serve --demo --idle-lock 10s --listen 127.0.0.1:${idlePort} --data-dir ${idleDataDir} --site-root ${siteRoot}`,
      url: `http://127.0.0.1:${idlePort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: { PLATEAU_LOG: 'warn' },
    },
    {
      command: [
        addUser('admin', 'administrator'),
        addUser('accueil', 'front_desk'),
        addUser('docteur', 'physician'),
        `${binary} serve --listen 127.0.0.1:${emptyPort} --data-dir ${emptyDataDir} --site-root ${siteRoot}`,
      ].join(' && '),
      url: `http://127.0.0.1:${emptyPort}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: { PLATEAU_LOG: 'warn' },
    },
  ],
});
