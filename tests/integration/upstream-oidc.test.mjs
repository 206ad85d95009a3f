// The upstream OpenID Connect adapter against a real OpenID Provider (oidc-provider 9): full logins
// from a service using openid-client, with client_secret_basic and private_key_jwt towards the IdP,
// acr and claims mapped; a level too low refused with the "choose another way" page; upstream
// access_denied; and the IdP rotating its signing keys in the middle of the test, without a restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, freePort, LOA_LOW, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { rpConfig, authRequest, client } from './lib/rp.mjs';
import { startUpstreamOp, upstreamLogin, isRefusalPage, signingKey } from './lib/upstream-op.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
const ACR_MAP = `urn:bank:loa1=1 urn:bank:loa2=${LOA_SUBSTANTIAL}`;
let hub;
let op;
const cfg = {};

before(async () => {
  const port = await freePort();
  const hubIssuer = `http://127.0.0.1:${port}`;
  op = await startUpstreamOp({
    clients: [
      {
        client_id: 'idhub', client_secret: 'upstream-secret-1', redirect_uris: [`${hubIssuer}/callback/bank`],
        token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'], response_types: ['code'],
      },
      {
        client_id: 'idhub-jwt', redirect_uris: [`${hubIssuer}/callback/bank-jwt`], token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256', jwks_uri: `${hubIssuer}/jwks`, grant_types: ['authorization_code'], response_types: ['code'],
      },
    ],
  });
  const common = { issuer: op.issuer, acr_map: ACR_MAP, timeout: 5, jwks_min_refetch_interval: 1 };
  hub = await startHub({
    port,
    idps: [
      { id: 'bank', adapter: 'oidc', display_name: 'Bank (OIDC)', max_loa: LOA_SUBSTANTIAL,
        settings: { ...common, client_id: 'idhub', client_secret: 'upstream-secret-1' } },
      { id: 'bank-jwt', adapter: 'oidc', display_name: 'Bank (private_key_jwt)', max_loa: LOA_SUBSTANTIAL,
        settings: { ...common, client_id: 'idhub-jwt', token_auth: 'private_key_jwt', private_key_jwt_alg: 'ES256' } },
    ],
    services: [
      service('svc', { redirect_uris: [cb('svc')], scopes: ['openid', 'profile', 'email'] }),
      service('svc-sub', { redirect_uris: [cb('svc-sub')], min_loa: LOA_SUBSTANTIAL }),
    ],
  });
  cfg.svc = await rpConfig(hub, 'svc');
  cfg['svc-sub'] = await rpConfig(hub, 'svc-sub');
});

after(async () => {
  await op?.stop();
  await hub?.stopAndCheck();
});

async function fullLogin(svc, idp, { scope = 'openid profile email', extra } = {}) {
  const req = await authRequest(cfg[svc], { redirectUri: cb(svc), scope, extra });
  const j = await upstreamLogin({ authorizeUrl: req.url.href, idp });
  assert.ok(j.location && j.params.code, `no code for the service: ${j.final.status} ${j.final.location || ''}\n${(j.final.text || '').slice(0, 800)}\n${hub.logs().slice(-2000)}`);
  const tokens = await client.authorizationCodeGrant(cfg[svc], new URL(j.location), {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true,
  });
  return { j, claims: tokens.claims() };
}

test('full login through the upstream OP (client_secret_basic): acr and claims mapped, pairwise sub', async () => {
  op.nextLogin = { account: 'alice', acr: 'urn:bank:loa2' };
  const { claims, j } = await fullLogin('svc', 'bank');
  assert.equal(claims.iss, hub.issuer);
  assert.equal(claims.acr, LOA_SUBSTANTIAL);
  assert.equal(claims.given_name, 'Alice');
  assert.equal(claims.family_name, 'Upstream');
  assert.equal(claims.email, 'alice@bank.example');
  assert.equal(claims.email_verified, true);
  assert.notEqual(claims.sub, 'alice', 'the upstream subject never reaches the service');
  // the authorization request carried PKCE S256, state, nonce and the mapped acr_values
  const upstreamAuth = j.responses.map((r) => r.url).find((u) => u.startsWith(op.issuer + '/auth?'));
  const q = new URL(upstreamAuth).searchParams;
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.ok(q.get('code_challenge') && q.get('state') && q.get('nonce'));
  assert.equal(q.get('acr_values'), 'urn:bank:loa1 urn:bank:loa2');
  // a second login of the same person gives the same pairwise sub
  const again = await fullLogin('svc', 'bank');
  assert.equal(again.claims.sub, claims.sub);
});

test('full login with private_key_jwt towards the IdP (signed by the hub key store)', async () => {
  op.nextLogin = { account: 'bob', acr: 'urn:bank:loa1' };
  const { claims } = await fullLogin('svc', 'bank-jwt');
  assert.equal(claims.acr, LOA_LOW);
  assert.equal(claims.given_name, 'Bob');
});

