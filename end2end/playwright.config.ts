import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// The journeys run against the release build (`cargo leptos build --release`) on a fresh
// SQLite database holding the demo clinic, in Debian's Chromium at tablet size.
const port = Number(process.env.PLATEAU_E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
const root = path.resolve(__dirname, '..');
const dataDir = process.env.PLATEAU_E2E_DATA_DIR ?? mkdtempSync(path.join(tmpdir(), 'plateau-e2e-'));

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
  webServer: {
    command: `${path.join(root, 'target/release/plateau')} serve --demo --listen 127.0.0.1:${port} --data-dir ${dataDir} --site-root ${path.join(root, 'target/site')}`,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'ignore',
    stderr: 'pipe',
    env: { PLATEAU_LOG: 'warn' },
  },
});
