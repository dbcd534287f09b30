// Drives the console and the agency portal of a running `writ serve --demo`
// in a real Chromium, as people use them:
//
//   an officer signs in to the portal with a code, registers a passkey
//   (Chromium's virtual authenticator) and signs in with it, writes a
//   search warrant in the order form with its PDF (a draft kept across a
//   reload, the rule book's check before sending) and pastes an emergency
//   request as JSON; a reviewer proposes to approve
//   the warrant and an approver confirms it (the two-person rule); the
//   reviewer records the emergency callback; the officer downloads the
//   warrant's sealed package. The console is also checked without
//   JavaScript and with the keyboard only.
//
// Environment: WRIT_URL (the server), WRIT_DATA (its data folder),
// WRIT_EXAMPLES (examples/orders), WRIT_SCREENSHOTS (where screenshots go),
// CHROMIUM (default /usr/bin/chromium).
// Prints "N passed, M failed" last and exits 1 on any failure.

import { createHmac, createPrivateKey, sign } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const url = process.env.WRIT_URL;
const data = process.env.WRIT_DATA;
const examples = process.env.WRIT_EXAMPLES;
const shots = process.env.WRIT_SCREENSHOTS;
if (!url || !data || !examples || !shots) {
  console.error('set WRIT_URL, WRIT_DATA, WRIT_EXAMPLES and WRIT_SCREENSHOTS');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

// ---- secrets of the demo --------------------------------------------------

// `role name password otpauth-URI token` per line.
const users = Object.fromEntries(
  readFileSync(join(data, 'demo/console-users.txt'), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [role, name, password, uri] = l.split(/\s+/);
      return [name, { role, password, secret: new URL(uri).searchParams.get('secret') }];
    }),
);

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// RFC 6238: HMAC-SHA1, 30-second steps, 6 digits.
function totp(secret, seconds = Math.floor(Date.now() / 1000)) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(seconds / 30)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[19] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(code).padStart(6, '0');
}

// A code is good once (RFC 6238, 5.2), so a user who signs in again within
// one 30-second step uses the next step's code (one step of drift is allowed).
const lastStep = {};
function freshTotp(name) {
  let step = Math.floor(Date.now() / 1000 / 30);
  if (lastStep[name] !== undefined && step <= lastStep[name]) step = lastStep[name] + 1;
  lastStep[name] = step;
  return totp(users[name].secret, step * 30);
}

// The demo's officer: `agency e-mail secret otpauth-URI`.
const [officerAgency, officerEmail, officerSecret] = readFileSync(
  join(data, 'demo/portal-officers.txt'),
  'utf8',
).trim().split(/\s+/);

// Passkeys belong to a host name, never an IP address: the officer uses
// the portal at localhost (the server's relying party for a loopback URL).
const purl = url.replace('//127.0.0.1:', '//localhost:');

// The demo signing key file holds the base64 Ed25519 seed.
function agencyKey(agency) {
  const seed = Buffer.from(
    readFileSync(join(data, 'demo/agencies', agency, 'signing.key'), 'utf8').trim(),
    'base64',
  );
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
}

// ---- a tiny runner -----------------------------------------------------------

