// The citizen's journey in headless Chromium: the built-in demo service at /demo → picker → the
// sandbox IdP on another site (localhost) → cross-site auto-POST and re-post → the verified claims.
// Once with JavaScript, once without (the buttons of the auto-POST and re-post pages by hand).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startHub, secretHash, DEMO_SECRET, LOA_SUBSTANTIAL } from '../integration/lib/hub.mjs';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../out');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
let hub;
let browser;

before(async () => {
  await mkdir(OUT, { recursive: true });
  hub = await startHub({
    hub: { demo: true },
    services: (port, issuer) => [{
      client_id: 'demo', name: 'Demo service', auth_method: 'client_secret_basic', secret_hash: secretHash(DEMO_SECRET),
      redirect_uris: [`${issuer}/demo/callback`], sector: 'demo', scopes: ['openid', 'profile'], id_token_alg: 'ES256',
    }],
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  await browser?.close();
  await hub?.stopAndCheck();
});

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The submit buttons of the form that holds `field` (a name). */
const submitOf = (page, field) => page.locator(
  `form:has([name="${field}"]) button:not([type]), form:has([name="${field}"]) button[type="submit"], form:has([name="${field}"]) input[type="submit"]`);

/** The demo page's "Log in" control (a link or a button; its text may say "Sign in"). */
const loginControl = (page) => page.getByRole('link', { name: /^\s*(log|sign) ?in\s*$/i })
  .or(page.getByRole('button', { name: /^\s*(log|sign) ?in\s*$/i })).first();

async function pickerChecks(page) {
  assert.equal(await page.locator('h1').count() >= 1, true, 'the picker has an h1');
  assert.ok((await page.locator('h1').first().innerText()).trim().length > 0, 'the h1 has text');
  const fieldset = page.locator('fieldset:has(input[type="radio"][name="idp"])');
  assert.equal(await fieldset.count(), 1, 'the radios are in a fieldset');
  const legend = fieldset.locator('legend');
  assert.equal(await legend.count(), 1, 'the fieldset has a legend');
  assert.ok((await legend.innerText()).trim().length > 0, 'the legend has text');
  const unlabelled = await page.locator('input[type="radio"]').evaluateAll(
    (els) => els.filter((e) => !e.labels || e.labels.length === 0 || !e.labels[0].textContent.trim()).map((e) => e.value));
  assert.deepEqual(unlabelled, [], 'every radio has a label bound to it');
  assert.equal(await page.locator('html[lang]').count(), 1, 'the page declares its language');
}

test('demo → picker → sandbox (localhost) → Alice → claims, with JavaScript', async (t) => {
  const context = await browser.newContext();
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));

  await page.goto(`${hub.issuer}/demo`);
  await page.screenshot({ path: path.join(OUT, '01-demo.png'), fullPage: true });
  await loginControl(page).click();

  await page.waitForURL(new RegExp(`^${escapeRe(hub.issuer)}/login/[^/?#]+$`));
  await pickerChecks(page);
  await page.screenshot({ path: path.join(OUT, '02-picker.png'), fullPage: true });
  await page.getByLabel('Sandbox identity provider').check();
  await submitOf(page, 'idp').first().click();

  await page.waitForURL(new RegExp(`^http://localhost:${hub.port}/idp/sandbox/login`));
  await page.screenshot({ path: path.join(OUT, '03-sandbox.png'), fullPage: true });
  await page.getByLabel(/Alice/).check();
  await page.locator('[name="action"][value="login"]').click();

  // the auto-POST (cross-site: the cookie stays home) and the hub's re-post page submit themselves
  await page.locator('#claim-sub').waitFor({ state: 'visible', timeout: 20000 });
  assert.ok(page.url().startsWith(`${hub.issuer}/demo`), `back on the demo service: ${page.url()}`);
  await page.screenshot({ path: path.join(OUT, '04-claims.png'), fullPage: true });
  const sub = (await page.locator('#claim-sub').innerText()).trim();
  const acr = (await page.locator('#claim-acr').innerText()).trim();
  assert.ok(sub.length > 0, 'a pairwise sub is shown');
  assert.equal(acr, LOA_SUBSTANTIAL);
  const csp = problems.filter((p) => /Content Security Policy|Refused to/i.test(p));
  assert.deepEqual(csp, [], 'no Content-Security-Policy violations on the way');
});

test('the same journey with JavaScript disabled, by the visible buttons', async (t) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15000);

  await page.goto(`${hub.issuer}/demo`);
  await loginControl(page).click();
  await page.waitForURL(new RegExp(`^${escapeRe(hub.issuer)}/login/[^/?#]+$`));
  await pickerChecks(page);
  await page.getByLabel('Sandbox identity provider').check();
  await submitOf(page, 'idp').first().click();

  await page.waitForURL(new RegExp(`^http://localhost:${hub.port}/idp/sandbox/login`));
  await page.getByLabel(/Alice/).check();
  await page.locator('[name="action"][value="login"]').click();

  // without JavaScript the auto-POST page and the re-post page each show a button to press
  const visited = [];
  for (let i = 0; i < 4; i++) {
    await page.waitForLoadState('load');
    if (await page.locator('#claim-sub').count()) break;
    visited.push(page.url());
    const button = page.locator('form button:visible, form input[type="submit"]:visible').first();
    assert.equal(await button.count(), 1, `a visible button on ${page.url()}:\n${(await page.content()).slice(0, 1500)}`);
    await Promise.all([page.waitForNavigation(), button.click()]);
  }
  await page.locator('#claim-sub').waitFor({ state: 'visible' });
  assert.ok(visited.length >= 1, 'the auto-POST page needed its button');
  assert.ok((await page.locator('#claim-sub').innerText()).trim().length > 0);
  assert.equal((await page.locator('#claim-acr').innerText()).trim(), LOA_SUBSTANTIAL);
});
