// POST/redirect/GET in the journey (issue 13: "Back and refresh never resubmit"): every POST of a
// journey answers 303 to a GET, so no page of the browser's history is the answer to a POST. The
// sandbox's form parks its answer (or its typing error) and redirects to its own GET pages; the
// hub parks a cross-site POST to its callback (no SameSite=Lax cookie) and redirects to
// GET /callback/<idp>?resume=<id>, which carries the cookie. A resume id works once, only in the
// browser bound to the journey; a forged state or resume id writes nothing to the store; above the
// store's high-water mark nothing is parked and the hub falls back to its re-post page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startHub, service } from './lib/hub.mjs';
import { Browser, login, parseForms, redirectParams, isPickerForm, isSandboxForm, isRepostPage } from './lib/browser.mjs';
import { rpConfig, authRequest } from './lib/rp.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
let hub, cfg;

before(async () => {
  hub = await startHub({ services: [service('svc-a', { redirect_uris: [CB] })] });
  cfg = await rpConfig(hub, 'svc-a');
});
after(async () => { await hub?.stopAndCheck(); });

const toCallback = (f) => /\/callback\//.test(f.action);
const fieldsOf = (html) => Object.fromEntries(parseForms(html).find(toCallback).fields.map((f) => [f.name, f.value]));
const login_ = (submitter) => ({ form: isSandboxForm, submitter: (b) => b.name === 'action' && b.value === submitter });

/** A refusal page: 4xx HTML, never a redirect. */
function assertRefused(r, what) {
  assert.ok(r.status >= 400 && r.status < 500, `${what}: a 4xx page, got ${r.status} ${r.location || ''}`);
  assert.equal(r.location, null, `${what}: no redirect`);
}

