// Client authentication at the token endpoint: private_key_jwt (ES256, inline JWKS), client_secret_post
// and client_secret_basic, and their refusals (always invalid_client).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startHub, service, secretHash } from './lib/hub.mjs';
import { rpConfig, loginAndRedeem, getCode, tokenRequest, verifyIdToken, jose } from './lib/rp.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
let hub;
let key; // the registered ES256 key pair
let otherKey;
const KID = 'svc-jwt-key-1';
const cfg = {};

before(async () => {
  key = await jose.generateKeyPair('ES256', { extractable: true });
  otherKey = await jose.generateKeyPair('ES256', { extractable: true });
  const pub = { ...(await jose.exportJWK(key.publicKey)), kid: KID, alg: 'ES256', use: 'sig' };
  hub = await startHub({
    services: [
      service('svc-jwt', {
        auth_method: 'private_key_jwt', secret_hash: undefined, redirect_uris: [cb('svc-jwt')],
        jwks: JSON.stringify({ keys: [pub] }),
      }),
      service('svc-post', { auth_method: 'client_secret_post', redirect_uris: [cb('svc-post')], secret_hash: secretHash('svc-post-secret') }),
      service('svc-basic', { auth_method: 'client_secret_basic', redirect_uris: [cb('svc-basic')], secret_hash: secretHash('svc-basic-secret') }),
    ],
  });
  cfg.jwt = await rpConfig(hub, 'svc-jwt', { auth: { privateKey: key.privateKey, kid: KID } });
  cfg.post = await rpConfig(hub, 'svc-post', { auth: 'post' });
  cfg.basic = await rpConfig(hub, 'svc-basic', { auth: 'basic' });
});
after(async () => { await hub?.stopAndCheck(); });

async function assertion({ signer = key.privateKey, kid = KID, aud = hub.issuer, iss = 'svc-jwt', sub = 'svc-jwt', jti = randomUUID(), iat, exp } = {}) {
  const now = Math.floor(Date.now() / 1000);
  return new jose.SignJWT({ jti })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(iss).setSubject(sub).setAudience(aud)
    .setIssuedAt(iat ?? now).setExpirationTime(exp ?? now + 60)
    .sign(signer);
}

function jwtGrant(c, clientAssertion) {
  return tokenRequest(hub, {
    grant_type: 'authorization_code', code: c.code, redirect_uri: c.req.redirectUri, code_verifier: c.req.verifier,
    client_id: 'svc-jwt', client_assertion_type: ASSERTION_TYPE, client_assertion: clientAssertion,
  });
}

function assertInvalidClient(r, what) {
  assert.equal(r.json?.error, 'invalid_client', `${what}: expected invalid_client, got ${r.status} ${r.text}`);
  assert.ok(r.status === 401 || r.status === 400, `${what}: status ${r.status}`);
  assert.ok(!r.json.access_token && !r.json.id_token, `${what}: no tokens`);
  assert.equal(typeof r.json.error_description, 'string', `${what}: error_description`);
}

test('private_key_jwt (ES256, inline JWKS) succeeds through openid-client', async () => {
  const { tokens, claims } = await loginAndRedeem(cfg.jwt, { redirectUri: cb('svc-jwt') });
  assert.ok(tokens.access_token);
  await verifyIdToken(hub, tokens.id_token, 'svc-jwt');
  assert.ok(claims.sub);
});

test('private_key_jwt by hand (aud = issuer) succeeds; the same assertion replayed is invalid_client', async () => {
  const a = await assertion();
  const c1 = await getCode(cfg.jwt, { redirectUri: cb('svc-jwt') });
  const r1 = await jwtGrant(c1, a);
  assert.equal(r1.status, 200, r1.text);
  assert.ok(r1.json.access_token && r1.json.id_token);
  const c2 = await getCode(cfg.jwt, { redirectUri: cb('svc-jwt') });
  assertInvalidClient(await jwtGrant(c2, a), 'replayed jti');
  // the code was not the problem: a fresh assertion redeems it... or the hub burnt it; both are safe,
  // but a fresh assertion must never be refused as invalid_client
  const r3 = await jwtGrant(c2, await assertion());
  assert.notEqual(r3.json?.error, 'invalid_client', r3.text);
});

test('private_key_jwt with aud = the token endpoint URL is accepted (OpenID Connect Core 9)', async () => {
  const c = await getCode(cfg.jwt, { redirectUri: cb('svc-jwt') });
  const r = await jwtGrant(c, await assertion({ aud: `${hub.issuer}/token` }));
  assert.equal(r.status, 200, r.text);
});

test('private_key_jwt with a wrong aud is invalid_client', async () => {
  const c = await getCode(cfg.jwt, { redirectUri: cb('svc-jwt') });
  assertInvalidClient(await jwtGrant(c, await assertion({ aud: 'https://other.example/token' })), 'wrong aud');
});

test('private_key_jwt with aud as an array is invalid_client, even holding only the issuer (audience injection)', async () => {
  for (const aud of [[hub.issuer], [`${hub.issuer}/token`], [hub.issuer, 'https://other.example/token']]) {
    const c = await getCode(cfg.jwt, { redirectUri: cb('svc-jwt') });
    assertInvalidClient(await jwtGrant(c, await assertion({ aud })), `aud ${JSON.stringify(aud)}`);
    // the refusal did not burn the code: a proper assertion still redeems it
    const r = await jwtGrant(c, await assertion());
    assert.equal(r.status, 200, r.text);
  }
});

