// OpenID Certification readiness (issue 16): the per-service policy (require_pkce, require_nonce,
// require_state) driven by openid-client, PKCE downgrade protection at /token, RS256 as the
// registration default, userinfo by POST body, scopes and the claims request parameter, the
// discovery fields of the Config OP profile, and idhubctl showing and auditing a policy change.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service } from './lib/hub.mjs';
import { Browser, login } from './lib/browser.mjs';
import { rpConfig, tokenRequest, verifyIdToken, client } from './lib/rp.mjs';
import { ctl, ctlOk, show, auditLog } from './lib/ctl.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
const DOCS = 'https://docs.example.gov/idhub';
let hub;
const cfg = {};

const relaxed = {
  'no-pkce': { require_pkce: false },
  'no-nonce': { require_nonce: false },
  'no-state': { require_state: false },
};

before(async () => {
  hub = await startHub({
    hub: { service_documentation: DOCS },
    services: [
      service('strict', { redirect_uris: [cb('strict')], scopes: ['openid', 'profile', 'email'] }),
      ...Object.entries(relaxed).map(([id, p]) => service(id, { redirect_uris: [cb(id)], ...p })),
      // no id_token_alg: the registration default, RS256
      service('rs-default', { redirect_uris: [cb('rs-default')], id_token_alg: undefined }),
      service('all-scopes', { redirect_uris: [cb('all-scopes')], scopes: ['openid', 'profile', 'email', 'address', 'phone'] }),
      // may never receive email, whatever it asks for
      service('profile-only', { redirect_uris: [cb('profile-only')], scopes: ['openid', 'profile'] }),
    ],
  });
  for (const id of ['strict', ...Object.keys(relaxed), 'all-scopes', 'profile-only']) {
    cfg[id] = await rpConfig(hub, id, { metadata: { id_token_signed_response_alg: 'ES256' } });
  }
  cfg['rs-default'] = await rpConfig(hub, 'rs-default'); // openid-client's own default: RS256
});
after(async () => { await hub?.stopAndCheck(); });

/** An authorization request with or without PKCE, nonce and state, through the journey. */
async function journey(config, id, { pkce = true, nonce = true, state = true, scope = 'openid', extra = {} } = {}) {
  const r = { verifier: undefined, nonce: undefined, state: undefined };
  const params = { redirect_uri: cb(id), scope, ...extra };
  if (pkce) {
    r.verifier = client.randomPKCECodeVerifier();
    params.code_challenge = await client.calculatePKCECodeChallenge(r.verifier);
    params.code_challenge_method = 'S256';
  }
  if (nonce) params.nonce = r.nonce = client.randomNonce();
  if (state) params.state = r.state = client.randomState();
  r.url = client.buildAuthorizationUrl(config, params);
  r.journey = await login({ authorizeUrl: r.url.href, browser: new Browser() });
  r.params = r.journey.params || {};
  return r;
}

/** Redeem with openid-client, which checks state, nonce and PKCE as each request used them. */
function redeem(config, r) {
  return client.authorizationCodeGrant(config, new URL(r.journey.location), {
    pkceCodeVerifier: r.verifier, expectedState: r.state, expectedNonce: r.nonce, idTokenExpected: true,
  });
}

/** The token endpoint by hand for a code: basic auth with the test secret. */
function redeemByHand(id, code, verifier) {
  const p = { grant_type: 'authorization_code', code, redirect_uri: cb(id) };
  if (verifier) p.code_verifier = verifier;
  return tokenRequest(hub, p, { basic: [id, `${id}-secret`] });
}

function assertRefused(r, description) {
  assert.equal(r.params.error, 'invalid_request', `refused at /authorize: ${r.journey.location}`);
  assert.match(r.params.error_description, description);
  assert.ok(!r.params.code, 'no code');
}

// ---- the policy ---------------------------------------------------------------------------------

