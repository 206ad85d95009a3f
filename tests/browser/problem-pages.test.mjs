// Every error page of the journey (issue 13 items 1, 3, 6, 7), reached for real through one
// running daemon in one headless Chromium: expired, invalid, tampered, already finished, another
// browser, IdP unavailable, level too low, cancelled, too many attempts (the per-source budget)
// and busy (the store above its high-water mark). Each in English and Welsh, JavaScript on and
// off, is audited at 320 and 1280 px (axe-core 0 violations, no sideways scroll, <html lang>, at
// most 15 KB with its CSS, no product name), offers exactly one primary action, and that action is
// followed to where it must land: the service's redirect_uri with the right OAuth error, the
// picker (try again, choose another way), or the deployment's help page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { startHub, freePort, sandboxIdp, secretHash, DEMO_SECRET, LOA_SUBSTANTIAL } from '../integration/lib/hub.mjs';
import { launchBrowser, newContext, trackDocuments, auditor, writeGallery } from './lib/audit.mjs';

const JOURNEY_TTL = 20; // seconds: the expired row waits for it once
const PER_MINUTE = 2; // journeys a source may start a minute (each context is its own source)
const LANGS = ['en', 'cy'];
let hub, browser, aud, HELP, expiredUrl, expiredAt;
let flooded = 0; // the flood's client addresses, each new
let source = 0; // each context speaks for its own client address, through the trusted proxy
const nextSource = () => ({ 'x-forwarded-for': `198.51.${100 + (source >> 8)}.${source++ & 255}` });

before(async () => {
  const dead = await freePort(); // the unavailable IdP's issuer: nothing listens there
  hub = await startHub({
    hub: {
      demo: true, journey_ttl: JOURNEY_TTL, journeys_per_minute: PER_MINUTE, trusted_proxies: ['127.0.0.1', '::1'],
      store_map_mib: 16, store_high_water: 10,
    },
    services: (port, issuer) => [{
      client_id: 'demo', name: 'Demo service', auth_method: 'client_secret_basic', secret_hash: secretHash(DEMO_SECRET),
      redirect_uris: [`${issuer}/demo/callback`], sector: 'demo', scopes: ['openid', 'profile'], id_token_alg: 'ES256',
    }],
    idps: (port) => [
      sandboxIdp(port, { display_name_cy: 'Darparwr hunaniaeth prawf', description: 'Test people only', description_cy: 'Pobl prawf yn unig' }),
      { id: 'down', adapter: 'oidc', display_name: 'Example bank', display_name_cy: 'Banc enghreifftiol', max_loa: LOA_SUBSTANTIAL,
        settings: { issuer: `http://127.0.0.1:${dead}`, client_id: 'hub-client', client_secret: 'not-used' } },
    ],
    extra: (port, issuer) => ({ branding: {
      service_name: 'Prove your identity', service_name_cy: 'Profi pwy ydych chi', organisation: 'Example Department',
      help_url: `${issuer}/demo?help`, accessibility_url: `${issuer}/demo`, privacy_url: `${issuer}/demo`, cookies_url: `${issuer}/demo`,
    } }),
  });
  HELP = `${hub.issuer}/demo?help`;
  const css = Buffer.byteLength(await (await fetch(`${hub.issuer}/assets/idhub.css`)).text());
  browser = await launchBrowser();
  aud = auditor(browser, css, 'problem-');
  // picker links for the expired row (one per language: the journey keeps its language), sealed
  // now and visited once journey_ttl has passed
  expiredUrl = {};
  for (const lang of LANGS) {
    const ctx = await newContext(browser, lang, true, nextSource());
    const page = await ctx.newPage();
    await toPicker(page);
    expiredUrl[lang] = page.url();
    await ctx.close();
  }
  expiredAt = Date.now() + JOURNEY_TTL * 1000 + 1000;
});

