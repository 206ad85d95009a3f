// The citizen's pages at GOV.UK standard (issue 13 items 5-7), in headless Chromium: every page
// state, in English and Welsh, at 320 px (also what 400 % zoom of a 1280 px window gives) and
// 1280 px, with and without JavaScript: axe-core finds no WCAG 2.2 A/AA violation, nothing
// scrolls sideways, each page with its stylesheet weighs at most 15 KB. Also: a keyboard-only
// journey, every error page's primary action, Back after finishing, and a screenshot gallery
// (tests/out/index.html). One browser; its four contexts (language x JavaScript) run in turn.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHub, secretHash, DEMO_SECRET, LOA_SUBSTANTIAL } from '../integration/lib/hub.mjs';
import { launchBrowser, newContext as contextIn, auditor, writeGallery } from './lib/audit.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DOCS = path.resolve(HERE, '../../docs');
let hub, browser, aud;

before(async () => {
  hub = await startHub({
    hub: { demo: true },
    services: (port, issuer) => [{
      client_id: 'demo', name: 'Demo service', auth_method: 'client_secret_basic', secret_hash: secretHash(DEMO_SECRET),
      redirect_uris: [`${issuer}/demo/callback`], sector: 'demo', scopes: ['openid', 'profile'], id_token_alg: 'ES256',
    }],
    idps: (port) => [{
      id: 'sandbox', adapter: 'sandbox', display_name: 'Sandbox identity provider', display_name_cy: 'Darparwr hunaniaeth prawf',
      description: 'Test people only', description_cy: 'Pobl prawf yn unig', max_loa: LOA_SUBSTANTIAL,
      settings: { page_base_url: `http://localhost:${port}` },
    }],
    extra: (port, issuer) => ({ branding: {
      service_name: 'Prove your identity', service_name_cy: 'Profi pwy ydych chi', organisation: 'Example Department',
      help_url: `${issuer}/demo`, accessibility_url: `${issuer}/demo`, privacy_url: `${issuer}/demo`, cookies_url: `${issuer}/demo`,
    } }),
  });
  const cssBytes = Buffer.byteLength(await (await fetch(`${hub.issuer}/assets/idhub.css`)).text());
  browser = await launchBrowser();
  aud = auditor(browser, cssBytes, '');
});

after(async () => {
  await browser?.close();
  await hub?.stopAndCheck();
  await writeGallery();
});

const newContext = (lang, js) => contextIn(browser, lang, js);
/** The page's state checked at both widths (lib/audit.mjs): axe, reflow, weight, <html lang>, no
 *  product name. */
const audit = (page, state, lang, js) => aud.audit(page, state, lang, js);

/** The focused element's class, once autofocus has run (the browser applies it at its next
 *  rendering update after load: up to 20 looks, 100 ms apart). */
