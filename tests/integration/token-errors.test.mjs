// Token endpoint refusals: PKCE, redirect_uri binding, single-use codes (and revocation on replay),
// codes of other clients, grant types, malformed and oversized requests; userinfo's refusals.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service } from './lib/hub.mjs';
import { rpConfig, getCode, tokenRequest, client } from './lib/rp.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
let hub;
const cfg = {};
const basicA = ['svc-a', 'svc-a-secret'];

before(async () => {
  hub = await startHub({
    services: [
      service('svc-a', { redirect_uris: [cb('svc-a'), 'http://127.0.0.1:9/svc-a/other'] }),
      service('svc-b', { redirect_uris: [cb('svc-b')] }),
    ],
  });
  cfg.a = await rpConfig(hub, 'svc-a');
  cfg.b = await rpConfig(hub, 'svc-b');
});
after(async () => { await hub?.stopAndCheck(); });

const grant = (c, over = {}) => {
  const p = { grant_type: 'authorization_code', code: c.code, redirect_uri: c.req.redirectUri, code_verifier: c.req.verifier, ...over };
  for (const k of Object.keys(p)) if (p[k] === null) delete p[k];
  return p;
};

function assertError(r, error, what) {
  assert.equal(r.json?.error, error, `${what}: expected ${error}, got ${r.status} ${r.text}`);
  assert.equal(r.status, error === 'invalid_client' ? 401 : 400, `${what}: status`);
  assert.match(r.headers.get('content-type') || '', /application\/json/, `${what}: JSON`);
  assert.equal(typeof r.json.error_description, 'string', `${what}: error_description`);
  assert.ok(!r.json.access_token && !r.json.id_token, `${what}: no tokens`);
}

