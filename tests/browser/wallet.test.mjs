// The EU Digital Identity Wallet, cross-device, in headless Chromium: the demo service → picker →
// "Use your digital identity wallet" → the page with the QR code (screenshot in tests/out/) → the
// test wallet answers the QR code's request → the waiting page moves on by itself (a Refresh header)
// → the demo shows a pairwise sub at level high. With JavaScript the page's script polls its status
// and moves on; without, the Refresh header does. The QR code is decoded from a screenshot (zbarimg).
// The wallet's pages (the waiting page, the page of a login that has ended, the page after its Back
// or "choose another way") are audited in English and Welsh at 320 and 1280 px, with and without
// JavaScript (lib/audit.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { spawnSync } from 'node:child_process';
import { startHub, secretHash, DEMO_SECRET, LOA_HIGH } from '../integration/lib/hub.mjs';
import { makePki, issuer, holder, issuePid, answer } from '../integration/lib/wallet.mjs';
import { GALLERY, newContext, trackDocuments, auditor, writeGallery } from './lib/audit.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../out');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
let hub, browser, pki, pid, hold, aud;

before(async () => {
  await mkdir(OUT, { recursive: true });
  pki = await makePki();
  hold = await holder();
  pid = await issuePid(await issuer(pki), hold);
  hub = await startHub({
    hub: { demo: true },
    idps: [{ id: 'wallet', adapter: 'wallet', display_name: 'Use your digital identity wallet',
      display_name_cy: 'Defnyddiwch eich waled hunaniaeth ddigidol', max_loa: LOA_HIGH,
      settings: { verifier_key: pki.file('verifier.key'), verifier_cert: pki.file('verifier.crt'),
        client_id_dns: 'verifier.idhub.test', trust_anchors: pki.file('issuer-ca.crt') } }],
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
  await mkdir(GALLERY, { recursive: true });
  const css = Buffer.byteLength(await (await fetch(`${hub.issuer}/assets/idhub.css`)).text());
  aud = auditor(browser, css, 'wallet-');
});
after(async () => {
  if (aud?.shots.length) await writeGallery();
  await browser?.close();
  await hub?.stopAndCheck();
  if (pki) await rm(pki.dir, { recursive: true, force: true });
});

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The demo → picker → the wallet's waiting page, in a new context. */
async function walletPage(t, javaScriptEnabled) {
  const context = await browser.newContext({ javaScriptEnabled });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await toWalletPage(page);
  return page;
}

async function toWalletPage(page) {
  await page.goto(`${hub.issuer}/demo`);
  await page.getByRole('link', { name: /^\s*(log|sign) ?in\s*$/i })
    .or(page.getByRole('button', { name: /^\s*(log|sign) ?in\s*$/i })).first().click();
  await page.waitForURL(new RegExp(`^${escapeRe(hub.issuer)}/login/[^/?#]+$`));
  await page.getByLabel('Use your digital identity wallet').check();
  await page.locator('form:has([name="idp"]) button').first().click();
  await page.waitForURL(new RegExp(`^${escapeRe(hub.issuer)}/idp/wallet/wallet\\?rid=`));
}

/** Decodes the QR code on the page: a screenshot of the SVG, read by zbarimg (zbar-tools). */
async function decodeQr(page, file) {
  await page.locator('#wallet-qr svg').screenshot({ path: file });
  const r = spawnSync('zbarimg', ['--raw', '-q', '-Sdisable', '-Sqrcode.enable', file], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 0, `zbarimg could not read the QR code: ${r.stderr}`);
  return r.stdout.trim();
}

/**
 * Cross-device: the QR code is decoded from the screen, and the test wallet answers from the decoded
 * text alone. With JavaScript, the Refresh header is taken out of every waiting page the browser
 * gets (the first, reached by a redirect, is reloaded through the route), so only the page's script
 * can move it on; without JavaScript the Refresh header is left and is what moves it on.
 */
async function crossDevice(t, javaScriptEnabled, shot) {
  const page = await walletPage(t, javaScriptEnabled);
  const polls = [];
  if (javaScriptEnabled) {
    await page.route(/\/idp\/wallet\/wallet\?rid=/, async (route) => {
      const res = await route.fetch({ maxRedirects: 0 });
      const headers = res.headers();
      delete headers.refresh;
      await route.fulfill({ response: res, headers });
    });
    await page.route(/\/idp\/wallet\/status\?rid=/, async (route) => {
      const res = await route.fetch();
      const body = await res.text();
      polls.push(`${res.status()} ${body}`);
      await route.fulfill({ response: res, body });
    });
    await page.reload();
  }
  const qr = page.locator('#wallet-qr svg');
  assert.ok(await qr.isVisible(), 'the QR code is shown');
  const box = await qr.boundingBox();
  assert.ok(box.width >= 150 && box.height >= 150, `a QR code big enough to scan: ${JSON.stringify(box)}`);
  if (shot) await page.screenshot({ path: path.join(OUT, shot), fullPage: true });
  const decoded = await decodeQr(page, path.join(OUT, `wallet-qr-${javaScriptEnabled ? 'js' : 'nojs'}.png`));
  // the QR code is the page's request link, for the cross-device flow
  const link = await page.locator('#wallet-link').getAttribute('href');
  assert.equal(decoded, link.replace('flow%3Dsame', 'flow%3Dcross'));
  const u = new URL(decoded);
  assert.equal(u.protocol, 'openid4vp:');
  assert.equal(u.searchParams.get('client_id'), 'x509_san_dns:verifier.idhub.test');
  const rid = new URL(page.url()).searchParams.get('rid');
  assert.equal(u.searchParams.get('request_uri'), `${hub.issuer}/idp/wallet/request?rid=${rid}&flow=cross`);
  // the test wallet has nothing but the decoded text
  const { request, res } = await answer(decoded, pid, hold);
  assert.equal(res.status, 200, res.text);
  assert.match(request.response_uri, /flow=cross$/);
  await page.locator('#claim-sub').waitFor({ state: 'visible', timeout: 20000 });
  assert.ok(page.url().startsWith(`${hub.issuer}/demo`), page.url());
  assert.equal((await page.locator('#claim-acr').innerText()).trim(), LOA_HIGH);
  if (javaScriptEnabled) {
    // the script asked the status URL, and went on when it said ready (no Refresh reached it)
    assert.ok(polls.length >= 1, 'the page polled its status');
    assert.equal(polls.at(-1), '200 {"ready":true}');
    assert.ok(polls.slice(0, -1).every((p) => p === '200 {"ready":false}'), polls.join(' '));
  }
  return (await page.locator('#claim-sub').innerText()).trim();
}

test('cross-device with JavaScript: the QR code decodes to the request, the wallet answers from it, the page polls its status and moves on (no Refresh)', async (t) => {
  const sub = await crossDevice(t, true, 'wallet-cross-device-qr.png');
  assert.ok(sub.length > 0);
});

test('cross-device without JavaScript: the QR code decodes to the request; the Refresh header alone brings the browser on', async (t) => {
  const sub = await crossDevice(t, false, null);
  assert.ok(sub.length > 0);
});

// axe's meta-refresh rule (WCAG 2.2.1) flags a meta refresh under 20 hours: the waiting page
// reloads by an HTTP Refresh header instead, which is no element of the page.
for (const javaScriptEnabled of [true, false]) {
  test(`the waiting page: reloads by a Refresh header, no meta refresh; axe 0 violations (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, async (t) => {
    const context = await browser.newContext({ javaScriptEnabled });
    t.after(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    // Axe reads the page, not its headers: the route holds the page still while axe runs (it
    // drops the Refresh header after checking it), so no reload lands in the middle of a run.
    await toWalletPage(page);
    let refresh;
    await page.route(/\/idp\/wallet\/wallet\?rid=/, async (route) => {
      const res = await route.fetch();
      const headers = res.headers();
      refresh = headers.refresh;
      delete headers.refresh;
      await route.fulfill({ response: res, headers });
    });
    await page.reload(); // the page once more, through the route (a redirect's target is not routed)
    assert.equal(refresh, '3', 'the waiting page reloads every 3 s by a Refresh header');
    assert.equal(await page.locator('meta[http-equiv="refresh" i]').count(), 0, 'no meta refresh');
    // axe needs the page's timers, which do not run with JavaScript off: there it checks the
    // document that browser built, served as is at the same URL to a context with JavaScript
    let on = page;
    if (!javaScriptEnabled) {
      const html = await page.content(), url = page.url();
      const ctx2 = await browser.newContext();
      t.after(() => ctx2.close());
      on = await ctx2.newPage();
      await on.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));
      await on.goto(url);
    }
    await on.evaluate(await readFile(AXE, 'utf8')); // through the debugging protocol: past the CSP
    const res = await on.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
    assert.deepEqual(res.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length}) ${v.nodes.slice(0, 2).map((n) => n.html).join(' ')}`), []);
  });
}

