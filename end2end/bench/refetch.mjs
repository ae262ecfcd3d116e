// How many screens ask the server again when one result arrives: every room page of the
// demo clinic open on its own tablet (a browser context each, signed in as the physician),
// plus the board and the lab worklist; then a reference lab's result for one patient
// (README's example message, over HTTP). Counts the server-function calls each screen
// makes in the seconds after. Usage: node refetch.mjs BASE_URL
import { chromium } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const base = process.argv[2] ?? 'http://127.0.0.1:3952';
const PASSWORD = 'tilleuls-demo';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});

async function tablet(username, address) {
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  const answer = await context.request.post(`${base}/api/sign_in`, {
    form: { username, password: PASSWORD },
    headers: { origin: base, accept: 'application/json' },
  });
  if (answer.status() !== 200) throw new Error(`sign-in as ${username}: ${answer.status()}`);
  const page = await context.newPage();
  const calls = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/') && url.pathname !== '/api/live' && url.pathname !== '/api/activity') calls.push(url.pathname);
  });
  await page.goto(`${base}${address}`);
  await page.locator('html[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 60_000 });
  return { address, context, page, calls };
}

// Every room of the demo clinic, each on its own tablet, as the rooms screen lists them.
const lister = await tablet('c.lefevre', '/');
const rooms = await lister.page.$$eval('a[href^="/rooms/"]', (links) => [...new Set(links.map((a) => a.getAttribute('href')))]);
await lister.context.close();
const screens = [];
for (const room of rooms) screens.push(await tablet('c.lefevre', room));
screens.push(await tablet('c.lefevre', '/board'));
screens.push(await tablet('i.chevalier', '/lab'));
// Let every screen settle on its live link.
await new Promise((done) => setTimeout(done, 3000));
for (const screen of screens) screen.calls.length = 0;

const message = readFileSync(path.resolve(import.meta.dirname, '../../app/src/demo/reference-lab-result.hl7'), 'utf8');
const ack = await fetch(`${base}/hl7/oru`, {
  method: 'POST',
  headers: { authorization: 'Bearer demo-reflab-token' },
  body: message,
});
const ackText = await ack.text();
if (!ackText.includes('MSA|AA')) throw new Error(`the result was not accepted: ${ackText}`);
await new Promise((done) => setTimeout(done, 4000));

let total = 0;
let asking = 0;
for (const screen of screens) {
  total += screen.calls.length;
  if (screen.calls.length) asking += 1;
  console.log(`${screen.address.padEnd(12)} ${screen.calls.length} call(s) ${screen.calls.join(' ')}`);
}
console.log(`one result, ${screens.length} screens open (${rooms.length} room tablets, the board, the lab): ${asking} screens asked again, ${total} server-function calls`);
await browser.close();