async function focusedClass(page) {
  let c = '';
  for (let i = 0; i < 20 && !(c = await page.evaluate(() => document.activeElement?.className ?? '')); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return c;
}

const click = async (page, locator) => {
  await Promise.all([page.waitForNavigation(), locator.first().click()]);
};
/** Without JavaScript the auto-POST and re-post pages need their button: press them (auditing). */
async function throughAutoposts(page, lang, js, until) {
  for (let i = 0; i < 4 && !(await until()); i++) {
    await page.waitForLoadState('load');
    if (await until()) break;
    if (js) { await page.waitForNavigation({ timeout: 15000 }).catch(() => {}); continue; }
    const state = new URL(page.url()).pathname.startsWith('/callback') ? 'repost' : 'autopost';
    await audit(page, state, lang, js);
    await click(page, page.locator('form button[type="submit"]'));
  }
}

async function pickerFromDemo(page, substantial = false) {
  if (substantial) {
    await page.goto(`${hub.issuer}/demo/login?acr=${encodeURIComponent(LOA_SUBSTANTIAL)}`);
  } else {
    await page.goto(`${hub.issuer}/demo`);
    await click(page, page.locator('#login'));
  }
  await page.waitForURL(/\/login\/[^/?#]+$/);
}

for (const lang of ['en', 'cy']) {
  for (const js of [true, false]) {
    test(`every page state, ${lang}, JavaScript ${js ? 'on' : 'off'}`, async (t) => {
      const context = await newContext(lang, js);
      t.after(() => context.close());
      const page = await context.newPage();
      page.setDefaultTimeout(15000);

      await page.goto(`${hub.issuer}/demo`);
      await audit(page, 'demo-service', lang, js);
      await pickerFromDemo(page);
      const pickerUrl = page.url();
      await audit(page, 'picker', lang, js);
      await click(page, page.locator('form:has([name="idp"]) button[type="submit"]'));
      assert.equal(await focusedClass(page), 'error-summary', 'the error summary has the focus on load');
      assert.match(await page.locator('.error-message .vh').innerText(), /^(Error|Gwall):$/);
      await audit(page, 'picker-error', lang, js);
      await page.locator('input[name="idp"][value="sandbox"]').check();
      await click(page, page.locator('form:has([name="idp"]) button[type="submit"]'));
      await page.waitForURL(/\/idp\/sandbox\/login/);
      await audit(page, 'idp-page', lang, js);
      await page.locator('#persona-other').check();
      assert.ok(await page.locator('#username').isVisible(), 'the CSS reveal shows the user name field');
      await page.locator('#username').fill('not valid!');
      await click(page, page.locator('[name="action"][value="login"]'));
      await audit(page, 'idp-page-error', lang, js);
      assert.equal(await focusedClass(page), 'error-summary', 'the IdP page\'s error summary too');
      await click(page, page.locator('[name="action"][value="cancel"]').last());
      await throughAutoposts(page, lang, js, async () => (await page.locator('h1').count()) > 0 && new URL(page.url()).pathname.startsWith('/callback') && !(await page.locator('input[name="idhub_repost"]').count()));
      await audit(page, 'error-cancelled', lang, js);
      // its primary action: choose another way (back to the picker)
      await click(page, page.locator('main a.button'));
      assert.equal(new URL(page.url()).pathname.startsWith('/login/'), true);
      await page.locator('input[name="idp"][value="sandbox"]').check();
      await click(page, page.locator('form:has([name="idp"]) button[type="submit"]'));
      await page.locator('#persona-alice').check();
      await click(page, page.locator('[name="action"][value="login"]'));
      await throughAutoposts(page, lang, js, async () => (await page.locator('#claim-sub').count()) > 0);
      await page.locator('#claim-sub').waitFor();
      await audit(page, 'demo-signed-in', lang, js);

      // Back after finishing: the friendly page, whose primary action returns to the service
      await page.goto(pickerUrl);
      await audit(page, 'error-finished', lang, js);
      await click(page, page.locator('main a.button'));
      assert.ok(new URL(page.url()).pathname.startsWith('/demo'), `back on the service: ${page.url()}`);

      await page.goto(`${hub.issuer}/session`);
      await audit(page, 'signed-in', lang, js);
      await page.goto(`${hub.issuer}/logout`);
      await audit(page, 'logout-confirm', lang, js);
      await click(page, page.locator('form[action="/logout"] button'));
      await audit(page, 'signed-out', lang, js);

      // an invalid link: its primary action is the deployment's help page
      await page.goto(`${hub.issuer}/login/not-a-real-journey`);
      await audit(page, 'error-invalid', lang, js);
      await click(page, page.locator('main a.button'));
      assert.equal(new URL(page.url()).pathname, '/demo');

      // a level too low: bob (low) for a service that asked for substantial
      await pickerFromDemo(page, true);
      const other = page.url();
      await page.locator('input[name="idp"][value="sandbox"]').check();
      await click(page, page.locator('form:has([name="idp"]) button[type="submit"]'));
      await page.locator('#persona-bob').check();
      await click(page, page.locator('[name="action"][value="login"]'));
      await throughAutoposts(page, lang, js, async () => new URL(page.url()).pathname.startsWith('/callback') && (await page.locator('main a.button').count()) > 0);
      await audit(page, 'error-level-too-low', lang, js);

      // the same journey in another browser
      const context2 = await newContext(lang, js);
      t.after(() => context2.close());
      const page2 = await context2.newPage();
      await page2.goto(other);
      await audit(page2, 'error-other-browser', lang, js);
      await click(page2, page2.locator('main a.button'));
      assert.ok(new URL(page2.url()).pathname.startsWith('/demo'), `back on the service: ${page2.url()}`);
    });
  }
}

test('axe is live: it finds a known violation', async () => {
  const res = await aud.axeIsLive();
  assert.ok(res.violations.some((v) => v.id === 'image-alt'), 'image-alt found');
  assert.ok(res.violations.some((v) => v.id === 'html-has-lang'), 'html-has-lang found');
});

test('the language toggle: Cymraeg on an English page, and back', async (t) => {
  const context = await newContext('en', false);
  t.after(() => context.close());
  const page = await context.newPage();
  await pickerFromDemo(page);
  await click(page, page.getByRole('link', { name: 'Cymraeg' }));
  assert.equal(await page.locator('html').getAttribute('lang'), 'cy');
  await click(page, page.getByRole('link', { name: 'English' }));
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
});

test('a keyboard-only journey: skip link first, then Tab, Space and Enter to the service', async (t) => {
  const context = await newContext('en', true);
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await pickerFromDemo(page);
  const tabTo = async (selector) => {
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate((s) => document.activeElement?.matches(s), selector)) return;
    }
    assert.fail(`Tab never reached ${selector}`);
  };
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.className), 'skip', 'the skip link comes first');
  await tabTo('input[name="idp"]');
  await page.keyboard.press('Space');
  await tabTo('form:has([name="idp"]) button[type="submit"]');
  await Promise.all([page.waitForURL(/\/idp\/sandbox\/login/), page.keyboard.press('Enter')]);
  await tabTo('#persona-alice');
  await page.keyboard.press('Space');
  await tabTo('[name="action"][value="login"]');
  await page.keyboard.press('Enter');
  await page.locator('#claim-sub').waitFor({ timeout: 20000 });
  assert.ok(page.url().startsWith(`${hub.issuer}/demo`));
});

test('the README\'s screenshots (docs/): picker, IdP page, an error page', async (t) => {
  // written when UPDATE_DOCS=1; otherwise only the gallery's copies are made
  if (!process.env.UPDATE_DOCS) return;
  const context = await browser.newContext({ viewport: { width: 480, height: 700 }, locale: 'en-GB' });
  t.after(() => context.close());
  const page = await context.newPage();
  await mkdir(DOCS, { recursive: true });
  await pickerFromDemo(page);
  const picker = page.url();
  await page.screenshot({ path: path.join(DOCS, 'picker.png') });
  await page.locator('input[name="idp"][value="sandbox"]').check();
  await click(page, page.locator('form:has([name="idp"]) button[type="submit"]'));
  await page.screenshot({ path: path.join(DOCS, 'idp-page.png') });
  const page2 = await (await browser.newContext({ viewport: { width: 480, height: 700 } })).newPage();
  await page2.goto(picker);
  await page2.screenshot({ path: path.join(DOCS, 'error-page.png') });
  await page2.context().close();
});
