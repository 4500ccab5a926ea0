// The web app's browser test: Debian's Chromium driven by playwright-core against the real
// binary running the demo. Each role signs in and does its main task; on every page axe-core
// (injected into the page) must find no serious or critical violation, the page must fit a
// 390 px wide phone without sideways scroll, the console must show no Content-Security-Policy
// refusal, and no request may leave the origin. With SCREENSHOTS=DIR it saves each role's
// main page there.
//
// Usage: node walk.mjs BASE_URL PASSWORD   (run by cmd/courtside.TestBrowser_EveryRoleEndToEnd)
import { chromium } from 'playwright-core';
import { readFileSync, mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const [base, password] = process.argv.slice(2);
if (!base || !password) {
  console.error('usage: node walk.mjs BASE_URL PASSWORD');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const shots = process.env.SCREENSHOTS || '';
if (shots) mkdirSync(shots, { recursive: true });

const failures = [];
const checked = [];
const fail = (msg) => { failures.push(msg); console.log('FAIL ' + msg); };

// audit checks the page as it stands: axe, width, CSP refusals seen so far.
async function audit(page, role, what) {
  await page.waitForLoadState('load');
  const url = new URL(page.url());
  const label = `${role} ${url.pathname}${url.search} (${what})`;
  await page.evaluate(axeSource);
  const res = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, target: v.nodes[0] && v.nodes[0].target.join(' ') }));
  });
  for (const v of res) {
    if (v.impact === 'serious' || v.impact === 'critical') {
      fail(`${label}: axe ${v.impact} ${v.id} on ${v.nodes} node(s), first ${v.target}`);
    }
  }
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > 390) fail(`${label}: scrollWidth ${width} > 390`);
  checked.push(label);
  console.log(`page ${label}: axe ${res.length} minor, width ${width}`);
}