/** The waiting page without its Refresh header, so that no reload lands in the middle of an audit
 *  (the route serves every later load of it; the first, a redirect's target, is reloaded). */
async function holdStill(page) {
  await page.route(/\/idp\/wallet\/wallet\?rid=/, async (route) => {
    const res = await route.fetch({ maxRedirects: 0 });
    const headers = res.headers();
    delete headers.refresh;
    await route.fulfill({ response: res, headers });
  });
  await page.reload();
}

// Issue 13: the wallet's pages render through the hub's catalogs, in the citizen's language.
const WORDS = {
  en: { h1: 'Use your digital identity wallet', open: 'Open your wallet', qr: 'QR code to scan with your wallet',
    back: 'Back', another: 'Choose another way to prove your identity', cancelled: 'You did not finish proving your identity',
    finished: 'You have already finished signing in', invalid: 'This sign-in link is not valid' },
  cy: { h1: 'Defnyddiwch eich waled hunaniaeth ddigidol', open: 'Agor eich waled', qr: "Cod QR i'w sganio gyda'ch waled",
    back: 'Yn ôl', another: 'Dewiswch ffordd arall o brofi pwy ydych chi', cancelled: 'Wnaethoch chi ddim gorffen profi pwy ydych chi',
    finished: 'Rydych chi eisoes wedi gorffen mewngofnodi', invalid: "Nid yw'r ddolen fewngofnodi hon yn ddilys" },
};

