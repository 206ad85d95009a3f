// The citizen's journey and its refusals: picker CSRF and validation, forged, replayed or foreign
// callbacks, a level too low, cancellation, unknown journeys, and the cross-site POST's redirect
// to a GET (tests/integration/prg.test.mjs has the rest of POST/redirect/GET).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, sandboxIdp, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { Browser, login, postCallback, parseForms, links, findTags, isRepostPage, radioValues, redirectParams, isPickerForm, isSandboxForm } from './lib/browser.mjs';
import { rpConfig, authRequest, loginAndRedeem } from './lib/rp.mjs';
import { createHash } from 'node:crypto';

/** Once an IdP is picked the hub stores the journey under SHA-256 of its token, and its pages
 *  link to /login/<that key> (the sealed token is only the first leg's). */
const journeyKey = (token) => createHash('sha256').update(token).digest('base64url');

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
let hub;
const cfg = {};

before(async () => {
  hub = await startHub({
    services: [
      service('svc-a', { redirect_uris: [cb('svc-a')] }),
      service('svc-sub', { redirect_uris: [cb('svc-sub')], min_loa: LOA_SUBSTANTIAL }),
    ],
  });
  cfg.a = await rpConfig(hub, 'svc-a');
  cfg.sub = await rpConfig(hub, 'svc-sub');
});
after(async () => { await hub?.stopAndCheck(); });

async function journeyTo(until, { svc = 'a', persona = 'alice', browser, action } = {}) {
  const id = svc === 'a' ? 'svc-a' : 'svc-sub';
  const req = await authRequest(cfg[svc], { redirectUri: cb(id) });
  const j = await login({ authorizeUrl: req.url.href, persona, browser: browser || new Browser(), until, action });
  return { req, j, ua: j.browser };
}

/** A refusal page: 4xx HTML with an <h1>, no redirect, certainly no code. */
function assertRefusalPage(r, what) {
  assert.ok(r.status >= 400 && r.status < 500, `${what}: expected a 4xx page, got ${r.status} ${r.location || ''}`);
  assert.equal(r.location, null, `${what}: never a redirect`);
  assert.match(r.headers.get('content-type') || '', /text\/html/, `${what}: HTML`);
  assert.ok(findTags(r.text, ['h1']).length >= 1, `${what}: has an <h1>`);
  assert.doesNotMatch(r.text, /[?&]code=/, `${what}: no code`);
}

test('the picker: a form posting to /login/<id> with a hidden csrf and a radio per IdP', async () => {
  const { j } = await journeyTo('picker');
  const p = j.steps.picker;
  const form = parseForms(p.text).find((f) => f.fields.some((x) => x.name === 'idp'));
  assert.ok(form, 'a form with idp radios');
  assert.equal(form.method, 'post');
  assert.equal(new URL(form.action, p.url).pathname, `/login/${j.journeyId}`);
  assert.ok(form.fields.some((f) => f.type === 'hidden' && f.name === 'csrf' && f.value.length >= 16), 'hidden csrf');
  assert.deepEqual(form.fields.filter((f) => f.name === 'idp').map((f) => f.value), ['sandbox']);
  assert.ok(form.fields.filter((f) => f.name === 'idp').every((f) => f.type === 'radio'), 'radios');
});

test('the picker refuses a bad or missing csrf with 400', async () => {
  const { j, ua } = await journeyTo('picker');
  const p = j.steps.picker;
  const bad = await ua.submitForm(p.text, p.url, { csrf: 'forged-' + 'x'.repeat(30), idp: 'sandbox' }, { form: isPickerForm });
  assert.equal(bad.status, 400, `bad csrf: ${bad.status} ${bad.location || ''}`);
  assert.equal(bad.location, null);
  const none = await ua.submitForm(p.text, p.url, { csrf: null, idp: 'sandbox' }, { form: isPickerForm });
  assert.equal(none.status, 400, `missing csrf: ${none.status} ${none.location || ''}`);
  // another journey's csrf does not fit this one
  const other = await journeyTo('picker', { browser: ua });
  const otherCsrf = parseForms(other.j.steps.picker.text).find(isPickerForm).fields.find((f) => f.name === 'csrf').value;
  const cross = await ua.submitForm(p.text, p.url, { csrf: otherCsrf, idp: 'sandbox' }, { form: isPickerForm });
  if (otherCsrf !== parseForms(p.text).find(isPickerForm).fields.find((f) => f.name === 'csrf').value) {
    assert.equal(cross.status, 400, `another journey's csrf: ${cross.status}`);
  }
});

