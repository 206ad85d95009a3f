// The upstream OIDC adapter's refusals, each proved with a fake OP (or an attacker at our callback)
// returning one wrong thing: an ID token signed by an unknown key, alg none, HS256 keyed with the
// IdP's public key, wrong iss, wrong aud, several audiences without azp, expired, wrong nonce; a
// replayed callback; a state from another journey; upstream error responses; the IdP slow or down.
// Each must end in a clear page, never a code for the service, and for the reason expected.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { Browser } from './lib/browser.mjs';
import { rpConfig, authRequest, client } from './lib/rp.mjs';
import { startFakeOp, upstreamLogin, isRefusalPage, signingKey, publicJwk } from './lib/upstream-op.mjs';
import { createPublicKey } from 'node:crypto';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
let hub;
let op;
let cfg;
let ec;

before(async () => {
  op = await startFakeOp({ clientId: 'idhub-fake', clientSecret: 'fake-secret' });
  ec = await signingKey('fake-ec', 'ES256');
  op.published.push(ec);
  hub = await startHub({
    idps: [{
      id: 'fake', adapter: 'oidc', display_name: 'Fake OP', max_loa: LOA_SUBSTANTIAL,
      settings: {
        issuer: op.issuer, client_id: 'idhub-fake', client_secret: 'fake-secret', acr_map: 'urn:fake:high=2',
        timeout: 1, clock_leeway: 5, jwks_min_refetch_interval: 60, allowed_algs: 'RS256 ES256',
      },
    }],
    services: [service('svc', { redirect_uris: [cb('svc')] })],
  });
  cfg = await rpConfig(hub, 'svc');
});

after(async () => {
  await op?.stop();
  await hub?.stopAndCheck();
});

async function journey(opts = {}) {
  const req = await authRequest(cfg, { redirectUri: cb('svc') });
  const j = await upstreamLogin({ authorizeUrl: req.url.href, idp: 'fake', ...opts });
  return { req, j };
}

/** The journey must end in a refusal page (no code), and the hub must log why. */
async function assertRefused(idToken, why, { status, keep = false } = {}) {
  if (!keep) op.idToken = idToken;
  const before = hub.logs().length;
  const t0 = Date.now();
  const { j } = await journey();
  if (!keep) op.idToken = null;
  assert.equal(j.location, null, `a code reached the service: ${j.final.location}`);
  assert.ok(isRefusalPage(j.final), `not a refusal page: ${j.final.status}\n${j.final.text.slice(0, 300)}`);
  if (status) assert.equal(j.final.status, status);
  const log = hub.logs().slice(before);
  assert.match(log, why, `the hub refused for another reason:\n${log}`);
  return { j, ms: Date.now() - t0 };
}

const now = () => Math.floor(Date.now() / 1000);

test('baseline: the fake OP\'s honest ID token logs in (the refusals below differ by one fault)', async () => {
  const { req, j } = await journey();
  assert.ok(j.params?.code, `${j.final.status} ${hub.logs().slice(-1500)}`);
  const tokens = await client.authorizationCodeGrant(cfg, new URL(j.location), {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true,
  });
  assert.equal(tokens.claims().acr, LOA_SUBSTANTIAL);
  assert.equal(op.lastAuthorize.code_challenge_method, 'S256');
  // the IdP's ES256 key works too (allowed_algs "RS256 ES256")
  op.idToken = ({ claims, sign }) => sign(claims, { key: ec });
  const { j: j2 } = await journey();
  op.idToken = null;
  assert.ok(j2.params?.code, `an ES256 token: ${hub.logs().slice(-500)}`);
  // but PS256 is not on this instance's allow-list, even from the IdP's own RSA key
  await assertRefused(({ claims, sign }) => sign(claims, { alg: 'PS256' }), /ID token alg not allowed/);
});

test('signed by an unknown key: refused; forged kids refetch the JWKS at most once per interval', async () => {
  const attacker = await signingKey('attacker-key');
  const hits = op.jwksHits;
  await assertRefused(({ claims, sign }) => sign(claims, { key: attacker }), /ID token refused: .*rate-limited|ID token refused: no key/);
  // four at once, each with another unknown key: concurrent callbacks share the key set and the
  // rate limit
  const keys = await Promise.all([0, 1, 2, 3].map((i) => signingKey(`attacker-${i}`)));
  let n = 0;
  op.idToken = ({ claims, sign }) => sign(claims, { key: keys[n++ % keys.length] });
  try {
    await Promise.all(keys.map(() => assertRefused(null, /ID token refused: unknown signing key \(JWKS refetch rate-limited\)/, { keep: true })));
  } finally {
    op.idToken = null;
  }
  assert.ok(op.jwksHits - hits <= 1, `JWKS fetched ${op.jwksHits - hits} times for 5 forged kids`);
  // another key under the IdP's own kid: the signature does not verify
  await assertRefused(({ claims, sign }) => sign(claims, { key: attacker, kid: op.key.kid }), /ID token refused: ID token signature does not verify/);
});

