// Full logins as the sandbox personas: ID token contents and signature, pairwise subjects per sector,
// userinfo, and the RFC 9068 access token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { Browser } from './lib/browser.mjs';
import { rpConfig, loginAndRedeem, verifyIdToken, atHash, client, jose, remoteJwks } from './lib/rp.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
let hub;
const cfg = {};

before(async () => {
  hub = await startHub({
    services: [
      service('svc-a', { sector: 'sector-a', redirect_uris: [cb('svc-a')] }),
      service('svc-b', { sector: 'sector-b', redirect_uris: [cb('svc-b')] }),
      // the same sector as svc-a: the same pairwise subject
      service('svc-c', { sector: 'sector-a', redirect_uris: [cb('svc-c')] }),
    ],
  });
  for (const id of ['svc-a', 'svc-b', 'svc-c']) cfg[id] = await rpConfig(hub, id);
});
after(async () => { await hub?.stopAndCheck(); });

const subs = {};

test('alice logs in to svc-a: the ID token verifies and carries the required claims', async () => {
  const { tokens, claims, req, journey } = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a') });
  assert.equal(journey.params.iss, hub.issuer, 'authorization response iss');
  assert.equal(journey.params.state, req.state);
  assert.match(tokens.token_type, /^bearer$/i);
  assert.ok(tokens.access_token);
  assert.ok(tokens.id_token);

  // independent verification with jose against the published JWKS
  const { payload, protectedHeader } = await verifyIdToken(hub, tokens.id_token, 'svc-a');
  for (const c of ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'at_hash']) {
    assert.ok(payload[c] !== undefined, `ID token claim ${c} missing: ${JSON.stringify(payload)}`);
  }
  assert.equal(payload.iss, hub.issuer);
  assert.equal(payload.nonce, req.nonce);
  assert.ok(payload.aud === 'svc-a' || (Array.isArray(payload.aud) && payload.aud.includes('svc-a')));
  if (Array.isArray(payload.aud) && payload.aud.length > 1) assert.equal(payload.azp, 'svc-a');
  assert.equal(payload.acr, LOA_SUBSTANTIAL);
  assert.equal(typeof payload.sub, 'string');
  assert.ok(payload.sub.length > 0 && payload.sub.length <= 255);
  const now = Math.floor(Date.now() / 1000);
  assert.ok(payload.exp > now, 'exp in the future');
  assert.ok(Math.abs(payload.iat - now) < 60, 'iat is now');
  assert.ok(payload.auth_time <= payload.iat + 1 && payload.auth_time > now - 120, 'auth_time is the login');
  assert.equal(payload.at_hash, atHash(tokens.access_token, protectedHeader.alg, protectedHeader.crv));
  assert.ok(protectedHeader.kid, 'ID token header has a kid');
  assert.notEqual(protectedHeader.alg, 'none');
  const disc = cfg['svc-a'].serverMetadata();
  if (disc?.id_token_signing_alg_values_supported) assert.ok(disc.id_token_signing_alg_values_supported.includes(protectedHeader.alg));
  assert.deepEqual(claims.sub, payload.sub);
  subs.a1 = payload.sub;

  // userinfo (openid-client checks sub against the ID token's)
  const ui = await client.fetchUserInfo(cfg['svc-a'], tokens.access_token, payload.sub);
  assert.equal(ui.sub, payload.sub);
});

test('the access token is an RFC 9068 JWT (typ at+jwt) living 300 s', async () => {
  const { tokens } = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a') });
  const header = jose.decodeProtectedHeader(tokens.access_token);
  assert.ok(['at+jwt', 'application/at+jwt'].includes(String(header.typ).toLowerCase()), `typ is ${header.typ}`);
  const { payload } = await jose.jwtVerify(tokens.access_token, remoteJwks(hub), { issuer: hub.issuer, typ: 'at+jwt' });
  assert.equal(payload.exp - payload.iat, 300);
  assert.equal(payload.client_id, 'svc-a');
  assert.ok(payload.sub, 'sub');
  assert.ok(payload.jti, 'jti');
  assert.ok(payload.aud !== undefined, 'aud (RFC 9068 §2.2)');
  if (tokens.expires_in !== undefined) assert.ok(tokens.expires_in > 290 && tokens.expires_in <= 300, `expires_in ${tokens.expires_in}`);
});

test('pairwise sub: differs between sectors, stable on a second login, shared within a sector', async () => {
  const a1 = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a') });
  const b1 = await loginAndRedeem(cfg['svc-b'], { redirectUri: cb('svc-b') });
  assert.notEqual(a1.claims.sub, b1.claims.sub, 'svc-a and svc-b are different sectors');

  // a second login, in another browser, gives each service the same sub again
  const a2 = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a'), browser: new Browser() });
  const b2 = await loginAndRedeem(cfg['svc-b'], { redirectUri: cb('svc-b'), browser: new Browser() });
  assert.equal(a2.claims.sub, a1.claims.sub);
  assert.equal(b2.claims.sub, b1.claims.sub);
  if (subs.a1) assert.equal(a1.claims.sub, subs.a1);

  // userinfo answers the same sub
  const uiA = await client.fetchUserInfo(cfg['svc-a'], a2.tokens.access_token, client.skipSubjectCheck);
  const uiB = await client.fetchUserInfo(cfg['svc-b'], b2.tokens.access_token, client.skipSubjectCheck);
  assert.equal(uiA.sub, a1.claims.sub);
  assert.equal(uiB.sub, b1.claims.sub);

  // svc-c shares svc-a's sector
  const c1 = await loginAndRedeem(cfg['svc-c'], { redirectUri: cb('svc-c') });
  assert.equal(c1.claims.sub, a1.claims.sub, 'same sector, same sub');
  assert.deepEqual(c1.claims.aud === 'svc-c' || c1.claims.aud.includes('svc-c'), true);
});

test('another sandbox user gets another sub; the same user the same one', async () => {
  const alice = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a') });
  const carol1 = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a'), persona: 'other', username: 'carol', loa: LOA_SUBSTANTIAL });
  const dave = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a'), persona: 'other', username: 'dave', loa: LOA_SUBSTANTIAL });
  const carol2 = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a'), persona: 'other', username: 'carol', loa: LOA_SUBSTANTIAL });
  assert.notEqual(carol1.claims.sub, alice.claims.sub);
  assert.notEqual(carol1.claims.sub, dave.claims.sub);
  assert.equal(carol2.claims.sub, carol1.claims.sub);
  assert.equal(carol1.claims.acr, LOA_SUBSTANTIAL);
});

test('the ID token is bound to its nonce: a wrong expected nonce is rejected by the RP library', async () => {
  // sanity check of the harness: openid-client really compares the nonce
  const { authRequest } = await import('./lib/rp.mjs');
  const { login } = await import('./lib/browser.mjs');
  const req = await authRequest(cfg['svc-a'], { redirectUri: cb('svc-a') });
  const j = await login({ authorizeUrl: req.url.href });
  await assert.rejects(client.authorizationCodeGrant(cfg['svc-a'], new URL(j.location), {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: 'not-the-nonce', idTokenExpected: true,
  }));
});