async function session(role, work) {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
    viewport: { width: 390, height: 844 },
    locale: 'en-US',
  });
  context.on('request', (req) => {
    const u = req.url();
    if (!u.startsWith(base + '/')) fail(`${role}: request left the origin: ${u}`);
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(15000);
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) fail(`${role}: console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => fail(`${role}: page error: ${err.message}`));
  page.on('dialog', (d) => d.accept());
  try {
    await work(page);
  } catch (err) {
    fail(`${role}: ${err.stack || err}`);
    if (shots) await page.screenshot({ path: join(shots, `failed-${role}.png`), fullPage: true }).catch(() => {});
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function screenshot(page, name) {
  if (!shots) return;
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.screenshot({ path: join(shots, name + '.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(shots, name + '-phone.png') });
}

// signIn signs in with the labelled fields and the Sign in button.
async function signIn(page, username) {
  await page.goto(base + '/');
  await audit(page, username, 'sign-in page');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
}

async function expectText(page, text) {
  await page.getByText(text, { exact: false }).first().waitFor({ timeout: 10000 });
}

// The coordinator, by keyboard only: skip link, sign in, then the week, a hearing, an
// interpreter request, the victim with the audited Show and the policy, the report.
await session('coordinator', async (page) => {
  await page.goto(base + '/');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.textContent);
  if (!/Skip to the content/.test(focused || '')) fail(`coordinator: the first Tab focuses ${JSON.stringify(focused)}, not the skip link`);
  const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  if (ring === 'none') fail('coordinator: the focused skip link shows no focus ring');
  await page.keyboard.press('Tab'); // the brand link
  await page.keyboard.press('Tab'); // Username
  await page.keyboard.type('coordinator');
  await page.keyboard.press('Tab'); // Password
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/week/);
  await audit(page, 'coordinator', 'week list');
  await screenshot(page, 'coordinator-week');
  await page.getByRole('link', { name: 'grid' }).click();
  await page.waitForURL(/view=grid/);
  await audit(page, 'coordinator', 'week grid');
  await page.goto(base + '/hearings/1');
  await audit(page, 'coordinator', 'hearing with ranked candidates');
  await expectText(page, 'Ranked by tier');
  await page.getByRole('button', { name: 'Offer to the best available interpreter' }).click();
  await page.waitForLoadState('load');
  await expectText(page, 'Offered to');
  await audit(page, 'coordinator', 'hearing after the request');
  await page.getByRole('link', { name: 'Victims', exact: true }).click();
  await audit(page, 'coordinator', 'victims');
  await page.getByRole('link', { name: 'V-1042-A' }).click();
  await audit(page, 'coordinator', 'victim, hidden');
  await page.getByRole('button', { name: 'Show legal name, contacts and contact policy' }).click();
  await page.waitForLoadState('load');
  await expectText(page, 'Legal name and contacts');
  await audit(page, 'coordinator', 'victim, shown');
  await page.getByLabel('Neutral sender name').fill('Harbor Health');
  await page.getByRole('button', { name: 'Save the contact policy' }).click();
  await page.waitForLoadState('load');
  await expectText(page, 'The contact policy is saved.');
  await page.goto(base + '/report?from=2026-01-01&to=2035-01-01');
  await audit(page, 'coordinator', 'caseload report');
  await page.goto(base + '/requests');
  await audit(page, 'coordinator', 'requests');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForLoadState('load');
  await expectText(page, 'You are signed out.');
});

// The interpreter, in Spanish: the language switch on the sign-in page, then Accept.
await session('interpreter-es', async (page) => {
  await page.goto(base + '/');
  await page.getByRole('button', { name: 'Español' }).click();
  await page.waitForLoadState('load');
  await audit(page, 'interpreter-es', 'sign-in page in Spanish');
  await page.getByLabel('Usuario').fill('interpreter-es');
  await page.getByLabel('Contraseña').fill(password);
  await page.getByRole('button', { name: 'Iniciar sesión' }).click();
  await page.waitForURL(/\/offers/);
  await audit(page, 'interpreter-es', 'offers in Spanish');
  await screenshot(page, 'interpreter-offers');
  await page.getByRole('button', { name: 'Aceptar' }).first().click();
  await page.waitForLoadState('load');
  await expectText(page, 'Usted aceptó.');
  await audit(page, 'interpreter-es', 'offers after accepting');
  await page.goto(base + '/calendar');
  await audit(page, 'interpreter-es', 'calendar set-up in Spanish');
});

// The advocate: upcoming hearings, then an app password created on the spot.
await session('advocate', async (page) => {
  await signIn(page, 'advocate');
  await page.waitForURL(/\/my/);
  await audit(page, 'advocate', 'my hearings');
  await screenshot(page, 'advocate-my-hearings');
  await page.getByRole('link', { name: 'Add to my calendar' }).first().click();
  await page.waitForURL(/\/calendar/);
  await audit(page, 'advocate', 'calendar set-up');
  await page.getByLabel('A name to recognise it by').fill('work phone');
  await page.getByLabel('Your Courtside password').fill(password);
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.waitForLoadState('load');
  await expectText(page, 'It is shown only this once.');
  const secret = await page.locator('#new-secret').textContent();
  if (!/^cs_app_/.test((secret || '').trim())) fail(`advocate: the new app password looks wrong: ${secret}`);
  if (await page.locator('svg.qr').count() !== 1) fail('advocate: no QR code on the calendar page');
  await audit(page, 'advocate', 'calendar with the new secret');
  await screenshot(page, 'advocate-calendar');
});

// The prosecutor's clerk: post a hearing, continue it, cancel it; import a docket with a
// preview; share a case.
await session('prosecutor', async (page) => {
  await signIn(page, 'prosecutor');
  await page.waitForURL(/\/docket/);
  await audit(page, 'prosecutor', 'docket');
  await screenshot(page, 'clerk-docket');
  await page.getByLabel('Date').fill('2031-03-04');
  await page.getByLabel('Courtroom').fill('7B');
  await page.getByRole('button', { name: 'Post the hearing' }).click();
  await page.waitForURL(/\/hearings\/\d+/);
  await expectText(page, 'The hearing is posted');
  await audit(page, 'prosecutor', 'posted hearing');
  await page.locator('#c-date').fill('2031-03-11');
  await page.locator('#c-reason').fill('defence request');
  await page.getByRole('button', { name: 'Continue the hearing' }).click();
  await page.waitForLoadState('load');
  await expectText(page, 'The hearing is continued');
  await page.locator('#x-reason').fill('plea agreement');
  await page.getByRole('button', { name: 'Cancel the hearing' }).click();
  await page.waitForLoadState('load');
  await expectText(page, 'The hearing is cancelled');
  await audit(page, 'prosecutor', 'cancelled hearing');
  await page.goto(base + '/import');
  await audit(page, 'prosecutor', 'import');
  const court = 'Superior Court (demo)';
  await page.getByLabel('Docket CSV file').setInputFiles({ name: 'docket.csv', mimeType: 'text/csv', buffer: Buffer.from(
    'external_id,docket,court,kind,starts_at,ends_at,courtroom\n' +
    `WEB-1,26-CR-09001,${court},PLEA,2031-05-06 09:30,2031-05-06 10:30,2A\n` +
    `WEB-2,26-CR-09001,${court},BRUNCH,2031-05-07 09:30,2031-05-07 10:30,2A\n`) });
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.waitForLoadState('load');
  await expectText(page, 'Line 3: column kind');
  await audit(page, 'prosecutor', 'import preview with a wrong line');
  await page.getByLabel('Docket CSV file').setInputFiles({ name: 'docket.csv', mimeType: 'text/csv', buffer: Buffer.from(
    'external_id,docket,court,kind,starts_at,ends_at,courtroom\n' +
    `WEB-1,26-CR-09001,${court},PLEA,2031-05-06 09:30,2031-05-06 10:30,2A\n`) });
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.waitForLoadState('load');
  await expectText(page, '1 hearings read');
  await audit(page, 'prosecutor', 'import preview');
  await page.getByRole('button', { name: 'Import these hearings' }).click();
  await page.waitForLoadState('load');
  await expectText(page, 'Imported: 1 new hearings');
  await page.goto(base + '/docket');
  await page.getByRole('link', { name: '26-CR-09001' }).first().click();
  await page.waitForURL(/\/cases\/\d+/);
  await page.getByLabel('Advocacy organisation, its exact name').fill('Harbor Advocacy Center (demo)');
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  await page.waitForLoadState('load');
  await expectText(page, 'The case is shared with');
  await audit(page, 'prosecutor', 'shared case');
});

// The admin: users, a new user, courts, webhooks, failed events.
await session('admin', async (page) => {
  await signIn(page, 'admin');
  await page.waitForURL(/\/admin/);
  await audit(page, 'admin', 'users and organisations');
  await screenshot(page, 'admin-users');
  await page.getByLabel('Username', { exact: true }).fill('advocate9');
  await page.getByLabel('Role').selectOption('ADVOCATE');
  await page.getByLabel('Organisation', { exact: true }).fill('Harbor Advocacy Center (demo)');
  await page.getByLabel('First password').fill('tidewater lantern orchard 58');
  await page.getByRole('button', { name: 'Add the user' }).click();
  await page.waitForLoadState('load');
  await expectText(page, 'Created advocate9');
  for (const path of ['/admin/courts', '/admin/webhooks', '/admin/events']) {
    await page.goto(base + path);
    await audit(page, 'admin', path);
  }
});

console.log(`browser: ${checked.length} pages checked, ${failures.length} failures`);
process.exit(failures.length === 0 ? 0 : 1);
