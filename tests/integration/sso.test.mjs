// Single sign-on (issue 11 items 1-2): the hub session and its cookie, a second service signed in
// without the picker with its own pairwise sub and sid, prompt=none with and without a session,
// max_age, prompt=login, step-up offering only the IdPs that reach the level, id_token_hint.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, sandboxIdp, LOA_LOW, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { Browser, login, radioValues, redirectParams } from './lib/browser.mjs';
import { rpConfig, authRequest, loginAndRedeem, client, verifyIdToken } from './lib/rp.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
const IDS = ['svc-a', 'svc-b', 'svc-sub'];
let hub;
const cfg = {};

before(async () => {
  hub = await startHub({
    idps: (port) => [
      sandboxIdp(port),
      sandboxIdp(port, { id: 'sandbox-low', display_name: 'Low sandbox', max_loa: LOA_LOW }),
    ],
    services: [
      service('svc-a', { sector: 'sector-a', redirect_uris: [cb('svc-a')] }),
      service('svc-b', { sector: 'sector-b', redirect_uris: [cb('svc-b')] }),
      service('svc-sub', { sector: 'sector-b', redirect_uris: [cb('svc-sub')], min_loa: LOA_SUBSTANTIAL }),
    ],
  });
  for (const id of IDS) cfg[id] = await rpConfig(hub, id);
});
after(async () => { await hub?.stopAndCheck(); });

/** /authorize in browser ua: {res, params (when answered to the RP), req}. */
async function authorize(ua, id, extra = {}) {
  const req = await authRequest(cfg[id], { redirectUri: cb(id), extra });
  const res = await ua.get(req.url.href, { initiator: cb(id) });
  assert.equal(res.status, 303, res.text);
  const toRp = res.location.startsWith(cb(id));
  return { req, res, params: toRp ? redirectParams(res.location).params : null };
}

async function redeem(id, req, res) {
  return client.authorizationCodeGrant(cfg[id], new URL(res.location), {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true,
  });
}

test('a login sets the session cookie HttpOnly, SameSite=Lax; a second service signs in without the picker', async () => {
  const ua = new Browser();
  const first = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a'), browser: ua });
  const setCookie = first.journey.steps.callback.setCookies.find((c) => c.startsWith('idhub_session='));
  assert.ok(setCookie, `session cookie set at the callback: ${first.journey.steps.callback.setCookies}`);
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Lax/);
  assert.match(setCookie, /Path=\//);
  assert.ok(first.claims.sid, 'sid in the first ID token');

  const { req, res, params } = await authorize(ua, 'svc-b');
  assert.ok(params?.code, `svc-b got a code at once: ${res.location}`);
  assert.equal(params.iss, hub.issuer);
  const tokens = await redeem('svc-b', req, res);
  const c = tokens.claims();
  assert.notEqual(c.sub, first.claims.sub, 'another sector, another pairwise sub');
  assert.equal(c.auth_time, first.claims.auth_time, 'auth_time is the upstream sign-in');
  assert.equal(c.acr, first.claims.acr, 'acr is the session level');
  assert.ok(c.sid && c.sid !== first.claims.sid, 'sid is per service');

  // the same service again: the same sub and the same sid
  const again = await authorize(ua, 'svc-a');
  const t2 = await redeem('svc-a', again.req, again.res);
  assert.equal(t2.claims().sub, first.claims.sub);
  assert.equal(t2.claims().sid, first.claims.sid);
});

test('prompt=none: login_required without a session, a code with one', async () => {
  const fresh = await authorize(new Browser(), 'svc-a', { prompt: 'none' });
  assert.equal(fresh.params?.error, 'login_required');
  assert.equal(fresh.params.state, fresh.req.state);

  const ua = new Browser();
  await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a'), browser: ua });
  const ok = await authorize(ua, 'svc-b', { prompt: 'none' });
  assert.ok(ok.params?.code, `code: ${ok.res.location}`);

  const bad = await authorize(ua, 'svc-b', { prompt: 'none login' });
  assert.equal(bad.params?.error, 'invalid_request');
});

test('a forged or foreign session cookie is no session', async () => {
  const ua = new Browser();
  ua.jar.store([`idhub_session=${'A'.repeat(43)}; Path=/`], hub.issuer + '/');
  const r = await authorize(ua, 'svc-a', { prompt: 'none' });
  assert.equal(r.params?.error, 'login_required');
});