async function userinfo(token, method = 'GET') {
  const res = await fetch(`${hub.issuer}/userinfo`, { method, headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

test('a correct redemption succeeds with no-store caching', async () => {
  const c = await getCode(cfg.a, { redirectUri: cb('svc-a') });
  const r = await tokenRequest(hub, grant(c), { basic: basicA });
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.access_token && r.json.id_token);
  assert.match(r.json.token_type, /^bearer$/i);
  assert.match(r.headers.get('cache-control') || '', /no-store/);
  assert.equal((await userinfo(r.json.access_token)).status, 200);
  assert.equal((await userinfo(r.json.access_token, 'POST')).status, 200, 'POST /userinfo');
});

test('wrong code_verifier: invalid_grant; missing code_verifier: invalid_request', async () => {
  const c = await getCode(cfg.a, { redirectUri: cb('svc-a') });
  assertError(await tokenRequest(hub, grant(c, { code_verifier: client.randomPKCECodeVerifier() }), { basic: basicA }), 'invalid_grant', 'wrong verifier');
  assertError(await tokenRequest(hub, grant(c, { code_verifier: null }), { basic: basicA }), 'invalid_request', 'missing verifier');
});

test('redirect_uri differing from the authorize one: invalid_grant', async () => {
  const c = await getCode(cfg.a, { redirectUri: cb('svc-a') });
  assertError(await tokenRequest(hub, grant(c, { redirect_uri: 'http://127.0.0.1:9/svc-a/other' }), { basic: basicA }), 'invalid_grant', 'other registered redirect_uri');
  const c2 = await getCode(cfg.a, { redirectUri: cb('svc-a') });
  assertError(await tokenRequest(hub, grant(c2, { redirect_uri: cb('svc-a') + '/' }), { basic: basicA }), 'invalid_grant', 'trailing slash');
});

test('a code redeemed twice: invalid_grant, and the first access token is revoked', async () => {
  const c = await getCode(cfg.a, { redirectUri: cb('svc-a') });
  const r1 = await tokenRequest(hub, grant(c), { basic: basicA });
  assert.equal(r1.status, 200, r1.text);
  assert.equal((await userinfo(r1.json.access_token)).status, 200, 'the access token works before the replay');
  assertError(await tokenRequest(hub, grant(c), { basic: basicA }), 'invalid_grant', 'second redemption');
  const u = await userinfo(r1.json.access_token);
  assert.equal(u.status, 401, `userinfo after the replay: ${u.status} ${u.text}`);
  assert.match(u.headers.get('www-authenticate') || '', /^Bearer\b.*error="invalid_token"/i);
});

test('a code of another client: invalid_grant', async () => {
  const c = await getCode(cfg.b, { redirectUri: cb('svc-b') });
  assertError(await tokenRequest(hub, grant(c), { basic: basicA }), 'invalid_grant', 'svc-b code redeemed by svc-a');
  assertError(await tokenRequest(hub, grant(c, { redirect_uri: cb('svc-a') }), { basic: basicA }), 'invalid_grant', 'with svc-a\'s redirect_uri');
});

test('a refused redemption does not burn the code: wrong verifier, wrong redirect_uri, another client; then it redeems once', async () => {
  const c = await getCode(cfg.a, { redirectUri: cb('svc-a') });
  const before = hub.logs().length;
  assertError(await tokenRequest(hub, grant(c, { code_verifier: client.randomPKCECodeVerifier() }), { basic: basicA }), 'invalid_grant', 'wrong verifier');
  assertError(await tokenRequest(hub, grant(c, { redirect_uri: 'http://127.0.0.1:9/svc-a/other' }), { basic: basicA }), 'invalid_grant', 'other redirect_uri');
  assertError(await tokenRequest(hub, grant(c, { redirect_uri: cb('svc-b') }), { basic: ['svc-b', 'svc-b-secret'] }), 'invalid_grant', 'svc-b presenting svc-a\'s code');
  const r = await tokenRequest(hub, grant(c), { basic: basicA });
  assert.equal(r.status, 200, `the code's own client, after the refusals: ${r.text}`);
  assert.equal((await userinfo(r.json.access_token)).status, 200);
  // nothing was redeemed before, so nothing was revoked and the log must not say so
  assert.doesNotMatch(hub.logs().slice(before), /revoked/, 'no revocation claimed');
  // another client presenting the redeemed code: refused, and it cannot revoke svc-a's token
  assertError(await tokenRequest(hub, grant(c, { redirect_uri: cb('svc-b') }), { basic: ['svc-b', 'svc-b-secret'] }), 'invalid_grant', 'svc-b replaying svc-a\'s code');
  assert.equal((await userinfo(r.json.access_token)).status, 200, 'svc-a\'s token survives another client\'s replay');
  assert.doesNotMatch(hub.logs().slice(before), /revoked/, 'still no revocation claimed');
});

test('an unknown code: invalid_grant', async () => {
  const c = { code: 'no-such-code-' + client.randomState(), req: { redirectUri: cb('svc-a'), verifier: client.randomPKCECodeVerifier() } };
  assertError(await tokenRequest(hub, grant(c), { basic: basicA }), 'invalid_grant', 'unknown code');
});

test('grant_type password or missing: unsupported_grant_type / invalid_request', async () => {
  assertError(await tokenRequest(hub, { grant_type: 'password', username: 'alice', password: 'x' }, { basic: basicA }), 'unsupported_grant_type', 'password');
  assertError(await tokenRequest(hub, { grant_type: 'client_credentials' }, { basic: basicA }), 'unsupported_grant_type', 'client_credentials');
  assertError(await tokenRequest(hub, { code: 'x' }, { basic: basicA }), 'invalid_request', 'no grant_type');
});

test('missing code: invalid_request', async () => {
  const c = await getCode(cfg.a, { redirectUri: cb('svc-a') });
  assertError(await tokenRequest(hub, grant(c, { code: null }), { basic: basicA }), 'invalid_request', 'missing code');
});

test('duplicated parameters: invalid_request', async () => {
  for (const dup of ['code', 'redirect_uri', 'code_verifier', 'grant_type']) {
    const c = await getCode(cfg.a, { redirectUri: cb('svc-a') });
    const pairs = Object.entries(grant(c));
    pairs.push(pairs.find(([k]) => k === dup));
    const r = await tokenRequest(hub, null, { basic: basicA, rawBody: new URLSearchParams(pairs).toString() });
    assertError(r, 'invalid_request', `duplicated ${dup}`);
  }
});

test('a body over 64 KiB: 413 or invalid_request; the daemon keeps serving', async () => {
  const c = await getCode(cfg.a, { redirectUri: cb('svc-a') });
  const body = new URLSearchParams({ ...grant(c), pad: 'x'.repeat(3000) }).toString() + '&' +
    Array.from({ length: 30 }, (_, i) => `p${i}=${'y'.repeat(2500)}`).join('&');
  assert.ok(body.length > 65536);
  let r;
  try {
    r = await tokenRequest(hub, null, { basic: basicA, rawBody: body });
  } catch (e) {
    r = { status: 'connection closed: ' + e.message }; // closing the connection is a refusal too
  }
  if (typeof r.status === 'number') {
    assert.ok(r.status === 413 || (r.status === 400 && r.json?.error === 'invalid_request'), `got ${r.status} ${r.text?.slice(0, 200)}`);
  }
  const h = await fetch(`${hub.issuer}/healthz`);
  assert.equal(h.status, 200);
  await h.text();
});

test('the token endpoint accepts only POST with a form body', async () => {
  const g = await fetch(`${hub.issuer}/token?grant_type=authorization_code`);
  await g.text();
  assert.ok(g.status === 405 || g.status === 400, `GET /token: ${g.status}`);
  const c = await getCode(cfg.a, { redirectUri: cb('svc-a') });
  const r = await tokenRequest(hub, null, { basic: basicA, rawBody: JSON.stringify(grant(c)), headers: { 'content-type': 'application/json' } });
  assert.ok(r.status >= 400 && r.status < 500 && !r.json?.access_token, `JSON body: ${r.status} ${r.text}`);
});

test('userinfo: no token, a garbage token, a forged token: 401 with WWW-Authenticate Bearer', async () => {
  const none = await fetch(`${hub.issuer}/userinfo`);
  await none.text();
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') || '', /^Bearer/i);
  const bad = await userinfo('not.a.token');
  assert.equal(bad.status, 401);
  assert.match(bad.headers.get('www-authenticate') || '', /error="invalid_token"/);
  // a real access token with its payload changed: the signature no longer matches
  const c = await getCode(cfg.a, { redirectUri: cb('svc-a') });
  const r = await tokenRequest(hub, grant(c), { basic: basicA });
  const [h, p, s] = r.json.access_token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  claims.sub = 'someone-else';
  const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
  const f = await userinfo(forged);
  assert.equal(f.status, 401);
  assert.match(f.headers.get('www-authenticate') || '', /error="invalid_token"/);
  // the ID token is not an access token
  const i = await userinfo(r.json.id_token);
  assert.equal(i.status, 401, 'an ID token is refused at userinfo');
});

test.skip('a code older than 60 s is refused (not tested: it would need a 60 s sleep)', () => {});
