// The EU Digital Identity Wallet, cross-device, in headless Chromium: the demo service → picker →
// "Use your digital identity wallet" → the page with the QR code (screenshot in tests/out/) → the
// test wallet answers the QR code's request → the waiting page moves on by itself (meta refresh)
// → the demo shows a pairwise sub at level high. With and without JavaScript.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startHub, secretHash, DEMO_SECRET, LOA_HIGH } from '../integration/lib/hub.mjs';
import { makePki, issuer, holder, issuePid, answer } from '../integration/lib/wallet.mjs';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../out');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
let hub, browser, pki, pid, hold;

before(async () => {
  await mkdir(OUT, { recursive: true });
  pki = await makePki();
  hold = await holder();
  pid = await issuePid(await issuer(pki), hold);
  hub = await startHub({
    hub: { demo: true },
    idps: [{ id: 'wallet', adapter: 'wallet', display_name: 'Use your digital identity wallet', max_loa: LOA_HIGH,
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
});
after(async () => {
  await browser?.close();
  await hub?.stopAndCheck();
  if (pki) await rm(pki.dir, { recursive: true, force: true });
});

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function crossDevice(t, javaScriptEnabled, shot) {
  const context = await browser.newContext({ javaScriptEnabled });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(`${hub.issuer}/demo`);
  await page.getByRole('link', { name: /^\s*(log|sign) ?in\s*$/i })
    .or(page.getByRole('button', { name: /^\s*(log|sign) ?in\s*$/i })).first().click();
  await page.waitForURL(new RegExp(`^${escapeRe(hub.issuer)}/login/[^/?#]+$`));
  await page.getByLabel('Use your digital identity wallet').check();
  await page.locator('form:has([name="idp"]) button').first().click();
  await page.waitForURL(new RegExp(`^${escapeRe(hub.issuer)}/idp/wallet/wallet\\?rid=`));
  const qr = page.locator('#wallet-qr svg');
  assert.ok(await qr.isVisible(), 'the QR code is shown');
  const box = await qr.boundingBox();
  assert.ok(box.width >= 150 && box.height >= 150, `a QR code big enough to scan: ${JSON.stringify(box)}`);
  if (shot) await page.screenshot({ path: path.join(OUT, shot), fullPage: true });
  const link = await page.locator('#wallet-link').getAttribute('href');
  // the QR code carries the same request as the link, for the cross-device flow
  const { res } = await answer(link.replace('flow%3Dsame', 'flow%3Dcross'), pid, hold);
  assert.equal(res.status, 200, res.text);
  // the page refreshes itself (meta refresh, no script needed) and goes on to the service
  await page.locator('#claim-sub').waitFor({ state: 'visible', timeout: 20000 });
  assert.ok(page.url().startsWith(`${hub.issuer}/demo`), page.url());
  assert.equal((await page.locator('#claim-acr').innerText()).trim(), LOA_HIGH);
  return (await page.locator('#claim-sub').innerText()).trim();
}

test('cross-device with JavaScript: QR code, the wallet answers, the page moves on', async (t) => {
  const sub = await crossDevice(t, true, 'wallet-cross-device-qr.png');
  assert.ok(sub.length > 0);
});

test('cross-device without JavaScript: the meta refresh alone brings the browser on', async (t) => {
  const sub = await crossDevice(t, false, null);
  assert.ok(sub.length > 0);
});
