// Single sign-on across the two demo services in headless Chromium, with and without JavaScript:
// sign in at /demo through the picker and the sandbox IdP, then /demo2 signs in without any prompt
// and shows another sub; sign out at /demo through the hub, and /demo2 is signed out too (the hub's
// back-channel logout to /demo2/backchannel).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startHub, secretHash, DEMO_SECRET } from '../integration/lib/hub.mjs';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../out');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
let hub;
let browser;

before(async () => {
  await mkdir(OUT, { recursive: true });
  hub = await startHub({
    hub: { demo: true },
    services: (port, issuer) => ['demo', 'demo2'].map((id) => ({
      client_id: id, name: id === 'demo' ? 'Demo service' : 'Second demo service', auth_method: 'client_secret_basic',
      secret_hash: secretHash(DEMO_SECRET), redirect_uris: [`${issuer}/${id}/callback`], sector: id, scopes: ['openid', 'profile'],
      id_token_alg: 'ES256', post_logout_redirect_uris: [`${issuer}/${id}`], backchannel_logout_uri: `${issuer}/${id}/backchannel`,
    })),
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

/** Through the picker and the sandbox IdP as Alice; without JavaScript, by the visible buttons. */
async function firstSignIn(page, js) {
  await page.goto(`${hub.issuer}/demo`);
  await page.locator('#login').click();
  await page.waitForURL(new RegExp(`^${escapeRe(hub.issuer)}/login/[^/?#]+$`));
  await page.getByLabel('Sandbox identity provider').check();
  await page.locator('form:has([name="idp"]) button').first().click();
  await page.waitForURL(new RegExp(`^http://localhost:${hub.port}/idp/sandbox/login`));
  await page.getByLabel(/Alice/).check();
  await page.locator('[name="action"][value="login"]').click();
  for (let i = 0; !js && i < 4; i++) {
    await page.waitForLoadState('load');
    if (await page.locator('#claim-sub').count()) break;
    await Promise.all([page.waitForNavigation(), page.locator('form button:visible').first().click()]);
  }
  await page.locator('#claim-sub').waitFor({ state: 'visible', timeout: 20000 });
}

async function journey(js, shot) {
  const context = await browser.newContext({ javaScriptEnabled: js });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  try {
    await firstSignIn(page, js);
    const sub1 = (await page.locator('#claim-sub').innerText()).trim();

    // the second service: its "Sign in" comes straight back signed in, no hub page on the way
    await page.locator('#other').click();
    await page.waitForURL(`${hub.issuer}/demo2`);
    const hubPages = [];
    page.on('framenavigated', (f) => { if (/\/login\/|\/idp\//.test(f.url())) hubPages.push(f.url()); });
    await page.locator('#login').click();
    await page.locator('#claim-sub').waitFor({ state: 'visible' });
    assert.deepEqual(hubPages, [], 'no picker and no IdP page for the second service');
    assert.ok(page.url().startsWith(`${hub.issuer}/demo2`));
    const sub2 = (await page.locator('#claim-sub').innerText()).trim();
    assert.ok(sub1 && sub2 && sub1 !== sub2, 'another sector, another sub');
    if (shot) await page.screenshot({ path: path.join(OUT, 'sso-02-second-service.png'), fullPage: true });

    // sign out at /demo: through the hub's end_session_endpoint and back
    await page.goto(`${hub.issuer}/demo`);
    await page.locator('#logout').click();
    await page.waitForURL(`${hub.issuer}/demo`);
    assert.equal(await page.locator('#claim-sub').count(), 0, 'signed out of /demo');
    let signedIn = 1;
    for (let i = 0; i < 50 && signedIn; i++) {
      await page.goto(`${hub.issuer}/demo2`);
      signedIn = await page.locator('#claim-sub').count();
      if (signedIn) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(signedIn, 0, '/demo2 signed out by the back-channel logout');
    await page.goto(`${hub.issuer}/session`);
    assert.match(await page.locator('h1').innerText(), /not signed in/);
  } finally {
    await context.close();
  }
}

test('two demo services: single sign-on, different subs, sign-out reaches the other (JavaScript)', async () => {
  await journey(true, true);
});

test('the same without JavaScript', async () => {
  await journey(false, false);
});