test('private_key_jwt expired is invalid_client', async () => {
  const now = Math.floor(Date.now() / 1000);
  const c = await getCode(cfg.jwt, { redirectUri: cb('svc-jwt') });
  assertInvalidClient(await jwtGrant(c, await assertion({ iat: now - 900, exp: now - 600 })), 'expired');
});

test('private_key_jwt signed by another key (same kid) is invalid_client', async () => {
  const c = await getCode(cfg.jwt, { redirectUri: cb('svc-jwt') });
  assertInvalidClient(await jwtGrant(c, await assertion({ signer: otherKey.privateKey })), 'other key');
});

test('private_key_jwt with iss/sub of another client, or alg none, is invalid_client', async () => {
  const c = await getCode(cfg.jwt, { redirectUri: cb('svc-jwt') });
  assertInvalidClient(await jwtGrant(c, await assertion({ iss: 'svc-post', sub: 'svc-post' })), 'iss/sub mismatch');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = new jose.UnsecuredJWT({ jti: randomUUID() }).setIssuer('svc-jwt').setSubject('svc-jwt')
    .setAudience(hub.issuer).setIssuedAt(now).setExpirationTime(now + 60).encode();
  assertInvalidClient(await jwtGrant(c, unsigned), 'alg none');
});

test('private_key_jwt client using a secret instead is invalid_client', async () => {
  const c = await getCode(cfg.jwt, { redirectUri: cb('svc-jwt') });
  const r = await tokenRequest(hub, {
    grant_type: 'authorization_code', code: c.code, redirect_uri: c.req.redirectUri, code_verifier: c.req.verifier,
    client_id: 'svc-jwt', client_secret: 'svc-jwt-secret',
  });
  assertInvalidClient(r, 'secret for a private_key_jwt client');
});

test('client_secret_post succeeds through openid-client', async () => {
  const { tokens } = await loginAndRedeem(cfg.post, { redirectUri: cb('svc-post') });
  await verifyIdToken(hub, tokens.id_token, 'svc-post');
});

test('client_secret_post with a wrong secret is 401 invalid_client', async () => {
  const c = await getCode(cfg.post, { redirectUri: cb('svc-post') });
  const r = await tokenRequest(hub, {
    grant_type: 'authorization_code', code: c.code, redirect_uri: c.req.redirectUri, code_verifier: c.req.verifier,
    client_id: 'svc-post', client_secret: 'not-the-secret',
  });
  assertInvalidClient(r, 'wrong secret');
  assert.equal(r.status, 401);
  assert.match(r.headers.get('content-type') || '', /application\/json/);
});

test('an unknown client is invalid_client (post and basic)', async () => {
  const c = await getCode(cfg.post, { redirectUri: cb('svc-post') });
  const params = { grant_type: 'authorization_code', code: c.code, redirect_uri: c.req.redirectUri, code_verifier: c.req.verifier };
  assertInvalidClient(await tokenRequest(hub, { ...params, client_id: 'nobody', client_secret: 'x' }), 'unknown client (post)');
  const rb = await tokenRequest(hub, params, { basic: ['nobody', 'x'] });
  assertInvalidClient(rb, 'unknown client (basic)');
  assert.equal(rb.status, 401);
  assert.match(rb.headers.get('www-authenticate') || '', /^Basic/i, 'WWW-Authenticate: Basic');
});

test('client_secret_basic with a wrong secret is 401 invalid_client with WWW-Authenticate', async () => {
  const c = await getCode(cfg.basic, { redirectUri: cb('svc-basic') });
  const r = await tokenRequest(hub, {
    grant_type: 'authorization_code', code: c.code, redirect_uri: c.req.redirectUri, code_verifier: c.req.verifier,
  }, { basic: ['svc-basic', 'wrong'] });
  assertInvalidClient(r, 'wrong basic secret');
  assert.equal(r.status, 401);
  assert.match(r.headers.get('www-authenticate') || '', /^Basic/i);
});

test('a client registered for basic using post is invalid_client, and vice versa', async () => {
  const c = await getCode(cfg.basic, { redirectUri: cb('svc-basic') });
  const r = await tokenRequest(hub, {
    grant_type: 'authorization_code', code: c.code, redirect_uri: c.req.redirectUri, code_verifier: c.req.verifier,
    client_id: 'svc-basic', client_secret: 'svc-basic-secret',
  });
  assertInvalidClient(r, 'basic client using post');
  const c2 = await getCode(cfg.post, { redirectUri: cb('svc-post') });
  const r2 = await tokenRequest(hub, {
    grant_type: 'authorization_code', code: c2.code, redirect_uri: c2.req.redirectUri, code_verifier: c2.req.verifier,
  }, { basic: ['svc-post', 'svc-post-secret'] });
  assertInvalidClient(r2, 'post client using basic');
});

test('no client authentication at all is invalid_client', async () => {
  const c = await getCode(cfg.basic, { redirectUri: cb('svc-basic') });
  const r = await tokenRequest(hub, {
    grant_type: 'authorization_code', code: c.code, redirect_uri: c.req.redirectUri, code_verifier: c.req.verifier, client_id: 'svc-basic',
  });
  assertInvalidClient(r, 'no authentication');
});