let passed = 0;
let failed = 0;
async function step(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}\n  ${String(e && e.stack ? e.stack : e).split('\n').join('\n  ')}`);
    throw e;
  }
}
function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}
// Runs an action that submits a form and waits for the page it leads to.
async function submit(page, action) {
  await Promise.all([page.waitForNavigation(), action()]);
}
// Wire names that must never reach a page's text (they stay in JSON and
// the API): statuses, instruments, outcomes, notify-when, categories.
const RAW = /\b(in_review|search_warrant|emergency_request|court_order|national_security_letter|preservation_request|on_disclosure|issuing_authority|no_data|law_enforcement|emergency_unverified|pending_deletion)\b/;
async function noRawEnums(page, where) {
  const text = await page.locator('body').innerText();
  const m = text.match(RAW);
  check(!m, `no raw enum value on ${where} (found "${m && m[0]}")`);
}
// Reloads until the page's main text matches (delivery works in the background).
async function until(page, pattern, what) {
  for (let i = 0; i < 60; i += 1) {
    if (pattern.test(await page.locator('main').innerText())) return;
    await page.waitForTimeout(500);
    await page.reload();
  }
  throw new Error(`check failed: ${what}`);
}
async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

// ---- the flow ----------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

async function consoleSignIn(context, name) {
  const page = await context.newPage();
  await page.goto(`${url}/console`);
  await page.getByLabel('User name').fill(name);
  await page.getByLabel('Password').fill(users[name].password);
  await page.getByLabel('Authenticator code').fill(freshTotp(name));
  await submit(page, () => page.getByRole('button', { name: 'Sign in' }).click());
  check((await page.content()).includes(`${name} (${users[name].role})`), `${name} is signed in`);
  return page;
}

function order(file, reference) {
  const o = JSON.parse(readFileSync(join(examples, file), 'utf8'));
  o.reference = reference;
  return JSON.stringify(o, null, 2);
}

const run = Date.now().toString(36);
const cases = {};

try {
  const officer = await browser.newContext({ acceptDownloads: true });
  const portal = await officer.newPage();

  await step('an officer signs in to the portal with a code and registers a passkey', async () => {
    const cdp = await officer.newCDPSession(portal);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await portal.goto(`${purl}/portal`);
    await portal.locator('#officer-agency').fill(officerAgency);
    await portal.getByLabel('Your e-mail address').fill(officerEmail);
    await portal.getByLabel('Code', { exact: true }).fill(totp(officerSecret));
    await shot(portal, '01-portal-sign-in');
    await submit(portal, () => portal.getByRole('button', { name: 'Sign in with the code' }).click());
    check((await portal.content()).includes('Submit an order'), 'the portal home is shown');
    check((await portal.locator('header').innerText()).includes('Dana Reyes'), 'the officer is named');
    await submit(portal, () => portal.getByRole('link', { name: 'Your account' }).click());
    check((await portal.locator('#passkey-count').innerText()) === '0', 'no passkey yet');
    await submit(portal, () => portal.getByRole('button', { name: 'Register a passkey' }).click());
    await until(portal, /Recorded: passkey registered/, 'the passkey is registered');
    check((await portal.locator('#passkey-count').innerText()) === '1', 'one passkey');
    check((await portal.locator('#officers').innerText()).includes('Dana Reyes'), 'the officer-admin sees the officers');
    await shot(portal, '01b-portal-account');
  });

  await step('the officer signs out and back in with the passkey alone', async () => {
    await submit(portal, () => portal.getByRole('button', { name: 'Sign out' }).click());
    check((await portal.content()).includes('Sign in with a passkey'), 'signed out');
    await submit(portal, () => portal.getByRole('button', { name: 'Sign in with a passkey' }).click());
    await until(portal, /Submit an order/, 'the passkey signs in');
    check((await portal.locator('header').innerText()).includes('Dana Reyes'), 'as the officer');
  });

  await step("the agency's key still signs in to the portal, for agencies that automate", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${url}/portal`);
    const challenge = await page.locator('input[name=challenge]').inputValue();
    check(challenge.startsWith('writ-portal-sign-in:'), 'a challenge is shown');
    const signature = sign(null, Buffer.from('writ-portal-sign-in-v1\n' + challenge), agencyKey('us-fbi-wfo')).toString('base64');
    await page.locator('#agency').fill('us-fbi-wfo');
    await page.getByLabel('Signature (base64 Ed25519)').fill(signature);
    await submit(page, () => page.getByRole('button', { name: 'Sign in', exact: true }).click());
    check((await page.content()).includes('Submit an order'), 'the portal home is shown');
    await context.close();
  });

  const pdf = Buffer.from('%PDF-1.4\n% the signed warrant, as scanned\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
  await step('the officer writes the warrant in the order form, with its PDF', async () => {
    await submit(portal, () => portal.getByRole('link', { name: 'Write a new order' }).click());
    await portal.getByLabel('Your reference').fill(`UI-warrant-${run}`);
    await portal.getByLabel('Kind of legal process').selectOption({ label: 'Search warrant' });
    await portal.getByLabel('Legal basis (statute and section)').fill('18 U.S.C. § 2703(a); Fed. R. Crim. P. 41');
    await portal.locator('#issuer_kind').selectOption({ label: 'Judge' });
    await portal.getByLabel('Name (the judge)').fill('Hon. Ada Park');
    await portal.getByLabel('Issued', { exact: true }).fill('2026-11-20');
    await portal.getByLabel('Expires', { exact: true }).fill('2027-12-31');
    await portal.getByLabel('Kind of target 1').selectOption({ label: 'E-mail address' });
    await portal.getByLabel('Target 1', { exact: true }).fill('alice@example.com');
    // A second row, added and removed again with the form's own buttons.
    await submit(portal, () => portal.getByRole('button', { name: 'Add a target' }).click());
    check(await portal.getByLabel('Target 2', { exact: true }).count() === 1, 'a second target row');
    await submit(portal, () => portal.getByRole('button', { name: 'Remove row 2' }).click());
    check(await portal.getByLabel('Target 2', { exact: true }).count() === 0, 'the row is removed');
    check(await portal.getByLabel('Target 1', { exact: true }).inputValue() === 'alice@example.com', 'the first row is kept');
    await portal.getByLabel('Subscriber data').check();
    await portal.getByLabel('Content', { exact: true }).check();
    await portal.getByLabel('From', { exact: true }).fill('2026-01-01');
    await portal.getByLabel('To', { exact: true }).fill('2026-10-31');
    await portal.getByLabel('Document').setInputFiles({ name: 'warrant.pdf', mimeType: 'application/pdf', buffer: pdf });
    await submit(portal, () => portal.getByRole('button', { name: 'Check the order' }).click());
    const foreseen = await portal.locator('#foreseen').innerText();
    check(foreseen.includes('Nothing in the order alone leads to a refusal'), `the check passes (${foreseen})`);
    check((await portal.locator('main').innerText()).includes('Uploaded: warrant.pdf'), 'the document is kept with the draft');
    await shot(portal, '02-portal-order-form');
  });

  await step('the draft survives a reload, and a subpoena for content is flagged before it is sent', async () => {
    await portal.goto(`${purl}/portal/orders/new`);
    check((await portal.locator('[role=status]').innerText()).includes('is restored'), 'the draft is restored');
    check(await portal.getByLabel('Your reference').inputValue() === `UI-warrant-${run}`, 'the reference is kept');
    check(await portal.getByLabel('Content', { exact: true }).isChecked(), 'the categories are kept');
    await portal.getByLabel('Kind of legal process').selectOption({ label: 'Subpoena' });
    await submit(portal, () => portal.getByRole('button', { name: 'Check the order' }).click());
    const foreseen = await portal.locator('#foreseen').innerText();
    check(/denied whatever the account/.test(foreseen) && foreseen.includes('Content'), `content by subpoena is flagged (${foreseen})`);
    await portal.getByLabel('Kind of legal process').selectOption({ label: 'Search warrant' });
    await portal.getByLabel('Legal basis (statute and section)').fill('');
    await submit(portal, () => portal.getByRole('button', { name: 'Submit the order' }).click());
    check((await portal.locator('#error-legal_basis').innerText()).includes('name the law'), 'the empty field is named next to it');
    await noRawEnums(portal, 'the order form');
  });

  await step('the officer submits the warrant; its document is on the case page', async () => {
    await portal.getByLabel('Legal basis (statute and section)').fill('18 U.S.C. § 2703(a); Fed. R. Crim. P. 41');
    await submit(portal, () => portal.getByRole('button', { name: 'Submit the order' }).click());
    const notice = await portal.locator('[role=status]').innerText();
    const m = notice.match(/case (c-[0-9a-f]+)/);
    check(m, `a case id in "${notice}"`);
    cases.warrant = m[1];
    const text = await portal.locator('main').innerText();
    check(/warrant\.pdf \(application\/pdf, \d+ bytes, SHA-256 [0-9a-f]{64}\): received/.test(text), `the document is received (${text})`);
  });

  await step('the officer pastes the emergency request as JSON', async () => {
    await portal.goto(`${purl}/portal`);
    await portal.getByText('Or paste an order as JSON').click();
    await portal.getByLabel(/The order as JSON/).fill(order('emergency-request.json', `UI-emergency-${run}`));
    await submit(portal, () => portal.getByRole('button', { name: 'Submit the order' }).click());
    const notice = await portal.locator('[role=status]').innerText();
    const m = notice.match(/case (c-[0-9a-f]+)/);
    check(m, `a case id in "${notice}"`);
    cases.emergency = m[1];
  });
  await shot(portal, '02-portal-cases');

  const ritaContext = await browser.newContext();
  const rita = await consoleSignIn(ritaContext, 'rita');

  await step('the queue lists both cases, the emergency first and flagged', async () => {
    const rows = await rita.locator('tbody tr').allInnerTexts();
    const at = (id) => rows.findIndex((r) => r.includes(id));
    check(at(cases.warrant) >= 0 && at(cases.emergency) >= 0, 'both cases are queued');
    check(at(cases.emergency) < at(cases.warrant), 'the emergency comes first');
    check(rows[at(cases.emergency)].includes('unverified emergency'), 'the emergency is flagged');
    // Times are shown in the viewer's zone, with UTC on hover.
    const title = await rita.locator('time').first().getAttribute('title');
    check(title && title.startsWith('UTC '), 'UTC on hover');
    // The style and script run under the pages' content security policy.
    const background = await rita.locator('header').evaluate((e) => getComputedStyle(e).backgroundColor);
    check(background === 'rgb(31, 58, 95)', `the style applies (${background})`);
    const shown = await rita.locator('time').first().innerText();
    check(!shown.endsWith(' UTC'), `the time was localised (${shown})`);
    await shot(rita, '03-console-queue');
  });

  await step('the queue filters by instrument', async () => {
    await rita.getByLabel('Instrument').selectOption('emergency_request');
    await submit(rita, () => rita.getByRole('button', { name: 'Apply' }).click());
    const text = await rita.locator('main').innerText();
    check(text.includes(cases.emergency) && !text.includes(cases.warrant), 'only the emergency');
    check(new URL(rita.url()).searchParams.get('instrument') === 'emergency_request', 'the filter is in the URL');
    check((await rita.getByLabel('Instrument').inputValue()) === 'emergency_request', 'the filter stays selected');
    await noRawEnums(rita, 'the queue');
    await rita.goto(`${url}/console`);
  });

  await step('the case page states the order, what went out and what waits', async () => {
    await submit(rita, () => rita.getByRole('link', { name: cases.warrant }).click());
    const text = await rita.locator('main').innerText();
    check(/Legal basis\s+18 U.S.C. § 2703\(a\)/.test(text), 'the legal basis');
    check(/Issued by\s+Judge/.test(text), 'the issuer');
    check(/Issued\s+\S/.test(text), 'the issue date');
    check(/Expires\s+\S/.test(text), 'the expiry date');
    check(/Date range\s+\S.* to \S/.test(text), 'the date range');
    check(/Secrecy order\s+none/.test(text), 'the secrecy order');
    check(/Instrument\s+Search warrant/.test(text), 'the instrument in words');
    check(text.includes('email:alice@example.com'), 'the pairs');
    // Subscriber data goes out at once; content waits for two people.
    await until(rita, /Subscriber data\s+Granted\s+Released in package 1 at \S/, 'subscriber data released in package 1 with its time');
    const pairs = await rita.locator('#pairs').innerText();
    check(/Content\s+Granted\s+Held: content is held for the two-person rule/.test(pairs), `content held (${pairs})`);
    check((await rita.locator('#packages + table, #packages ~ table').first().innerText()).includes('Subscriber data of email:alice@example.com'), 'the package lists what it holds');
    const history = await rita.locator('table', { has: rita.locator('caption', { hasText: 'Everything that happened' }) }).innerText();
    check(/order received/.test(history) && /policy engine/.test(history) && /package 1 sealed/.test(history), `the history (${history})`);
    await noRawEnums(rita, 'the case page');
  });

  await step('the portal shows what was released and what is held', async () => {
    await portal.goto(`${purl}/portal/cases/${cases.warrant}`);
    await until(portal, /Subscriber data\s+Granted\s+Released in package 1/, 'the portal shows subscriber data released');
    const text = await portal.locator('main').innerText();
    check(/Content\s+Granted\s+Held: the provider's review is not finished/.test(text), `content held on the portal (${text})`);
    check(text.includes('It holds only the pairs marked released below; 1 more are held'), 'the download says what it holds');
    await noRawEnums(portal, 'the portal case page');
    await portal.goto(`${purl}/portal`);
    const row = await portal.locator('tbody tr', { hasText: cases.warrant }).innerText();
    check(row.includes('1 of 2 pairs; 1 held for review'), `the list says what was released (${row})`);
  });

  await step('the reviewer proposes to approve the warrant', async () => {
    await submit(rita, () => rita.getByRole('button', { name: 'Propose approval' }).click());
    const after = await rita.locator('main').innerText();
    check(after.includes('Recorded: approval proposed; it waits for a different approver'), 'the proposal is recorded');
    check(after.includes('You proposed this: it waits for a different approver'), 'the proposer is told it waits');
    check((await rita.getByRole('button', { name: /Confirm/ }).count()) === 0, 'no confirm button for the proposer');
    check(/proposed approval; waits for a different approver\s+rita \(reviewer\)/.test(after), 'the history names the proposer');
    await shot(rita, '04-case-proposed');
  });

  await step('an approver who proposes is offered no confirm button', async () => {
    const averyContext = await browser.newContext();
    const avery = await consoleSignIn(averyContext, 'avery');
    await avery.goto(`${url}/console/cases/${cases.warrant}`);
    await submit(avery, () => avery.getByRole('button', { name: 'Propose approval' }).click());
    const text = await avery.locator('main').innerText();
    check(/Proposed approval by avery \(approver\)/.test(text), 'the proposal names avery');
    check((await avery.getByRole('button', { name: /Confirm/ }).count()) === 0, 'no confirm button for the proposer');
    check(text.includes('You proposed this: it waits for a different approver'), 'the proposer is told it waits');
    await averyContext.close();
  });

  await step('a second person, an approver, confirms it', async () => {
    const alexContext = await browser.newContext();
    const alex = await consoleSignIn(alexContext, 'alex');
    await alex.goto(`${url}/console/cases/${cases.warrant}`);
    await submit(alex, () => alex.getByRole('button', { name: 'Confirm (second approval)' }).click());
    const text = await alex.locator('main').innerText();
    check(text.includes('Recorded: proposal confirmed'), 'the confirmation is recorded');
    check(/Case status\s+Approved/.test(text), 'the case is approved');
    check(/proposed approval; waits for a different approver\s+avery \(approver\)/.test(text), 'the history keeps the proposer');
    check(/confirmed the proposal \(second approval\): Approved in full\s+alex \(approver\)/.test(text), 'the history names the confirmer');
    await until(alex, /Content\s+Granted\s+Released in package 2 at/, 'content released in package 2');
    check(/Subscriber data\s+Granted\s+Released in package 1 at/.test(await alex.locator('#pairs').innerText()), 'subscriber data still shows package 1');
    await noRawEnums(alex, 'the confirmed case');
    await shot(alex, '05-case-confirmed');
    await alexContext.close();
  });

  await step('search finds a case by id, reference, agency, account and identifier', async () => {
    await rita.goto(`${url}/console/cases/${cases.warrant}`);
    const account = (await rita.locator('#pairs td.account').first().innerText()).trim();
    check(account && account !== '—', 'the warrant names an account');
    for (const key of [cases.warrant, `UI-warrant-${run}`, 'us-fbi-wfo', account, 'alice@example.com']) {
      await rita.goto(`${url}/console`);
      await rita.getByLabel('Case id, reference, agency, account or target identifier').fill(key);
      await submit(rita, () => rita.getByRole('button', { name: 'Search' }).click());
      check(new URL(rita.url()).searchParams.get('q') === key, `the search is in the URL (${key})`);
      const text = await rita.locator('main').innerText();
      check(text.includes(cases.warrant), `"${key}" finds the warrant`);
      check(/Approved \(two people\)/.test(text), 'a closed case is found with its status in words');
    }
    await rita.goto(`${url}/console?q=no-such-thing-${run}`);
    check((await rita.locator('main').innerText()).includes('No case matches.'), 'a search without match says so');
    await noRawEnums(rita, 'the search results');
  });

  await step('an error page keeps the navigation and a way back', async () => {
    await rita.goto(`${url}/console/cases/c-doesnotexist`);
    check((await rita.locator('header').getByRole('link', { name: 'Console' }).count()) === 1, 'the navigation');
    check((await rita.getByRole('link', { name: 'Back' }).count()) === 1, 'a way back');
  });

  await step('the reviewer records the emergency callback', async () => {
    await rita.goto(`${url}/console/cases/${cases.emergency}`);
    await rita.getByLabel('from the registry').check();
    await rita.getByLabel('the agency confirmed the request').check();
    await shot(rita, '06-emergency-callback');
    await submit(rita, () => rita.getByRole('button', { name: 'Record the callback' }).click());
    const text = await rita.locator('main').innerText();
    check(text.includes('Recorded: emergency callback'), 'the callback is recorded');
    check(text.includes('Where it stands: Approved in full'), 'decided again: approved');
    check(/recorded the emergency callback: the agency confirmed the request, on a number from the registry\s+rita\b/.test(text), 'the history names who recorded the callback');
    await noRawEnums(rita, 'the emergency case');
    await shot(rita, '07-emergency-decided');
  });

  await step('a reviewer finds a European Production Order incomplete; the agency reads the Annex III form and answers', async () => {
    // The issuing authority signs in with its key and pastes its order,
    // naming the enforcing authority it notified.
    const context = await browser.newContext();
    const bka = await context.newPage();
    await bka.goto(`${url}/portal`);
    const challenge = await bka.locator('input[name=challenge]').inputValue();
    const signature = sign(null, Buffer.from('writ-portal-sign-in-v1\n' + challenge), agencyKey('de-bka')).toString('base64');
    await bka.locator('#agency').fill('de-bka');
    await bka.getByLabel('Signature (base64 Ed25519)').fill(signature);
    await submit(bka, () => bka.getByRole('button', { name: 'Sign in', exact: true }).click());
    const epoc = JSON.parse(order('epoc.json', `UI-epoc-${run}`));
    epoc.issued_at = new Date(Date.now() - 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    epoc.enforcing_authority = { name: 'Department of Justice, Mutual Legal Assistance', country: 'IE' };
    await bka.getByText('Or paste an order as JSON').click();
    await bka.getByLabel(/The order as JSON/).fill(JSON.stringify(epoc, null, 2));
    await submit(bka, () => bka.getByRole('button', { name: 'Submit the order' }).click());
    const m = (await bka.locator('[role=status]').innerText()).match(/case (c-[0-9a-f]+)/);
    check(m, 'the European order has a case');
    const epocCase = m[1];

    await rita.goto(`${url}/console/cases/${epocCase}`);
    await rita.getByLabel('Question (the agency reads it in the portal)').fill('The certificate names no period for the subscriber data.');
    await rita.locator('input[name=field][value=date_range]').check();
    await rita.getByLabel(/The order is incomplete/).check();
    await submit(rita, () => rita.getByRole('button', { name: 'Ask the agency' }).click());
    const staff = await rita.locator('main').innerText();
    check(staff.includes('Annex III'), 'the console shows the Annex III form');
    check(staff.includes('Mutual Legal Assistance (IE)'), 'addressed to the enforcing authority too');
    check(/preserved on 1 account/.test(staff), 'the data is preserved meanwhile');
    await shot(rita, '07b-annex-iii');

    await bka.goto(`${url}/portal/cases/${epocCase}`);
    const agency = await bka.locator('main').innerText();
    check(agency.includes('Annex III'), 'the agency reads the Annex III form');
    check(agency.includes('The certificate names no period'), 'and the question');
    check(!agency.includes('rita'), 'staff names stay with the provider');
    await bka.getByLabel('Your answer').fill('From 1 January to 31 October 2026.');
    await submit(bka, () => bka.getByRole('button', { name: 'Send the answer' }).click());
    check((await bka.locator('main').innerText()).includes('Your answer is recorded.'), 'the answer is recorded');

    await rita.goto(`${url}/console/cases/${epocCase}`);
    const after = await rita.locator('main').innerText();
    check(after.includes('Answered by the agency'), 'the console shows the answer');
    check(after.includes('the agency answered the clarification'), 'the history has the answer');
    await context.close();
  });

  await step('the officer downloads the sealed package of the warrant', async () => {
    await portal.goto(`${purl}/portal`);
    const row = portal.locator('tbody tr', { hasText: cases.warrant });
    check((await row.innerText()).includes('Approved'), 'the officer sees the warrant approved');
    await noRawEnums(portal, 'the portal');
    const link = portal.getByRole('link', { name: `Download ${cases.warrant}.age` });
    // Delivery seals in the background; the page says so until it is ready.
    for (let i = 0; i < 60 && !(await link.count()); i += 1) {
      await portal.waitForTimeout(500);
      await portal.goto(`${purl}/portal`);
    }
    await shot(portal, '08-portal-package');
    const [download] = await Promise.all([portal.waitForEvent('download'), link.click()]);
    const path = join(shots, `${cases.warrant}.age`);
    await download.saveAs(path);
    const bytes = readFileSync(path);
    check(bytes.subarray(0, 21).toString() === 'age-encryption.org/v1', 'an age file');
    await portal.goto(`${purl}/portal/cases/${cases.warrant}/letter`);
    const letter = await portal.locator('body').innerText();
    check(letter.includes(cases.warrant) && /SHA-256/i.test(letter), 'the officer reads the response letter');
    await rita.goto(`${url}/console/cases/${cases.warrant}`);
    check((await rita.locator('main').innerText()).includes('Dana Reyes, Special Agent (badge 4411), agency us-fbi-wfo'),
      'the case history names the officer who submitted it');
  });

  await step('a custodian certifies the package and the officer reads the certificate', async () => {
    await rita.goto(`${url}/console/cases/${cases.warrant}`);
    await until(rita, /Package 2 is not certified yet/, 'the current package waits for a certificate');
    await rita.getByText('The declaration').click();
    check((await rita.locator('section[aria-labelledby="certificate"]').innerText()).includes('803(6)(A)'), 'the custodian reads what they declare');
    await rita.getByLabel('Your full name', { exact: true }).fill('Rita Ramos');
    await rita.getByLabel('Your title', { exact: true }).fill('Custodian of Records');
    await rita.getByLabel('Where you sign').fill('Austin, Texas');
    await rita.getByLabel('inside the United States').check();
    await rita.getByLabel('Signature: type /s/ and your full name').fill('/s/ Rita Ramos');
    await shot(rita, '08b-certificate-form');
    await submit(rita, () => rita.getByRole('button', { name: 'Sign under penalty of perjury' }).click());
    const text = await rita.locator('main').innerText();
    check(text.includes('Recorded: certificate of authenticity signed'), 'the certificate is recorded');
    check(/Package 2 certified by Rita Ramos, Custodian of Records/.test(text), 'the page names the custodian');
    await portal.goto(`${purl}/portal/cases/${cases.warrant}`);
    await submit(portal, () => portal.getByRole('link', { name: 'The certificate of authenticity' }).click());
    const cert = await portal.locator('body').innerText();
    check(cert.includes('/s/ Rita Ramos') && cert.includes('902(11)'), 'the officer reads the signed certificate');
    check(cert.includes('I declare under penalty of perjury that the foregoing is true and correct.'), 'the § 1746 declaration');
    await shot(portal, '08c-certificate');
  });

  await step('staff record a mailed subpoena; it is released only after another person verifies the channel', async () => {
    await rita.goto(`${url}/console`);
    await submit(rita, () => rita.getByRole('link', { name: 'Record a received order' }).click());
    await rita.getByLabel('The requesting agency (from the registry: its country is counted)').selectOption('us-fbi-wfo');
    await rita.getByLabel('How it arrived').selectOption({ label: 'post' });
    await rita.getByLabel('Your reference').fill(`UI-mail-${run}`);
    await rita.getByLabel('Kind of legal process').selectOption({ label: 'Subpoena' });
    await rita.getByLabel('Legal basis (statute and section)').fill('18 U.S.C. § 2703(c)(2)');
    await rita.locator('#issuer_kind').selectOption({ label: 'Grand jury' });
    await rita.getByLabel('Issued', { exact: true }).fill('2026-11-20');
    await rita.getByLabel('Target 1', { exact: true }).fill('alice@example.com');
    await rita.getByLabel('Subscriber data').check();
    await rita.getByLabel('Document').setInputFiles({ name: 'subpoena.pdf', mimeType: 'application/pdf', buffer: pdf });
    await shot(rita, '08d-record-order');
    await submit(rita, () => rita.getByRole('button', { name: 'Record the order' }).click());
    const mine = await rita.locator('main').innerText();
    check(mine.includes('Recorded: order recorded'), 'the order is recorded');
    check(/by post, transcribed by rita/.test(mine), 'the case says how it arrived and who transcribed it');
    check(mine.includes('You transcribed this order'), 'the transcriber is told another person verifies');
    check((await rita.getByRole('button', { name: 'Propose approval' }).count()) === 0, 'no approval while the channel is unverified');
    const recorded = new URL(rita.url()).pathname;
    const alexContext = await browser.newContext();
    const alex = await consoleSignIn(alexContext, 'alex');
    await alex.goto(`${url}${recorded}`);
    await alex.getByLabel('the agency confirmed it sent the order').check();
    await submit(alex, () => alex.getByRole('button', { name: 'Record the channel callback' }).click());
    const text = await alex.locator('main').innerText();
    check(text.includes('Recorded: channel callback'), 'the callback is recorded');
    check(/channel verified by alex/.test(text), 'the page names who verified it');
    await until(alex, /Subscriber data\s+Granted\s+Released in package 1 at/, 'released after the callback');
    await noRawEnums(alex, 'the recorded case');
    await alexContext.close();
  });

  await step('the console works without JavaScript and with the keyboard', async () => {
    const plain = await browser.newContext({ javaScriptEnabled: false });
    const page = await plain.newPage();
    await page.goto(`${url}/console`);
    await page.getByLabel('User name').focus();
    await page.keyboard.type('avery');
    await page.keyboard.press('Tab');
    await page.keyboard.type(users.avery.password);
    await page.keyboard.press('Tab');
    await page.keyboard.type(freshTotp('avery'));
    await submit(page, () => page.keyboard.press('Enter'));
    check((await page.locator('main').innerText()).includes('Review queue'), 'signed in by keyboard');
    await page.goto(`${url}/console/cases/${cases.emergency}`);
    const text = await page.locator('main').innerText();
    check(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/.test(text), 'times fall back to UTC text');
    await shot(page, '09-console-no-js');
    await submit(page, () => page.getByRole('button', { name: 'Sign out' }).press('Enter'));
    check((await page.content()).includes('Console sign-in'), 'signed out');
    await plain.close();
  });

  await step('an admin suspends an agency and sees it in its history', async () => {
    const adminContext = await browser.newContext();
    const adam = await consoleSignIn(adminContext, 'adam');
    await submit(adam, () => adam.getByRole('link', { name: 'Agencies' }).click());
    await submit(adam, () => adam.getByRole('link', { name: 'us-nypd' }).click());
    await adam.getByLabel(/One E.164 number a line/).fill('+12025550142');
    await submit(adam, () => adam.getByRole('button', { name: 'Save numbers' }).click());
    await submit(adam, () => adam.getByRole('button', { name: 'Suspend' }).click());
    const text = await adam.locator('main').innerText();
    check(text.includes('Recorded: agency suspended'), 'the suspension is recorded');
    check(/Status\s+Suspended/.test(text), 'the agency is suspended');
    check(/suspended\s+suspended\s+adam/.test(text), 'the history names the admin');
    check(text.includes('+12025550142'), 'the callback number is saved');
    await shot(adam, '10-agency');
    await submit(adam, () => adam.getByRole('link', { name: 'Agencies' }).click());
    await adam.getByLabel(/Agency id/).fill(`xx-ui-${run}`);
    await adam.getByLabel('Name', { exact: true }).fill('UI test police');
    await adam.getByLabel(/^Country/).fill('GB');
    await adam.getByLabel('Kind').selectOption('law_enforcement');
    await adam.getByLabel(/Callback numbers for emergencies/).fill('+442079460000');
    await submit(adam, () => adam.getByRole('button', { name: 'Add the agency' }).click());
    const added = await adam.locator('main').innerText();
    check(added.includes('Recorded: agency added (pending until verified)'), `the agency is added (${added.slice(0, 300)})`);
    check(/Status\s+Pending verification/.test(added), `the new entry is pending (${added.slice(0, 400)})`);
    check(/Name\s+UI test police/.test(added), 'the new entry is named');
    check((await adam.getByLabel(/One E.164 number a line/).inputValue()).includes('+442079460000'), 'its callback number');
    await noRawEnums(adam, 'the agency page');
    await adminContext.close();
  });

  await step('an admin adds an officer and replaces a lost passkey only after a callback', async () => {
    const adminContext = await browser.newContext();
    const adam = await consoleSignIn(adminContext, 'adam');
    await adam.goto(`${url}/console/agencies/us-fbi-wfo`);
    await adam.getByLabel('Badge or staff number').fill('7302');
    await adam.locator('#officer_name').fill('Sam Ortiz');
    await adam.getByLabel('Rank or title').fill('Detective');
    await adam.getByLabel('E-mail address', { exact: true }).fill(`sam.${run}@fbi.example`);
    await adam.getByLabel(/Phone \(international form/).fill('+1 202 555 0111');
    await submit(adam, () => adam.getByRole('button', { name: 'Add the officer' }).click());
    const secret = await adam.locator('#totp-secret').innerText();
    check(/^[A-Z2-7]{32}$/.test(secret), 'the new officer\'s code secret is shown once');
    await adam.goto(`${url}/console/agencies/us-fbi-wfo`);
    const officers = await adam.locator('#officers').innerText();
    check(officers.includes('Sam Ortiz, Detective (badge 7302)') && officers.includes('Dana Reyes'), 'both officers are listed');
    const dana = adam.locator('#officers tbody tr', { hasText: 'Dana Reyes' });
    check((await dana.innerText()).includes('officer-admin'), 'the officer-admin is marked');
    await dana.getByText('Replace a lost passkey').click();
    const called = await dana.locator('select[name=called] option').first().getAttribute('value');
    await submit(adam, () => dana.getByRole('button', { name: 'Record the callback and replace the sign-in' }).click());
    check((await adam.locator('#totp-secret').innerText()) !== officerSecret, 'a new secret for the officer');
    await adam.goto(`${url}/console/agencies/us-fbi-wfo`);
    const history = await adam.locator('main').innerText();
    check(history.includes(`agency called back on ${called}`), 'the callback is in the agency\'s history');
    // The officer's passkeys and sessions ended with it.
    await portal.goto(`${purl}/portal`);
    check((await portal.content()).includes('Sign in with a passkey'), 'the officer is signed out');
    await shot(adam, '10b-officers');
    await adminContext.close();
  });

  await step('the public status page shows the log and how to verify it', async () => {
    const page = await officer.newPage();
    await page.goto(`${url}/status`);
    const text = await page.locator('main').innerText();
    check(text.includes('writ log verify --url'), 'the verify command');
    check(Number(await page.locator('#log-size').innerText()) > 0, 'the log has entries');
    await shot(page, '11-status');
  });

  await step('the transparency page has the navigation, a real verify command and its method', async () => {
    const page = await officer.newPage();
    await page.goto(`${url}/transparency`);
    check((await page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'Log status' }).count()) === 1, 'the navigation');
    const command = await page.locator('#verify').innerText();
    const vkey = (await (await page.request.get(`${url}/log/vkey`)).text()).trim();
    check(command.includes(`--url ${url}/log`) && command.includes(vkey), `the verify command is real (${command})`);
    check(!/REPORT|PREFIX|VKEY/.test(command), 'no placeholders');
    check((await page.locator('main, body').first().innerText()).includes('How these figures are computed'), 'the method');
    // A colour means one thing: refusals are not green, disclosures not red.
    const fills = await page.locator('p.legend span').evaluateAll((spans) =>
      Object.fromEntries(spans.map((s) => [s.innerText.trim(), getComputedStyle(s.querySelector('i')).backgroundColor])));
    check(fills['Rejected'] !== 'rgb(26, 127, 55)' && fills['Content disclosed'] !== 'rgb(207, 34, 46)', `colours (${JSON.stringify(fills)})`);
    const colours = Object.values(fills);
    check(new Set(colours).size === colours.length, 'no colour has two meanings');
    await noRawEnums(page, 'the transparency page');
    await shot(page, '12-transparency');
  });
} catch (e) {
  if (!failed) {
    failed += 1;
    console.log(`not ok - ${e && e.stack ? e.stack : e}`);
  }
} finally {
  await browser.close();
  writeFileSync(join(shots, 'cases.json'), JSON.stringify(cases, null, 2));
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