test('max_age: too old a sign-in is login_required with prompt=none, else the journey', async () => {
  const ua = new Browser();
  await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a'), browser: ua });
  await new Promise((r) => setTimeout(r, 1100));
  const none = await authorize(ua, 'svc-b', { prompt: 'none', max_age: '0' });
  assert.equal(none.params?.error, 'login_required');
  const journey = await authorize(ua, 'svc-b', { max_age: '0' });
  assert.match(new URL(journey.res.location).pathname, /^\/login\//, 'back through the picker');
  const recent = await authorize(ua, 'svc-b', { max_age: '3600' });
  assert.ok(recent.params?.code, 'a recent enough sign-in is reused');
});

test('prompt=login goes through the IdP again even with a session', async () => {
  const ua = new Browser();
  await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a'), browser: ua });
  const r = await authorize(ua, 'svc-b', { prompt: 'login' });
  assert.match(new URL(r.res.location).pathname, /^\/login\//);
});

test('step-up: a low session offers only the IdPs that reach the level, then holds the higher one', async () => {
  const ua = new Browser();
  const low = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a'), browser: ua, idp: 'sandbox-low', loa: LOA_LOW });
  assert.equal(low.claims.acr, LOA_LOW);
  const none = await authorize(ua, 'svc-sub', { prompt: 'none' });
  assert.equal(none.params?.error, 'interaction_required');
  const req = await authRequest(cfg['svc-sub'], { redirectUri: cb('svc-sub') });
  const j = await login({ authorizeUrl: req.url.href, browser: ua, until: 'picker' });
  assert.deepEqual(radioValues(j.steps.picker.text, 'idp'), ['sandbox'], 'only the IdP reaching substantial');
  const up = await loginAndRedeem(cfg['svc-sub'], { redirectUri: cb('svc-sub'), browser: ua, loa: LOA_SUBSTANTIAL });
  assert.equal(up.claims.acr, LOA_SUBSTANTIAL);
  const after = await authorize(ua, 'svc-b', { prompt: 'none' });
  const t = await redeem('svc-b', after.req, after.res);
  assert.equal(t.claims().acr, LOA_SUBSTANTIAL, 'the session now holds the higher level');
});

test('id_token_hint: must be the hub\'s, for this service, naming the session\'s citizen', async () => {
  const ua = new Browser();
  const a = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a'), browser: ua });
  const ok = await authorize(ua, 'svc-a', { prompt: 'none', id_token_hint: a.tokens.id_token });
  assert.ok(ok.params?.code, 'matching hint');
  const other = await authorize(ua, 'svc-b', { prompt: 'none', id_token_hint: a.tokens.id_token });
  assert.equal(other.params?.error, 'login_required', 'a hint issued to another service');
  const bob = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a'), persona: 'bob' });
  const mismatch = await authorize(ua, 'svc-a', { id_token_hint: bob.tokens.id_token });
  assert.equal(mismatch.params?.error, 'login_required', 'another citizen');
  const malformed = await authorize(ua, 'svc-a', { id_token_hint: 'not.a.jwt' });
  assert.equal(malformed.params?.error, 'login_required');
  const [h, p] = a.tokens.id_token.split('.');
  const forged = await authorize(ua, 'svc-a', { id_token_hint: `${h}.${p}.${'A'.repeat(86)}` });
  assert.equal(forged.params?.error, 'login_required', 'a bad signature');
});

test('discovery advertises sessions, logout, refresh, revocation and introspection', async () => {
  const d = await (await fetch(`${hub.issuer}/.well-known/openid-configuration`)).json();
  assert.equal(d.end_session_endpoint, `${hub.issuer}/logout`);
  assert.equal(d.revocation_endpoint, `${hub.issuer}/revoke`);
  assert.equal(d.introspection_endpoint, `${hub.issuer}/introspect`);
  assert.equal(d.backchannel_logout_supported, true);
  assert.equal(d.backchannel_logout_session_supported, true);
  assert.ok(d.grant_types_supported.includes('refresh_token'));
  assert.ok(d.prompt_values_supported.includes('none') && d.prompt_values_supported.includes('login'));
  assert.ok(d.claims_supported.includes('sid'));
  assert.ok(d.scopes_supported.includes('offline_access'));
  // the endpoints answer as advertised
  for (const e of [d.revocation_endpoint, d.introspection_endpoint]) {
    const r = await fetch(e, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x' });
    assert.equal(r.status, 401, `${e} needs client authentication`);
  }
});