test('strict by default: a request without PKCE, without nonce or without state is refused', async () => {
  assertRefused(await journey(cfg.strict, 'strict', { pkce: false }), /PKCE/);
  assertRefused(await journey(cfg.strict, 'strict', { nonce: false }), /nonce is required/);
  assertRefused(await journey(cfg.strict, 'strict', { state: false }), /state is required/);
  // each relaxed service still requires the other two
  assertRefused(await journey(cfg['no-pkce'], 'no-pkce', { nonce: false }), /nonce is required/);
  assertRefused(await journey(cfg['no-nonce'], 'no-nonce', { pkce: false }), /PKCE/);
  assertRefused(await journey(cfg['no-state'], 'no-state', { nonce: false }), /nonce is required/);
});

test('require_pkce = false: openid-client signs in without PKCE', async () => {
  const r = await journey(cfg['no-pkce'], 'no-pkce', { pkce: false });
  assert.ok(r.params.code, r.journey.location);
  const tokens = await redeem(cfg['no-pkce'], r);
  assert.equal(tokens.claims().nonce, r.nonce);
  const ui = await client.fetchUserInfo(cfg['no-pkce'], tokens.access_token, tokens.claims().sub);
  assert.equal(ui.sub, tokens.claims().sub);
});

test('require_nonce = false: openid-client signs in without nonce, and the ID token has none', async () => {
  const r = await journey(cfg['no-nonce'], 'no-nonce', { nonce: false });
  assert.ok(r.params.code, r.journey.location);
  const tokens = await redeem(cfg['no-nonce'], r); // openid-client refuses an unexpected nonce
  assert.equal(tokens.claims().nonce, undefined);
});

test('require_state = false: openid-client signs in without state, and the response has none', async () => {
  const r = await journey(cfg['no-state'], 'no-state', { state: false });
  assert.ok(r.params.code, r.journey.location);
  assert.equal(r.params.state, undefined);
  await redeem(cfg['no-state'], r);
});

test('PKCE downgrade: a code issued with a challenge needs its verifier; a verifier for a code without one is refused', async () => {
  // require_pkce = false, but the request used PKCE: the code is bound to the challenge
  const withPkce = await journey(cfg['no-pkce'], 'no-pkce');
  let t = await redeemByHand('no-pkce', withPkce.params.code, undefined);
  assert.equal(t.json?.error, 'invalid_grant', t.text);
  assert.match(t.json.error_description, /code_verifier is required/);
  // no challenge at /authorize: a code_verifier at /token is refused (RFC 9700 §2.1.1)
  const without = await journey(cfg['no-pkce'], 'no-pkce', { pkce: false });
  t = await redeemByHand('no-pkce', without.params.code, client.randomPKCECodeVerifier());
  assert.equal(t.json?.error, 'invalid_grant', t.text);
  assert.match(t.json.error_description, /no code_challenge/);
  // a strict service: no verifier is refused before the code is touched
  const strict = await journey(cfg.strict, 'strict');
  t = await redeemByHand('strict', strict.params.code, undefined);
  assert.equal(t.json?.error, 'invalid_request', t.text);
  t = await redeemByHand('strict', strict.params.code, strict.verifier);
  assert.equal(t.status, 200, t.text);
});