test('no kid while the IdP\'s JWKS holds several keys: refused, even when only one key fits the alg', async () => {
  assert.ok(op.published.length > 1);
  await assertRefused(({ claims, sign }) => sign(claims, { kid: null }), /ID token has no kid and the IdP's JWKS holds several keys/);
  await assertRefused(({ claims, sign }) => sign(claims, { key: ec, kid: null }), /ID token has no kid and the IdP's JWKS holds several keys/);
});

test('alg none: refused', async () => {
  await assertRefused(({ claims }) => op.unsigned(claims), /ID token refused: ID token is not a compact JWS|alg not allowed/);
  // and with a non-empty signature part
  await assertRefused(({ claims }) => op.unsigned(claims) + 'c2ln', /ID token refused: ID token alg not allowed/);
});

test('HS256 with the IdP\'s public key as the secret: refused', async () => {
  const pubJson = JSON.stringify(publicJwk(op.key));
  const pem = createPublicKey({ key: publicJwk(op.key), format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  await assertRefused(({ claims }) => op.hmac(claims, pubJson), /ID token refused: ID token alg not allowed/);
  await assertRefused(({ claims }) => op.hmac(claims, pem), /ID token refused: ID token alg not allowed/);
});

test('wrong iss, wrong aud, several audiences without azp: refused', async () => {
  await assertRefused(({ claims, sign }) => sign({ ...claims, iss: 'https://evil.example' }), /iss is not the discovered issuer/);
  await assertRefused(({ claims, sign }) => sign({ ...claims, iss: op.issuer + '/' }), /iss is not the discovered issuer/);
  await assertRefused(({ claims, sign }) => sign({ ...claims, aud: 'someone-else' }), /aud does not contain our client_id/);
  await assertRefused(({ claims, sign }) => sign({ ...claims, aud: ['idhub-fake', 'other'] }), /several audiences and no azp/);
  await assertRefused(({ claims, sign }) => sign({ ...claims, aud: ['idhub-fake', 'other'], azp: 'other' }), /azp is not our client_id/);
});

test('expired, issued long ago, or in the future: refused', async () => {
  await assertRefused(({ claims, sign }) => sign({ ...claims, iat: now() - 400, exp: now() - 60 }), /ID token expired/);
  await assertRefused(({ claims, sign }) => sign({ ...claims, iat: now() - 3600, exp: now() + 300 }), /issued before this login began/);
  await assertRefused(({ claims, sign }) => sign({ ...claims, iat: now() + 600, exp: now() + 900 }), /issued in the future/);
  await assertRefused(({ claims, sign }) => sign({ ...claims, exp: undefined }), /exp or iat missing/);
});

test('wrong or missing nonce: refused', async () => {
  await assertRefused(({ claims, sign }) => sign({ ...claims, nonce: 'another-journeys-nonce' }), /nonce does not match this login/);
  await assertRefused(({ claims, sign }) => sign({ ...claims, nonce: undefined }), /nonce does not match this login/);
});

test('replayed callback (same code and state twice): the second is refused', async () => {
  const { j } = await journey();
  assert.ok(j.params?.code && j.callbackUrl);
  const again = await j.browser.get(j.callbackUrl, { initiator: op.issuer + '/authorize' });
  assert.ok(isRefusalPage(again), `${again.status} ${again.location || ''}`);
  const other = await new Browser().get(j.callbackUrl);
  assert.ok(isRefusalPage(other), `${other.status} ${other.location || ''}`);
});

test('state from another journey: refused (PKCE and nonce bind the code to its journey)', async () => {
  const browser = new Browser();
  const a = await journey({ browser, stopAtCallback: true });
  const b = await journey({ browser, stopAtCallback: true });
  const ua = new URL(a.j.callbackUrl);
  const ub = new URL(b.j.callbackUrl);
  ua.searchParams.set('code', ub.searchParams.get('code')); // B's code under A's state
  const before = hub.logs().length;
  const r = await browser.get(ua.href, { initiator: op.issuer + '/authorize' });
  assert.ok(isRefusalPage(r), `${r.status} ${r.location || ''}`);
  assert.match(hub.logs().slice(before), /fake refused: the IdP answered error=invalid_grant/);
  // an attacker's own callback replayed into the citizen's browser: another browser's journey
  const c = await journey({ stopAtCallback: true });
  const r2 = await browser.get(c.j.callbackUrl, { initiator: op.issuer + '/authorize' });
  assert.ok(isRefusalPage(r2), `${r2.status} ${r2.location || ''}`);
});

test('mix-up: a response whose iss is another IdP\'s, or without iss, is refused (RFC 9207)', async () => {
  for (const iss of ['https://other-idp.example', null]) {
    const { j } = await journey({ stopAtCallback: true });
    const u = new URL(j.callbackUrl);
    if (iss) u.searchParams.set('iss', iss);
    else u.searchParams.delete('iss');
    const before = hub.logs().length;
    const r = await j.browser.get(u.href, { initiator: op.issuer + '/authorize' });
    assert.ok(isRefusalPage(r), `${r.status} ${r.location || ''}`);
    assert.match(hub.logs().slice(before), /the answer's iss is not our IdP's/);
  }
});

test('upstream error responses: access_denied and login_required give clear pages', async () => {
  for (const [error, heading] of [['access_denied', /did not finish proving your identity/], ['login_required', /needs you to sign in/]]) {
    op.authorizeError = error;
    const before = hub.logs().length;
    const { j } = await journey();
    op.authorizeError = null;
    assert.equal(j.location, null);
    assert.ok(isRefusalPage(j.final));
    assert.match(j.final.text, heading);
    assert.match(hub.logs().slice(before), new RegExp(`the IdP answered error=${error}`));
  }
});

test('the IdP slow: the token call times out (timeout = 1 s) and a clear page is shown', async () => {
  op.tokenDelayMs = 4000;
  try {
    const { j, ms } = await assertRefused(null, /token endpoint did not answer in time/, { status: 502 });
    assert.ok(ms < 3500, `answered after ${ms} ms`);
    assert.match(j.final.text, /not available/);
  } finally {
    op.tokenDelayMs = 0;
  }
});

test('the IdP down between the login and the code exchange: a clear page, no hang', async () => {
  const { j } = await journey({ stopAtCallback: true });
  await op.stop();
  const r = await j.browser.get(j.callbackUrl, { initiator: op.issuer + '/authorize' });
  assert.equal(r.status, 502);
  assert.ok(isRefusalPage(r));
  assert.match(r.text, /not available/);
  op = null;
});