test('the picker without a choice: 400, re-rendered with an error summary', async () => {
  const { j, ua } = await journeyTo('picker');
  const p = j.steps.picker;
  const r = await ua.submitForm(p.text, p.url, { idp: null }, { form: isPickerForm });
  assert.equal(r.status, 400);
  assert.equal(r.location, null);
  assert.ok(radioValues(r.text, 'idp').includes('sandbox'), 'the choices are shown again');
  assert.match(r.text, /error-summary|role=["']?alert/i, 'an error summary');
  // an IdP that is not offered is refused as well
  const u = await ua.submitForm(p.text, p.url, { idp: 'nosuchidp' }, { form: isPickerForm });
  assert.ok(u.status === 400 && !u.location, `unknown idp: ${u.status} ${u.location || ''}`);
});

test('the sandbox IdP lives on page_base_url (localhost): another site than the hub', async () => {
  const { j } = await journeyTo('sandbox');
  const pp = j.steps.pickerPost;
  assert.equal(pp.status, 303);
  const u = new URL(pp.location);
  assert.equal(u.origin, `http://localhost:${hub.port}`);
  assert.equal(u.pathname, '/idp/sandbox/login');
  assert.ok(u.searchParams.get('req'), 'req parameter');
  const form = parseForms(j.steps.sandbox.text).find((f) => f.fields.some((x) => x.name === 'persona'));
  assert.ok(form, 'persona form');
  assert.equal(new URL(form.action, j.steps.sandbox.url).pathname, '/idp/sandbox/login');
  assert.deepEqual(form.fields.filter((f) => f.name === 'persona').map((f) => f.value).sort(), ['alice', 'bob', 'other']);
  assert.ok(form.buttons.some((b) => b.name === 'action' && b.value === 'login'));
  assert.ok(form.buttons.some((b) => b.name === 'action' && b.value === 'cancel'));
});

test('the cross-site auto-POST: 303 to a GET of the callback, which carries the cookie, then succeeds', async () => {
  const { j, req } = await journeyTo(undefined);
  const r = j.steps.resume;
  assert.ok(r, 'the cross-site POST was parked and redirected (POST/redirect/GET), not answered with a page');
  assert.equal(r.status, 303);
  assert.ok(!r.requestCookies.includes('idhub_browser'), 'the harness did not send the cookie cross-site');
  const u = new URL(r.location);
  assert.equal(`${u.origin}${u.pathname}`, `${hub.issuer}/callback/sandbox`);
  assert.deepEqual([...u.searchParams.keys()], ['resume'], 'nothing of the IdP\'s POST in the URL');
  assert.match(u.searchParams.get('resume'), /^[A-Za-z0-9_-]{43}$/);
  assert.ok(j.steps.callback.requestCookies.includes('idhub_browser'), 'the top-level GET carries the SameSite=Lax cookie');
  assert.equal(j.steps.repost, undefined, 'no re-post page');
  const q = redirectParams(j.location);
  assert.equal(q.base, cb('svc-a'));
  assert.ok(q.params.code);
  assert.equal(q.params.state, req.state);
  assert.equal(q.params.iss, hub.issuer);
});

test('a callback with the state of another journey: refusal page, no code', async () => {
  const ua = new Browser();
  const one = await journeyTo('autopost', { browser: ua });
  const two = await journeyTo('autopost', { browser: ua });
  const stateTwo = parseForms(two.j.steps.autopost.text).find((f) => /\/callback\//.test(f.action)).fields.find((f) => f.name === 'state').value;
  const { final } = await postCallback(ua, one.j.steps.autopost, { state: stateTwo });
  assertRefusalPage(final, 'mixed assertion and state');
});

test('a tampered assertion: refusal page, no code', async () => {
  const { j, ua } = await journeyTo('autopost');
  const a = parseForms(j.steps.autopost.text).find((f) => /\/callback\//.test(f.action)).fields.find((f) => f.name === 'assertion').value;
  const i = Math.floor(a.length / 2);
  const tampered = a.slice(0, i) + (a[i] === 'A' ? 'B' : 'A') + a.slice(i + 1);
  const { final } = await postCallback(ua, j.steps.autopost, { assertion: tampered });
  assertRefusalPage(final, 'tampered assertion');
  const { final: empty } = await postCallback(ua, j.steps.autopost, { assertion: '' });
  assertRefusalPage(empty, 'empty assertion');
});

test('a replayed callback (same assertion and state twice): refusal page, no second code', async () => {
  const { j, ua } = await journeyTo('autopost');
  const first = await postCallback(ua, j.steps.autopost);
  assert.equal(first.final.status, 303);
  assert.ok(redirectParams(first.final.location).params.code, 'the first post gives a code');
  const second = await postCallback(ua, j.steps.autopost);
  assertRefusalPage(second.final, 'replayed callback');
});

test('a callback completed in another browser: refusal page, no code', async () => {
  const { j } = await journeyTo('autopost');
  const thief = new Browser();
  const { final } = await postCallback(thief, j.steps.autopost);
  assertRefusalPage(final, 'another browser');
  assert.ok(!isRepostPage(final.text), 'no re-post loop');
});

test('bob (low) for a service needing substantial: refusal offering another way; alice then succeeds', async () => {
  const { j, ua, req } = await journeyTo('callback', { svc: 'sub', persona: 'bob' });
  const r = j.steps.callback;
  assertRefusalPage(r, 'level too low');
  const ls = links(r.text, r.url);
  const key = journeyKey(j.journeyId);
  const another = ls.find((l) => new URL(l.href).pathname === `/login/${key}`);
  assert.ok(another, `a "choose another way" link to this journey, /login/${key}: ${JSON.stringify(ls)}`);
  const hasReturn = ls.some((l) => new URL(l.href).pathname === `/login/${key}/cancel`)
    || parseForms(r.text).some((f) => new URL(f.action || r.url, r.url).pathname === `/login/${key}/cancel`);
  assert.ok(hasReturn, 'a "return to the service" link or button');
  // choose another way, as alice this time: the same journey goes on to a code
  const p = await ua.get(another.href, { initiator: r.url });
  assert.equal(p.status, 200);
  const pp = await ua.submitForm(p.text, p.url, { idp: 'sandbox' }, { form: isPickerForm });
  assert.equal(pp.status, 303, 'the picker of the same journey still works');
  const sp = await ua.get(pp.location, { initiator: pp.url });
  const ap = await ua.followRedirect(await ua.submitForm(sp.text, sp.url, { persona: 'alice' }, { form: isSandboxForm, submitter: (b) => b.name === 'action' && b.value === 'login' }));
  const { final } = await postCallback(ua, ap);
  assert.equal(final.status, 303, `alice after "choose another way": ${final.status} ${final.text.slice(0, 300)}`);
  const q = redirectParams(final.location);
  assert.equal(q.base, cb('svc-sub'));
  assert.ok(q.params.code);
  assert.equal(q.params.state, req.state);
});

test('for min_loa substantial the picker still offers the sandbox (max_loa substantial)', async () => {
  const { j } = await journeyTo('picker', { svc: 'sub' });
  assert.ok(radioValues(j.steps.picker.text, 'idp').includes('sandbox'), 'the sandbox (max substantial) is offered for min_loa substantial');
});

test('cancel at the sandbox: a page; "return to the service" sends error=access_denied with state', async () => {
  const { j, ua, req } = await journeyTo('callback', { action: 'cancel' });
  const r = j.steps.callback;
  assertRefusalPage(r, 'cancelled');
  const key = journeyKey(j.journeyId);
  const ret = links(r.text, r.url).find((l) => new URL(l.href).pathname === `/login/${key}/cancel`);
  let res;
  if (ret) res = await ua.get(ret.href, { initiator: r.url });
  else {
    const fi = parseForms(r.text).findIndex((f) => new URL(f.action || r.url, r.url).pathname === `/login/${key}/cancel`);
    assert.ok(fi >= 0, 'a "return to the service" link or form');
    res = await ua.submitForm(r.text, r.url, {}, { formIndex: fi });
  }
  assert.equal(res.status, 303);
  const q = redirectParams(res.location);
  assert.equal(q.base, cb('svc-a'));
  assert.equal(q.params.error, 'access_denied');
  assert.equal(q.params.state, req.state);
  assert.equal(q.params.iss, hub.issuer);
  assert.equal(q.params.code, undefined);
});

test('an unknown journey id: a 4xx page with a link to start again', async () => {
  const ua = new Browser();
  const r = await ua.get(`${hub.issuer}/login/no-such-journey-0123456789`);
  assertRefusalPage(r, 'unknown journey');
  assert.ok(links(r.text, r.url).length >= 1, 'a link to start again');
  const p = await ua.post(`${hub.issuer}/login/no-such-journey-0123456789`, { csrf: 'x', idp: 'sandbox' }, { initiator: hub.issuer + '/' });
  assert.ok(p.status >= 400 && p.status < 500 && !p.location, `POST to an unknown journey: ${p.status}`);
  const c = await ua.get(`${hub.issuer}/login/no-such-journey-0123456789/cancel`);
  assert.ok(c.status >= 400 && c.status < 500 && !c.location, `cancel of an unknown journey: ${c.status} ${c.location || ''}`);
});

test('same-site IdP (page_base_url defaults to the issuer): no re-post page', async (t) => {
  const h2 = await startHub({
    services: [service('svc-a', { redirect_uris: [cb('svc-a')] })],
    idps: (port) => [{ ...sandboxIdp(port), settings: {} }],
  });
  t.after(() => h2.stopAndCheck());
  const c2 = await rpConfig(h2, 'svc-a');
  const { journey, claims } = await loginAndRedeem(c2, { redirectUri: cb('svc-a') });
  assert.equal(new URL(journey.steps.pickerPost.location).origin, h2.issuer);
  assert.equal(journey.steps.repost, undefined, 'no re-post page when the POST is same-site');
  assert.ok(claims.sub);
});