test('metrics: the upstream IdP\'s calls, and the age of the discovery/JWKS it fetched', async () => {
  const text = await (await fetch(hub.metricsUrl)).text();
  const age = /^idhub_idp_document_age_seconds\{idp="bank"\} (\d+)$/m.exec(text);
  assert.ok(age, `a document age for bank:\n${text.split('\n').filter((l) => l.includes('idp_')).join('\n')}`);
  assert.ok(Number(age[1]) < 600, 'fetched during this test');
  const calls = /^idhub_idp_calls_total\{idp="bank"\} (\d+)$/m.exec(text);
  assert.ok(calls && Number(calls[1]) >= 4, 'start and finish of the logins so far');
  assert.match(text, /^idhub_idp_call_duration_seconds_count\{idp="bank"\} [1-9]/m);
});

test('acr_values for a substantial journey asks only loa2; an upstream loa1 login is refused with the choose-another-way page', async () => {
  op.nextLogin = { account: 'bob', acr: 'urn:bank:loa1' };
  const req = await authRequest(cfg['svc-sub'], { redirectUri: cb('svc-sub') });
  const j = await upstreamLogin({ authorizeUrl: req.url.href, idp: 'bank' });
  const upstreamAuth = j.responses.map((r) => r.url).find((u) => u.startsWith(op.issuer + '/auth?'));
  assert.equal(new URL(upstreamAuth).searchParams.get('acr_values'), 'urn:bank:loa2');
  assert.equal(j.location, null, 'no code reaches the service');
  assert.equal(j.final.status, 403);
  assert.ok(isRefusalPage(j.final));
  assert.match(j.final.text, /\/login\/[^"]+"/, 'offers another IdP');
  assert.match(j.final.text, /\/cancel"/, 'offers to return to the service');
  // and the service, when the citizen gives up, gets a clear error
// a POST form (cancelling changes state), with the journey's csrf
  const cancel = j.final.text.match(/action="([^"]*\/cancel)"[^>]*><input type="hidden" name="csrf" value="([^"]+)"/);
  assert.ok(cancel, 'a cancel form');
  const r = await j.browser.post(new URL(cancel[1], hub.issuer).href, { csrf: cancel[2] }, { initiator: j.final.url });
  assert.equal(r.status, 303);
  assert.equal(new URL(r.location).searchParams.get('error'), 'access_denied');
  // with substantial upstream the same service gets its code
  op.nextLogin = { account: 'alice', acr: 'urn:bank:loa2' };
  const ok = await fullLogin('svc-sub', 'bank', { scope: 'openid profile' });
  assert.equal(ok.claims.acr, LOA_SUBSTANTIAL);
});

test('upstream access_denied: a clear page, no code', async () => {
  op.nextLogin = { error: 'access_denied' };
  const req = await authRequest(cfg.svc, { redirectUri: cb('svc') });
  const j = await upstreamLogin({ authorizeUrl: req.url.href, idp: 'bank' });
  assert.equal(j.location, null);
  assert.ok(isRefusalPage(j.final), `${j.final.status}`);
  assert.match(j.final.text, /did not finish proving your identity/);
  assert.match(hub.logs(), /bank refused: the IdP answered error=access_denied/);
  op.nextLogin = { account: 'alice', acr: 'urn:bank:loa2' };
});

test('upstream key rotation in the middle: logins keep working without a restart', async () => {
  op.nextLogin = { account: 'alice', acr: 'urn:bank:loa2' };
  const before = await fullLogin('svc', 'bank');
  const hits = op.jwksHits;
  // the IdP now signs with a new key the hub has never seen (the old one is gone from its JWKS)
  await op.rotate([await signingKey('op-key-2', 'RS256')]);
  await new Promise((r) => setTimeout(r, 1100)); // past jwks_min_refetch_interval (1 s)
  const after1 = await fullLogin('svc', 'bank');
  assert.equal(after1.claims.sub, before.claims.sub);
  assert.ok(op.jwksHits > hits, 'the hub fetched the new JWKS on the unknown kid');
  const after2 = await fullLogin('svc', 'bank-jwt');
  assert.equal(after2.claims.acr, LOA_SUBSTANTIAL);
  assert.equal(hub.running, true);
});

test('a bad adapter setting stops the daemon with FILE:LINE and the setting named', async () => {
  await assert.rejects(startHub({
    idps: [{ id: 'bad', adapter: 'oidc', display_name: 'Bad', max_loa: LOA_LOW,
      settings: { issuer: op.issuer, client_id: 'x', client_secret: 's', allowed_algs: 'RS256 HS256' } }],
  }), (e) => {
    assert.match(e.message, /idhub\.conf:\d+: idp 'bad': allowed_algs: only RS256 .*never none, never HMAC/);
    assert.doesNotMatch(e.message, /Sanitizer|runtime error/);
    return true;
  });
});