/** The demo → picker → the wallet's waiting page (held still), in page's context. */
async function toWaiting(page) {
  await page.goto(`${hub.issuer}/demo`);
  await page.locator('#login').click();
  await page.waitForURL(new RegExp(`^${escapeRe(hub.issuer)}/login/[^/?#]+$`));
  await pickWallet(page);
}

async function pickWallet(page) {
  await page.locator('input[name="idp"][value="wallet"]').check();
  await page.locator('form:has([name="idp"]) button[type="submit"]').first().click();
  await page.waitForURL(new RegExp(`^${escapeRe(hub.issuer)}/idp/wallet/wallet\\?rid=`));
  await holdStill(page);
}

for (const lang of ['en', 'cy']) {
  for (const js of [true, false]) {
    test(`the wallet's pages in ${lang}, JavaScript ${js ? 'on' : 'off'}: the waiting page and a login that has ended, at 320 and 1280 px (axe 0, no sideways scroll, <html lang>, no product name, 15 KB)`, async (t) => {
      const context = await newContext(browser, lang, js);
      t.after(() => context.close());
      const page = await context.newPage();
      page.setDefaultTimeout(15000);
      const doc = trackDocuments(page);
      await toWaiting(page);
      const w = WORDS[lang];
      assert.equal((await page.locator('h1').innerText()).trim(), w.h1);
      assert.equal((await page.locator('#wallet-link').innerText()).trim(), w.open);
      assert.equal(await page.locator('#qr-title').textContent(), w.qr);
      assert.ok((await page.title()).startsWith(w.h1), `the page's title: ${await page.title()}`);
      await aud.audit(page, 'waiting', lang, js, doc);
      // a login that no longer waits (here one that never did): the page sends the browser on to
      // the journey's callback, whose page says what happened and what to do (a made-up rid is
      // no state of the hub's: "not valid"; a spent one's page is the test below)
      const rid = new URL(page.url()).searchParams.get('rid');
      const gone = await page.goto(page.url().replace(rid, 'A'.repeat(43)));
      assert.equal(gone.status(), 400);
      assert.match(page.url(), /\/callback\/wallet\?state=A{43}$/);
      assert.equal((await page.locator('h1').innerText()).trim(), w.invalid);
      await aud.audit(page, 'ended', lang, js, doc);
    });

    test(`the waiting page's Back and "choose another way" in ${lang}, JavaScript ${js ? 'on' : 'off'}: each ends the login with the journey's cancelled page, whose "choose another way" returns to the picker`, async (t) => {
      const context = await newContext(browser, lang, js);
      t.after(() => context.close());
      const page = await context.newPage();
      page.setDefaultTimeout(15000);
      const doc = trackDocuments(page);
      const w = WORDS[lang];
      await toWaiting(page);
      // Back: the first thing in main (before the heading), a button styled as the Back link
      const back = page.locator('main form button.back');
      assert.equal((await back.innerText()).trim(), w.back);
      assert.ok(await page.locator('main > form:first-child button.back').count() === 1, 'Back comes first');
      await back.click();
      await page.waitForURL(/\/callback\/wallet\?state=[\w-]+&cancel=1$/);
      assert.equal((await page.locator('h1').innerText()).trim(), w.cancelled);
      await aud.audit(page, 'cancelled', lang, js, doc);
      await page.getByRole('link', { name: w.another }).click();
      await page.waitForURL(new RegExp(`^${escapeRe(hub.issuer)}/login/[^/?#]+$`));
      // the same journey again: the wallet's page, and its secondary "choose another way" button
      await pickWallet(page);
      await page.getByRole('button', { name: w.another }).click();
      await page.waitForURL(/\/callback\/wallet\?state=[\w-]+&cancel=1$/);
      assert.equal((await page.locator('h1').innerText()).trim(), w.cancelled);
    });
  }
}

test('a waiting page left open in another tab after a cancel: its script sees the login is no longer waiting and moves on to the hub\'s page for a finished sign-in (no Refresh)', async (t) => {
  const context = await newContext(browser, 'en', true);
  t.after(() => context.close());
  const open = await context.newPage();
  open.setDefaultTimeout(15000);
  await toWaiting(open); // held still: only its script can move it on
  const other = await context.newPage();
  other.setDefaultTimeout(15000);
  await other.goto(open.url());
  await other.locator('main form button.back').click();
  await other.waitForURL(/\/callback\/wallet\?state=[\w-]+&cancel=1$/);
  await open.waitForURL(/\/callback\/wallet\?state=[\w-]+$/, { timeout: 20000 });
  assert.equal((await open.locator('h1').innerText()).trim(), WORDS.en.finished);
});
