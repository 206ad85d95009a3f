// Per-service ID token signing algorithms: ES256, RS256, PS256, EdDSA (Ed25519). openid-client (with
// non-repudiation checks) and jose both verify the token; at_hash uses the alg's hash (EdDSA: SHA-512).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service } from './lib/hub.mjs';
import { rpConfig, loginAndRedeem, verifyIdToken, atHash, jose } from './lib/rp.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
const ALGS = { 'svc-es': 'ES256', 'svc-rs': 'RS256', 'svc-ps': 'PS256', 'svc-ed': 'EdDSA' };
let hub;

before(async () => {
  hub = await startHub({
    services: Object.entries(ALGS).map(([id, alg]) => service(id, { id_token_alg: alg, redirect_uris: [cb(id)] })),
  });
});
after(async () => { await hub?.stopAndCheck(); });

test('discovery lists every ID token signing algorithm configured', async () => {
  const d = await (await fetch(`${hub.issuer}/.well-known/openid-configuration`)).json();
  for (const alg of Object.values(ALGS)) assert.ok(d.id_token_signing_alg_values_supported?.includes(alg), `${alg} in ${d.id_token_signing_alg_values_supported}`);
});

test('the JWKS publishes an EC P-256, an RSA and an Ed25519 public key, without private parts', async () => {
  const jwks = await (await fetch(`${hub.issuer}/jwks`)).json();
  const has = (p) => jwks.keys.some(p);
  assert.ok(has((k) => k.kty === 'EC' && k.crv === 'P-256'), 'EC P-256');
  assert.ok(has((k) => k.kty === 'RSA'), 'RSA');
  assert.ok(has((k) => k.kty === 'OKP' && k.crv === 'Ed25519'), 'Ed25519');
  for (const k of jwks.keys) {
    for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(k[priv], undefined, `private member ${priv} in JWKS`);
    assert.ok(k.kid, 'every key has a kid');
  }
  const kids = jwks.keys.map((k) => k.kid);
  assert.equal(new Set(kids).size, kids.length, 'kids are unique');
});

for (const [id, alg] of Object.entries(ALGS)) {
  test(`${alg}: openid-client and jose verify the ID token, at_hash matches`, async () => {
    const cfg = await rpConfig(hub, id, { metadata: { id_token_signed_response_alg: alg } });
    const { tokens } = await loginAndRedeem(cfg, { redirectUri: cb(id) });
    const { payload, protectedHeader } = await verifyIdToken(hub, tokens.id_token, id, [alg]);
    assert.equal(protectedHeader.alg, alg);
    const jwks = await (await fetch(`${hub.issuer}/jwks`)).json();
    const k = jwks.keys.find((x) => x.kid === protectedHeader.kid);
    assert.ok(k, 'the signing key is published');
    if (k.alg) assert.ok(k.alg === alg || (alg === 'EdDSA' && k.alg === 'Ed25519'), `key alg ${k.alg}`);
    if (alg === 'RS256' || alg === 'PS256') assert.ok(Buffer.from(k.n, 'base64url').length >= 256, 'RSA key of at least 2048 bits');
    assert.equal(payload.at_hash, atHash(tokens.access_token, alg, k.crv), 'at_hash');
    // the access token verifies too
    await jose.jwtVerify(tokens.access_token, jose.createLocalJWKSet(jwks), { issuer: hub.issuer });
  });
}