/** Records per store namespace, from /metrics. */
async function records(h) {
  const text = await (await fetch(h.metricsUrl)).text();
  return Object.fromEntries([...text.matchAll(/^idhub_store_records\{namespace="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

/** A login up to the sandbox's auto-POST page (a GET), in its own browser. */
async function toAutopost(h = hub, c = cfg) {
  const req = await authRequest(c, { redirectUri: CB });
  const j = await login({ authorizeUrl: req.url.href, browser: new Browser(), until: 'autopost' });
  return { ua: j.browser, autopost: j.steps.autopost, req };
}

/** The auto-POST's form POSTed cross-site (from the IdP's page, another site): the hub's answer. */
const crossSitePost = (ua, autopost, fields = fieldsOf(autopost.text)) =>
  ua.post(parseForms(autopost.text).find(toCallback).action, new URLSearchParams(fields), { initiator: autopost.url });

test('every POST of the journey answers 303 to a GET: the picker, the sandbox (sign-in, typing error), the cross-site callback', async () => {
  const ua = new Browser();
  const req = await authRequest(cfg, { redirectUri: CB });
  const a = await ua.get(req.url.href, { initiator: CB });
  const p = await ua.get(a.location, { initiator: CB });
  const pp = await ua.submitForm(p.text, p.url, { idp: 'sandbox' }, { form: isPickerForm });
  assert.equal(pp.status, 303, 'the picker\'s choice');
  const s = await ua.get(pp.location, { initiator: p.url });
  assert.equal(s.status, 200);
  const reqTok = new URL(s.url).searchParams.get('req');

  // a typing error: 303 to the answer, which a GET shows as the form with the error and what was
  // typed
  const bad = await ua.submitForm(s.text, s.url, { persona: 'other', username: 'no spaces allowed', loa: '2' }, login_('login'));
  assert.equal(bad.status, 303, 'the sandbox form with a typing error');
  const badUrl = new URL(bad.location);
  assert.equal(badUrl.pathname, '/idp/sandbox/answer');
  assert.equal(badUrl.searchParams.get('req'), reqTok);
  for (const what of ['the redirect', 'a reload']) {
    const e = await ua.get(bad.location, { initiator: s.url });
    assert.equal(e.status, 400, `${what}: the form with its error`);
    assert.match(e.text, /<span class="vh">Error:<\/span> Enter a user name/, what);
    assert.match(e.text, /value="no spaces allowed"/, `${what}: what was typed is kept`);
    assert.match(e.text, /<option value="2" selected>/, `${what}: the level chosen is kept`);
  }

  // the sign-in: 303 to the answer, the auto-POST page; a reload answers again for the same login
  const ok = await ua.submitForm(s.text, s.url, { persona: 'alice' }, login_('login'));
  assert.equal(ok.status, 303, 'the sandbox form\'s sign-in');
  assert.equal(ok.location, bad.location, 'the same answer page');
  const ap = await ua.get(ok.location, { initiator: s.url });
  assert.equal(ap.status, 200);
  const fields = fieldsOf(ap.text);
  assert.ok(fields.assertion && fields.state, 'the auto-POST form: assertion and state');
  const again = fieldsOf((await ua.get(ok.location, { initiator: s.url })).text);
  assert.equal(again.state, fields.state, 'a reload: the same login');
  const form = await ua.get(s.url, { initiator: s.url });
  assert.equal(form.status, 200, 'the form itself shows no old error');
  assert.doesNotMatch(form.text, /error-summary/);

  // the cross-site POST to the callback: 303 to a GET of it, which signs in
  const c = await crossSitePost(ua, ap);
  assert.equal(c.status, 303, 'the cross-site callback POST');
  const g = await ua.get(c.location, { initiator: ap.url });
  assert.equal(g.status, 303);
  const q = redirectParams(g.location);
  assert.equal(q.base, CB);
  assert.ok(q.params.code, 'a code');
  assert.equal(q.params.state, req.state);

  // cancel is a POST of the same form: 303 too
  const { ua: ub, autopost } = await toAutopost();
  const s2 = await ub.get(autopost.url.replace('/answer?', '/login?'), { initiator: autopost.url });
  assert.equal((await ub.submitForm(s2.text, s2.url, {}, login_('cancel'))).status, 303, 'the sandbox\'s cancel');
});

test('a resume id works once, and only in the browser that has the journey\'s cookie', async () => {
  const { ua, autopost, req } = await toAutopost();
  const c = await crossSitePost(ua, autopost);
  assert.equal(c.status, 303);
  assert.match(c.location, /\/callback\/sandbox\?resume=[A-Za-z0-9_-]{43}$/);
  // another browser (the resume id leaked): refused, and the id still works for the citizen
  const thief = new Browser();
  assertRefused(await thief.get(c.location), 'the resume id in another browser');
  assertRefused(await thief.get(c.location, { initiator: autopost.url }), 'again, as a navigation from the IdP');
  const mine = await ua.get(c.location, { initiator: autopost.url });
  assert.equal(mine.status, 303, 'the citizen\'s own browser');
  assert.equal(redirectParams(mine.location).params.state, req.state);
  assert.ok(redirectParams(mine.location).params.code);
  // once
  assertRefused(await ua.get(c.location, { initiator: autopost.url }), 'the resume id a second time');
  assertRefused(await crossSitePost(ua, autopost), 'the POST replayed after the sign-in');
});

test('one parked POST per login: a second cross-site POST of the same login is not parked', async () => {
  const { ua, autopost } = await toAutopost();
  const before = await records(hub);
  const first = await crossSitePost(ua, autopost);
  assert.equal(first.status, 303);
  const second = await crossSitePost(ua, autopost, { ...fieldsOf(autopost.text), assertion: 'x'.repeat(4000) });
  assert.equal(second.status, 200, 'the re-post page, which writes nothing');
  assert.ok(isRepostPage(second.text));
  const after = await records(hub);
  assert.equal(after.ustate, before.ustate + 1, 'one parked body');
  assert.equal(after.replay, before.replay + 1, 'one claim');
  const done = await ua.get(first.location, { initiator: autopost.url });
  assert.equal(done.status, 303, 'the first one still signs in');
  assert.ok(redirectParams(done.location).params.code);
});

test('a body over 64 KiB is not parked (an anonymous client could hold 512 KiB a journey): the re-post page, nothing written', async () => {
  const { ua, autopost } = await toAutopost();
  const before = await records(hub);
  const r = await crossSitePost(ua, autopost, { ...fieldsOf(autopost.text), pad: 'x'.repeat(70000) });
  assert.equal(r.status, 200, 'the re-post page, not a 303');
  assert.ok(isRepostPage(r.text));
  assert.deepEqual(await records(hub), before, 'no record written');
});

test('a forged state, or a forged resume id: refused, and nothing written to the store', async () => {
  const { ua, autopost } = await toAutopost(); // a real browser with a real cookie, and a real assertion
  const real = fieldsOf(autopost.text);
  const before = await records(hub);
  for (let i = 0; i < 10; i++) {
    const state = randomBytes(32).toString('base64url');
    assertRefused(await crossSitePost(ua, autopost, { ...real, state }), `forged state ${i}`);
    assertRefused(await crossSitePost(ua, autopost, { assertion: 'x'.repeat(100000), state }), `forged state, large body ${i}`);
    assertRefused(await ua.get(`${hub.issuer}/callback/sandbox?resume=${state}`), `forged resume id ${i}`);
  }
  assertRefused(await ua.get(`${hub.issuer}/callback/sandbox?resume=short`), 'a malformed resume id');
  assertRefused(await ua.get(`${hub.issuer}/callback/sandbox?resume=${'A'.repeat(43)}&resume=${'B'.repeat(43)}`), 'two resume ids');
  assert.deepEqual(await records(hub), before, 'no record written');
});

test('above the store\'s high-water mark a cross-site POST is not parked: the re-post page, which then signs in', async (t) => {
  const h = await startHub({ hub: { store_map_mib: 16, store_high_water: 10 }, services: [service('svc-a', { redirect_uris: [CB] })] });
  t.after(() => h.stopAndCheck());
  const c = await rpConfig(h, 'svc-a');
  // logins under way before the store fills: the victim, and fillers whose cross-site POSTs carry
  // nearly the largest body the hub parks (64 KiB), parked until the store is above its mark
  // (1.6 MiB of 16)
  const victim = await toAutopost(h, c);
  const fillers = [];
  for (let i = 0; i < 40; i++) fillers.push(await toAutopost(h, c));
  let busy = null;
  for (let i = 0; i < fillers.length && !busy; i++) {
    const { ua, autopost } = fillers[i];
    const r = await crossSitePost(ua, autopost, { ...fieldsOf(autopost.text), assertion: 'A'.repeat(60000) });
    if (r.status === 200) busy = r;
    else assert.equal(r.status, 303, `filler ${i}: parked`);
  }
  assert.ok(busy, 'the store refused to park above its high-water mark');
  assert.ok(isRepostPage(busy.text), 'the fallback: the re-post page');
  const r = await crossSitePost(victim.ua, victim.autopost);
  assert.equal(r.status, 200);
  assert.ok(!r.requestCookies.includes('idhub_browser'), 'the cross-site POST came without the cookie');
  const form = parseForms(r.text).find((f) => f.fields.some((x) => x.name === 'idhub_repost'));
  assert.equal(form.method, 'post');
  assert.equal(new URL(form.action, r.url).href, `${h.issuer}/callback/sandbox`);
  const re = Object.fromEntries(form.fields.map((f) => [f.name, f.value]));
  assert.equal(re.assertion, fieldsOf(victim.autopost.text).assertion);
  assert.equal(re.state, fieldsOf(victim.autopost.text).state);
  // an HTML page of the hub's: its security headers
  assert.match(r.headers.get('content-security-policy') || '', /frame-ancestors 'none'/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.match(r.headers.get('content-type') || '', /text\/html/);
  const final = await victim.ua.submitForm(r.text, r.url, {}, { form: (f) => f.fields.some((x) => x.name === 'idhub_repost') });
  assert.equal(final.status, 303, 'the same-site re-post signs in');
  assert.ok(redirectParams(final.location).params.code);
});
