// Restart stability: the same state_dir after SIGTERM + start keeps pairwise subjects, signing keys
// and hub sessions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, sanitizerReports } from './lib/hub.mjs';
import { rpConfig, loginAndRedeem, authRequest, client, jose } from './lib/rp.mjs';
import { Browser } from './lib/browser.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
const services = [service('svc-a', { redirect_uris: [CB] }), service('svc-b', { redirect_uris: ['http://127.0.0.1:9/svc-b/cb'] })];

test('after stop + start on the same state_dir, alice\'s sub for svc-a is unchanged', async (t) => {
  const hub1 = await startHub({ services, keepDir: true });
  let hub2;
  t.after(async () => { try { await hub2?.stopAndCheck(); } finally { await hub1.stop(); await hub1.removeDir(); } });
  const before = await loginAndRedeem(await rpConfig(hub1, 'svc-a'), { redirectUri: CB });
  const jwks1 = await (await fetch(`${hub1.issuer}/jwks`)).json();
  const exit = await hub1.stop();
  assert.equal(exit.code, 0, `SIGTERM exits 0 (got ${exit.code} ${exit.signal || ''})\n${hub1.logs().slice(-3000)}`);
  assert.deepEqual(sanitizerReports(hub1.logs()), [], 'no sanitizer reports from the first run');

  hub2 = await startHub({ services, dir: hub1.dir, port: hub1.port });
  const after = await loginAndRedeem(await rpConfig(hub2, 'svc-a'), { redirectUri: CB });
  assert.equal(after.claims.sub, before.claims.sub, 'the same pairwise sub after a restart');

  // the signing keys live in the state directory: the token signed before the restart still verifies
  const jwks2 = await (await fetch(`${hub2.issuer}/jwks`)).json();
  const { kid } = jose.decodeProtectedHeader(before.tokens.id_token);
  assert.ok(jwks2.keys.some((k) => k.kid === kid), 'the pre-restart signing key is still published');
  await jose.jwtVerify(before.tokens.id_token, jose.createLocalJWKSet(jwks2), { issuer: hub2.issuer, audience: 'svc-a', currentDate: new Date() });
  assert.ok(jwks1.keys.every((k1) => jwks2.keys.some((k2) => k2.kid === k1.kid)), 'no key vanished across the restart');
});

test('the hub session survives a clean restart: single sign-on afterwards, prompt=none gets a code', async (t) => {
  const hub1 = await startHub({ services, keepDir: true });
  let hub2;
  t.after(async () => { try { await hub2?.stopAndCheck(); } finally { await hub1.stop(); await hub1.removeDir(); } });
  const ua = new Browser();
  const before = await loginAndRedeem(await rpConfig(hub1, 'svc-a'), { redirectUri: CB, browser: ua });
  assert.equal((await hub1.stop()).code, 0);
  hub2 = await startHub({ services, dir: hub1.dir, port: hub1.port });
  const conf = await rpConfig(hub2, 'svc-a');
  const req = await authRequest(conf, { redirectUri: CB, extra: { prompt: 'none' } });
  const res = await ua.get(req.url.href);
  const code = new URL(res.location).searchParams.get('code');
  assert.ok(code, `a code from the session kept across the restart: ${res.location}`);
  const tokens = await client.authorizationCodeGrant(conf, new URL(res.location), {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce,
  });
  assert.equal(tokens.claims().sub, before.claims.sub);
  assert.equal(tokens.claims().sid, before.claims.sid);
});