test('a code_challenge with another method than S256 is refused, even where PKCE is optional', async () => {
  const r = await journey(cfg['no-pkce'], 'no-pkce', { pkce: false, extra: { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' } });
  assertRefused(r, /S256/);
});

// ---- algorithms ---------------------------------------------------------------------------------

test('a service registered without id_token_alg gets RS256 ID tokens', async () => {
  const r = await journey(cfg['rs-default'], 'rs-default');
  const tokens = await redeem(cfg['rs-default'], r); // openid-client expects RS256 by default
  const { protectedHeader } = await verifyIdToken(hub, tokens.id_token, 'rs-default', ['RS256']);
  assert.equal(protectedHeader.alg, 'RS256');
  const jwks = await (await fetch(`${hub.issuer}/jwks`)).json();
  assert.ok(jwks.keys.some((k) => k.kid === protectedHeader.kid && k.kty === 'RSA'));
});

// ---- userinfo -----------------------------------------------------------------------------------

async function userinfo({ header, body, method = 'POST' }) {
  const headers = {};
  if (header) headers.authorization = `Bearer ${header}`;
  let b;
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    b = new URLSearchParams(body).toString();
  }
  const res = await fetch(`${hub.issuer}/userinfo`, { method, headers, body: b });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text, headers: res.headers };
}

test('userinfo: the access token in a form-encoded POST body (RFC 6750 §2.2); both at once is invalid_request', async () => {
  const r = await journey(cfg.strict, 'strict', { scope: 'openid email' });
  const tokens = await redeem(cfg.strict, r);
  const byBody = await userinfo({ body: { access_token: tokens.access_token } });
  assert.equal(byBody.status, 200, byBody.text);
  assert.equal(byBody.json.sub, tokens.claims().sub);
  assert.equal(byBody.json.email, 'alice@example.org', 'the email scope releases email');
  assert.equal(byBody.json.email_verified, true);
  const byHeader = await userinfo({ header: tokens.access_token, method: 'GET' });
  assert.deepEqual(byHeader.json, byBody.json);
  const both = await userinfo({ header: tokens.access_token, body: { access_token: tokens.access_token } });
  assert.equal(both.status, 400, both.text);
  assert.equal(both.json.error, 'invalid_request');
  const neither = await userinfo({ body: { other: 'x' } });
  assert.equal(neither.status, 401, neither.text);
});

// ---- claims -------------------------------------------------------------------------------------

test('scopes release the standard claims the IdP asserted: profile, email, address, phone', async () => {
  const r = await journey(cfg['all-scopes'], 'all-scopes', { scope: 'openid profile email address phone' });
  const tokens = await redeem(cfg['all-scopes'], r);
  const ui = await client.fetchUserInfo(cfg['all-scopes'], tokens.access_token, tokens.claims().sub);
  assert.equal(ui.name, 'Alice Smith');
  assert.equal(ui.given_name, 'Alice');
  assert.equal(ui.email, 'alice@example.org');
  assert.equal(ui.phone_number, '+44 20 7946 0001');
  assert.equal(ui.phone_number_verified, true);
  assert.deepEqual(ui.address, { street_address: '1 Test Street', locality: 'London', postal_code: 'SW1A 1AA', country: 'GB' });
  assert.equal(ui.middle_name, undefined, 'a claim the IdP did not assert is left out');
});

test('the claims parameter: an essential name in the ID token, email in userinfo, an unavailable claim left out', async () => {
  const claims = JSON.stringify({
    id_token: { name: { essential: true }, middle_name: null },
    userinfo: { email: null, phone_number: { essential: true } },
  });
  const r = await journey(cfg['all-scopes'], 'all-scopes', { scope: 'openid', extra: { claims } });
  const tokens = await redeem(cfg['all-scopes'], r);
  const idt = tokens.claims();
  assert.equal(idt.name, 'Alice Smith', 'essential name in the ID token');
  assert.equal(idt.middle_name, undefined, 'the IdP asserted no middle_name');
  assert.equal(idt.email, undefined, 'email was asked for userinfo only');
  const ui = await client.fetchUserInfo(cfg['all-scopes'], tokens.access_token, idt.sub);
  assert.equal(ui.email, 'alice@example.org');
  assert.equal(ui.phone_number, '+44 20 7946 0001');
  assert.equal(ui.name, undefined, 'name was asked for the ID token only, and no profile scope');
  assert.equal(ui.email_verified, undefined, 'only the claims asked for');
});

test('a claim the service is not allowed is never released, by scope or by the claims parameter', async () => {
  const claims = JSON.stringify({ id_token: { email: { essential: true } }, userinfo: { email: { essential: true }, name: null } });
  const r = await journey(cfg['profile-only'], 'profile-only', { scope: 'openid email', extra: { claims } });
  const tokens = await redeem(cfg['profile-only'], r);
  assert.equal(tokens.claims().email, undefined);
  assert.equal(tokens.scope, 'openid', 'the email scope is not granted');
  const ui = await client.fetchUserInfo(cfg['profile-only'], tokens.access_token, tokens.claims().sub);
  assert.equal(ui.email, undefined);
  assert.equal(ui.name, 'Alice Smith', 'an allowed claim asked for by name is released');
});

test('a malformed or oversized claims parameter is invalid_request', async () => {
  for (const claims of ['not json', '[1]', '{"id_token": ["name"]}', '{"userinfo": {"name": 1}}',
    '{"id_token": {"name": {"essential": "yes"}}}',
    JSON.stringify({ userinfo: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x${i}`, null])) })]) {
    assertRefused(await journey(cfg.strict, 'strict', { extra: { claims } }), /claims/);
  }
});

// ---- discovery ----------------------------------------------------------------------------------

test('discovery has the Config OP profile fields, RS256 and the address and phone scopes', async () => {
  const d = await (await fetch(`${hub.issuer}/.well-known/openid-configuration`)).json();
  assert.equal(d.claims_parameter_supported, true);
  assert.deepEqual(d.claim_types_supported, ['normal']);
  assert.ok(Array.isArray(d.ui_locales_supported) && d.ui_locales_supported.includes('en'));
  assert.equal(d.service_documentation, DOCS);
  for (const c of ['sub', 'iss', 'acr', 'name', 'given_name', 'family_name', 'email', 'email_verified', 'address', 'phone_number']) {
    assert.ok(d.claims_supported.includes(c), `claims_supported has ${c}`);
  }
  assert.ok(!d.claims_supported.includes('middle_name'), 'the sandbox cannot assert middle_name');
  for (const s of ['openid', 'profile', 'email', 'address', 'phone']) assert.ok(d.scopes_supported.includes(s), `scope ${s}`);
  for (const a of ['RS256', 'ES256', 'PS256', 'EdDSA']) assert.ok(d.id_token_signing_alg_values_supported.includes(a), a);
});

// ---- idhubctl -----------------------------------------------------------------------------------

test('idhubctl: a registered service shows its policy; a relaxation is audited; a relaxed code is refused once PKCE is required again', async () => {
  const add = await ctlOk(hub, ['services', 'add', '--id', 'reg', '--name', 'Registered', '--redirect-uri', cb('reg'),
    '--require-pkce', 'false'], { json: true });
  const secret = add.json.client_secret;
  let s = await ctlOk(hub, ['services', 'show', 'reg'], { json: true });
  assert.equal(s.json.require_pkce, false);
  assert.equal(s.json.require_nonce, true);
  assert.equal(s.json.require_state, true);
  assert.equal(s.json.id_token_alg, 'RS256', 'the registration default');
  const text = await ctlOk(hub, ['services', 'show', 'reg']);
  assert.match(text.stdout, /^require_nonce\s+true$/m);
  const conf = await ctlOk(hub, ['services', 'show', 'strict'], { json: true });
  assert.equal(conf.json.require_pkce, true, 'a config-file service shows its policy too');

  const bad = await ctl(hub, ['services', 'update', 'reg', '--require-nonce', 'maybe']);
  assert.equal(bad.status, 2, show(bad));

  await ctlOk(hub, ['services', 'update', 'reg', '--require-nonce', 'false']);
  s = await ctlOk(hub, ['services', 'show', 'reg'], { json: true });
  assert.equal(s.json.require_nonce, false);
  const { records } = await auditLog(hub);
  const upd = records.filter((x) => x.what === 'services.update' && x.target === 'reg').at(-1);
  assert.ok(upd, 'the change is in the audit log');
  assert.equal(upd.before.require_nonce, true);
  assert.equal(upd.after.require_nonce, false);
  const added = records.find((x) => x.what === 'services.add' && x.target === 'reg');
  assert.equal(added.after.require_pkce, false, 'the relaxation at registration is audited');

  // a code obtained without PKCE, then the policy is made strict again: the code is refused
  const rc = await rpConfig(hub, 'reg', { secret });
  const r = await journey(rc, 'reg', { pkce: false, nonce: false });
  assert.ok(r.params.code, r.journey.location);
  await ctlOk(hub, ['services', 'update', 'reg', '--require-pkce', 'true']);
  const t = await tokenRequest(hub, { grant_type: 'authorization_code', code: r.params.code, redirect_uri: cb('reg') }, { basic: ['reg', secret] });
  assert.equal(t.status, 400, t.text);
  assert.ok(['invalid_request', 'invalid_grant'].includes(t.json?.error), t.text);
  assert.ok(!t.json.access_token);
});