after(async () => {
  await browser?.close();
  await hub?.stopAndCheck();
  await writeGallery();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const go = async (page, action) => { await Promise.all([page.waitForNavigation(), action()]); };
const pickerForm = 'form:has([name="idp"]) button[type="submit"]';

/** The demo service's sign-in, to the picker (acr: a level the service asks for). */
async function toPicker(page, acr) {
  await page.goto(`${hub.issuer}/demo/login${acr ? `?acr=${encodeURIComponent(acr)}` : ''}`);
  await page.waitForURL(/\/login\/[^/?#]+$/);
}

async function choose(page, idp) {
  await page.locator(`input[name="idp"][value="${idp}"]`).check();
  await go(page, () => page.locator(pickerForm).click());
}

/** After the sandbox's answer: without JavaScript, press the auto-POST and re-post buttons. */
async function settle(page, js, done) {
  for (let i = 0; i < 5 && !(await done()); i++) {
    await page.waitForLoadState('load');
    if (await done()) break;
    if (js) { await page.waitForNavigation({ timeout: 10000 }).catch(() => {}); continue; }
    await go(page, () => page.locator('form button[type="submit"]').first().click());
  }
}
const onProblemPage = (page) => async () => !new URL(page.url()).pathname.startsWith('/idp/')
  && (await page.locator('main a.button').count()) > 0;

/** The sandbox: sign in as persona (or cancel), then wait for the hub's answer. */
async function atSandbox(page, js, persona, done) {
  await page.waitForURL(/\/idp\/sandbox\/login/);
  if (persona) {
    await page.locator(`#persona-${persona}`).check();
    await go(page, () => page.locator('[name="action"][value="login"]').click());
  } else {
    await go(page, () => page.locator('[name="action"][value="cancel"]').last().click());
  }
  await settle(page, js, done ?? onProblemPage(page));
}

/** Fresh journeys stored as fast as one client can, each from its own address, until the store
 *  refuses one (503) — bounded in count and time. */
async function flood() {
  const cookie = `idhub_browser=${randomBytes(32).toString('base64url')}`;
  const end = Date.now() + 30000;
  let refused = false;
  const one = async () => {
    const big = randomBytes(600).toString('base64url');
    const q = new URLSearchParams({
      response_type: 'code', client_id: 'demo', redirect_uri: `${hub.issuer}/demo/callback`, scope: 'openid',
      state: big, nonce: big, code_challenge_method: 'S256', code_challenge: createHash('sha256').update(big).digest('base64url'),
    });
    const headers = { cookie, 'x-forwarded-for': `10.${(flooded >> 16) & 255}.${(flooded >> 8) & 255}.${flooded++ & 255}` };
    const a = await fetch(`${hub.issuer}/authorize?${q}`, { redirect: 'manual', headers });
    await a.arrayBuffer();
    const url = new URL(a.headers.get('location'), hub.issuer);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await (await fetch(url, { headers })).text())?.[1];
    const p = await fetch(url, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams({ csrf, idp: 'sandbox' }),
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    });
    await p.arrayBuffer();
    if (p.status === 503) refused = true;
    else assert.equal(p.status, 303, 'a stored journey, or the busy refusal');
  };
  const worker = async () => { for (let i = 0; i < 5000 && !refused && Date.now() < end; i++) await one(); };
  await Promise.all([worker(), worker(), worker()]);
  assert.ok(refused, `the store refused new journeys (high-water mark) after ${flooded} in all`);
}

/** A whole sign-in through the demo service; returns the picker's URL. */
async function signIn(page, js) {
  await toPicker(page);
  const picker = page.url();
  await choose(page, 'sandbox');
  await atSandbox(page, js, 'alice', async () => (await page.locator('#claim-sub').count()) > 0);
  await page.locator('#claim-sub').waitFor();
  return picker;
}

/*
 * The table: how each page state is reached (page: a fresh context of its own address, at the
 * state's start), its HTTP status, and where its one primary action lands: 'help', 'picker' (the
 * journey goes on), or the OAuth error the service receives at its redirect_uri. back: the OAuth
 * error of the secondary link back to the service, when the page has one.
 */
const ROWS = [
  { state: 'invalid', status: 400, lands: 'help',
    reach: async (page) => { await page.goto(`${hub.issuer}/login/not-a-real-journey`); } },
  { state: 'tampered', status: 400, lands: 'help',
    reach: async (page) => {
      await toPicker(page);
      const u = new URL(page.url());
      const t = u.pathname.slice('/login/'.length), i = t.length >> 1;
      await page.goto(`${u.origin}/login/${t.slice(0, i)}${t[i] === 'A' ? 'B' : 'A'}${t.slice(i + 1)}`);
    } },
  { state: 'other-browser', status: 403, lands: 'access_denied',
    reach: async (page, lang, js, t) => {
      const first = await newContext(browser, lang, js, nextSource());
      t.after(() => first.close());
      const p = await first.newPage();
      await toPicker(p);
      await page.goto(p.url());
    } },
  { state: 'finished', status: 400, lands: 'access_denied', heading: /finished|gorffen/i,
    reach: async (page, lang, js) => {
      const picker = await signIn(page, js);
      await page.goto(picker); // the picker's link again (Back itself: the test below)
    } },
  { state: 'cancelled', status: 400, lands: 'picker',
    reach: async (page, lang, js) => {
      await toPicker(page);
      await choose(page, 'sandbox');
      await atSandbox(page, js, null);
    } },
  { state: 'level-too-low', status: 403, lands: 'picker',
    reach: async (page, lang, js) => {
      await toPicker(page, LOA_SUBSTANTIAL);
      await choose(page, 'sandbox');
      await atSandbox(page, js, 'bob'); // bob is Low
    } },
  { state: 'idp-unavailable', status: 502, lands: 'picker', back: 'temporarily_unavailable',
    reach: async (page) => {
      await toPicker(page);
      await choose(page, 'down');
    } },
  { state: 'too-many', status: 429, lands: 'picker', back: 'temporarily_unavailable',
    reach: async (page, lang, js, t, doc) => {
      await toPicker(page);
      const picker = page.url();
      // PER_MINUTE choices go through; the next is refused (a new minute may reset the count
      // once, so a few more are allowed before giving up)
      for (let i = 0; i < PER_MINUTE * 3 && doc.response?.status() !== 429; i++) {
        if (page.url() !== picker) await page.goto(picker);
        await choose(page, 'sandbox');
      }
    } },
  { state: 'expired', status: 400, lands: 'access_denied',
    reach: async (page, lang) => {
      if (Date.now() < expiredAt) await sleep(expiredAt - Date.now());
      await page.goto(expiredUrl[lang]);
    } },
  // last: the flood leaves the store above its high-water mark for journey_ttl
  { state: 'busy', status: 503, lands: 'picker', back: 'temporarily_unavailable',
    reach: async (page, lang, js, t, doc) => {
      // the store stays above its mark until the flood's journeys expire: flood again when not
      for (let i = 0; i < 3 && doc.response?.status() !== 503; i++) {
        if (i > 0) await flood();
        await toPicker(page);
        await choose(page, 'sandbox');
      }
    } },
];

/** Where the primary action must land, checked on the page it landed on. */
async function assertLanding(page, row, key) {
  const u = new URL(page.url());
  if (row.lands === 'help') {
    assert.equal(u.href, HELP, `${key}: the help page`);
  } else if (row.lands === 'picker') {
    assert.match(u.pathname, /^\/login\/[^/]+$/, `${key}: back to the picker`);
    assert.ok(await page.locator('input[name="idp"]').count(), `${key}: the picker's choices`);
  } else {
    assert.equal(`${u.origin}${u.pathname}`, `${hub.issuer}/demo/callback`, `${key}: the service's redirect_uri`);
    assert.equal(u.searchParams.get('error'), row.lands, `${key}: the OAuth error`);
    assert.equal(u.searchParams.get('iss'), hub.issuer, `${key}: iss`);
    assert.ok(u.searchParams.get('state'), `${key}: the service's state`);
  }
}

/* Back, as a citizen presses it after finishing: never "Confirm form resubmission" (the browser's
 * ERR_CACHE_MISS: a history entry that is the answer to a POST), and the picker's place in the
 * history shows the friendly page. Every POST of the journey answers 303 to a GET (the sandbox's
 * form, its auto-POST to the callback), so each step Back is a GET, with or without JavaScript.
 * Before the rows: the busy row leaves the store full. */
for (const js of [true, false]) {
  test(`Back after finishing, JavaScript ${js ? 'on' : 'off'}: the friendly page, never a resubmission`, async (t) => {
    const context = await newContext(browser, 'en', js, nextSource());
    t.after(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    const methods = [];
    page.on('request', (r) => { if (r.isNavigationRequest() && r.frame() === page.mainFrame()) methods.push(r.method()); });
    const picker = new URL(await signIn(page, js)).pathname;
    const visited = [];
    for (let i = 0; i < 8 && new URL(page.url()).pathname !== picker; i++) {
      methods.length = 0;
      const res = await page.goBack();
      visited.push(page.url());
      // a POST answer Back would fail with net::ERR_CACHE_MISS (the resubmission prompt), or
      // resubmit: each step is a GET of a page, or one the browser kept
      assert.ok(!methods.includes('POST'), `Back to ${page.url()} resubmitted a POST`);
      assert.ok(!res || res.request().method() === 'GET', `Back to ${page.url()}: ${res?.request().method()}`);
    }
    assert.equal(new URL(page.url()).pathname, picker, `Back reaches the picker's place (through ${visited.join(' ')})`);
    assert.match(await page.locator('h1').innerText(), /already finished/);
  });
}

for (const row of ROWS) {
  test(`the ${row.state} page: audited in both languages, with and without JavaScript; its primary action works`, async (t) => {
    for (const lang of LANGS) {
      for (const js of [true, false]) {
        const key = `${row.state}/${lang}/${js ? 'js' : 'nojs'}`;
        const context = await newContext(browser, lang, js, nextSource());
        t.after(() => context.close());
        const page = await context.newPage();
        page.setDefaultTimeout(15000);
        const doc = trackDocuments(page);
        await row.reach(page, lang, js, t, doc);
        await page.waitForLoadState('load');
        assert.equal(doc.response?.status(), row.status, `${key}: HTTP status (${page.url()})`);
        if (row.heading) assert.match(await page.locator('h1').innerText(), row.heading, `${key}: its own wording`);
        await aud.audit(page, `error-${row.state}`, lang, js, doc);
        // one obvious next step
        const primary = page.locator('main .button:not(.secondary)');
        assert.equal(await primary.count(), 1, `${key}: exactly one primary action`);
        if (row.back) {
          const href = await page.locator('main a.button.secondary').getAttribute('href');
          const b = new URL(href, page.url());
          assert.equal(`${b.origin}${b.pathname}`, `${hub.issuer}/demo/callback`, `${key}: a way back to the service`);
          assert.equal(b.searchParams.get('error'), row.back, `${key}: the way back's OAuth error`);
        }
        await go(page, () => primary.click());
        await assertLanding(page, row, key);
        await context.close();
      }
    }
  });
}

test('axe is live: it finds a known violation', async () => {
  const res = await aud.axeIsLive();
  assert.ok(res.violations.some((v) => v.id === 'image-alt'), 'image-alt found');
});
