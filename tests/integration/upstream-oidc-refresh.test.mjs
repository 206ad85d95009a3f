// The upstream OIDC adapter's discovery and JWKS when the IdP is briefly down or changes: a hub that
// never had discovery shows a clear page (no hang) and recovers; after a good fetch, a failed JWKS
// fetch keeps the known keys, and unknown kids try the down IdP at most once per
// jwks_min_refetch_interval; the last-known-good discovery and JWKS kept in the hub's store carry a
// restarted hub through an outage, and the hub asks the IdP again soon and follows a moved
// token_endpoint. The periodic refresh itself (discovery_refresh, at least 60 s) is proved by a slow
// test run only with IDHUB_SLOW_TESTS=1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { rpConfig, authRequest, client } from './lib/rp.mjs';
import { startFakeOp, upstreamLogin, isRefusalPage, signingKey } from './lib/upstream-op.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
const services = [service('svc', { redirect_uris: [cb('svc')] })];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// The adapter's clock is the hub's, in whole seconds: waiting s + 0.1 s of real time always moves it
// on by at least s, so a retry held back for s seconds is then due.
const pastInterval = (s) => sleep(s * 1000 + 100);
// Just after a second begins: an attempt made now holds back the next one for the whole interval
// (less 50 ms), not for as little as interval - 1 s.
const secondStart = () => sleep((1050 - (Date.now() % 1000)) % 1000);

const idps = (op, settings = {}) => [{
  id: 'fake', adapter: 'oidc', display_name: 'Fake OP', max_loa: LOA_SUBSTANTIAL,
  settings: {
    issuer: op.issuer, client_id: 'idhub-fake', client_secret: 'fake-secret', acr_map: 'urn:fake:high=2',
    timeout: 2, clock_leeway: 5, ...settings,
  },
}];

let op;
let hub;
let hub2;
let cfg;

before(async () => {
  op = await startFakeOp({ clientId: 'idhub-fake', clientSecret: 'fake-secret' });
  op.discoveryFail = 500; // the IdP is down when the hub first starts
  hub = await startHub({ idps: idps(op, { jwks_min_refetch_interval: 2 }), services, keepDir: true });
  cfg = await rpConfig(hub, 'svc');
});

after(async () => {
  try {
    await hub2?.stopAndCheck();
  } finally {
    try {
      if (hub && !hub.stopped) await hub.stopAndCheck();
    } finally {
      await op?.stop();
      await hub?.removeDir();
    }
  }
});

/** One journey through the fake OP (idToken: how its token endpoint signs, default honestly). */
async function journey(h, config, idToken = null) {
  op.idToken = idToken;
  const before = h.logs().length;
  const t0 = Date.now();
  try {
    const req = await authRequest(config, { redirectUri: cb('svc') });
    const j = await upstreamLogin({ authorizeUrl: req.url.href, idp: 'fake' });
    return { req, j, ms: Date.now() - t0, log: () => h.logs().slice(before) };
  } finally {
    op.idToken = null;
  }
}

async function assertLogsIn(h, config, idToken, what) {
  const r = await journey(h, config, idToken);
  assert.ok(r.j.params?.code, `${what}: no code for the service: ${r.j.final.status} ${r.j.final.location || ''}\n${(r.j.final.text || '').slice(0, 300)}\n${r.log()}`);
  return r;
}

async function assertRefused(h, config, idToken, why, what) {
  const r = await journey(h, config, idToken);
  assert.equal(r.j.location, null, `${what}: a code reached the service`);
  assert.ok(isRefusalPage(r.j.final), `${what}: not a refusal page: ${r.j.final.status}\n${(r.j.final.text || '').slice(0, 300)}`);
  assert.match(r.log(), why, `${what}: refused for another reason:\n${r.log()}`);
  return r;
}

test('never a good discovery: a clear page at once, for a 500 and for a dropped connection; then it recovers', async () => {
  assert.match(hub.logs(), /oidc fake: discovery refused: HTTP status 500/);
  assert.match(hub.logs(), /oidc fake: discovery not available yet, will retry/);
  for (const [how, why] of [[500, /discovery refused: HTTP status 500/], ['drop', /discovery failed \(unreachable or timed out\)/]]) {
    op.discoveryFail = how;
    await pastInterval(2); // the retry of a failed discovery is held back jwks_min_refetch_interval
    await secondStart();
    const t0 = Date.now();
    const hits = op.discoveryHits;
    const { j, ms } = await assertRefused(hub, cfg, null, why, `discovery ${how}`);
    assert.equal(op.discoveryHits - hits, 1, 'the hub asked the IdP once for this login');
    assert.equal(j.final.status, 502);
    assert.match(j.final.text, /Fake OP is not available/);
    assert.ok(ms < 3000, `the refusal took ${ms} ms`);
    assert.equal(op.tokenHits, 0);
    // inside the interval, more logins do not ask the down IdP again
    for (let i = 0; i < 3; i++) await assertRefused(hub, cfg, null, /start failed: the IdP's discovery document is not available/, `burst ${i}`);
    assert.ok(Date.now() - t0 < 1900, `the logins took ${Date.now() - t0} ms, longer than the interval: the count below would not prove the limit`);
    assert.equal(op.discoveryHits - hits, 1, 'no discovery fetch inside the retry interval');
  }

  op.discoveryFail = null;
  await pastInterval(2);
  await assertLogsIn(hub, cfg, null, 'discovery back');
  assert.equal(op.tokenHitsByPath['/token'], 1);
});

test('the JWKS down after a good fetch: the known kid keeps working; unknown kids ask at most once per interval', async () => {
  const attacker = await signingKey('unknown-kid');
  for (const how of [500, 'drop']) {
    await pastInterval(2); // the last JWKS fetch is older than jwks_min_refetch_interval
    op.jwksFail = how;
    await secondStart();
    const hits = op.jwksHits;
    const t0 = Date.now();
    // an unknown kid makes the hub refetch the JWKS; the refetch fails, and so does the login
    const first = await assertRefused(hub, cfg, ({ claims, sign }) => sign(claims, { key: attacker }),
      how === 500 ? /JWKS refused: HTTP status 500/ : /JWKS fetch failed \(unreachable or timed out\)/, `unknown kid, JWKS ${how}`);
    assert.match(first.log(), /ID token refused: unknown signing key/);
    assert.equal(op.jwksHits - hits, 1, 'one JWKS fetch for the unknown kid');
    // more unknown kids inside the interval: no fetch at all
    for (let i = 0; i < 2; i++) {
      await assertRefused(hub, cfg, ({ claims, sign }) => sign(claims, { key: attacker }), /JWKS refetch rate-limited/, `unknown kid ${i}`);
    }
    // the IdP's own key, still down: the failed fetch did not drop the keys we had
    await assertLogsIn(hub, cfg, null, `known kid, JWKS ${how}`);
    assert.ok(Date.now() - t0 < 1900, `the logins took ${Date.now() - t0} ms, longer than the 2 s interval: the count below would not prove the limit`);
    assert.equal(op.jwksHits - hits, 1, `JWKS fetched ${op.jwksHits - hits} times while down`);
  }
  // back up with a new key: the next unknown kid after the interval fetches it
  const rolled = await signingKey('fake-key-2');
  op.published.push(rolled);
  op.jwksFail = null;
  await pastInterval(2);
  const hits = op.jwksHits;
  await assertLogsIn(hub, cfg, ({ claims, sign }) => sign(claims, { key: rolled }), 'the new key after the outage');
  assert.equal(op.jwksHits - hits, 1);
  await assertLogsIn(hub, cfg, null, 'the old key still');
});

test('an IdP that reused a kid for a new key: the signature failure refetches the JWKS once, then it logs in; more failures wait for the interval', async () => {
  const i = op.published.findIndex((k) => k.kid === 'fake-key-2');
  assert.ok(i >= 0);
  const reused = await signingKey('fake-key-2'); // new key material under the known kid
  op.published[i] = reused;
  await pastInterval(2);
  await secondStart();
  const hits = op.jwksHits;
  const t0 = Date.now();
  await assertLogsIn(hub, cfg, ({ claims, sign }) => sign(claims, { key: reused }), 'the reused kid');
  assert.equal(op.jwksHits - hits, 1, 'one JWKS fetch on the signature failure');
  // a forged signature under a known kid inside the interval: refused without another fetch
  const attacker = await signingKey('fake-key-2');
  await assertRefused(hub, cfg, ({ claims, sign }) => sign(claims, { key: attacker }), /signature does not verify \(JWKS refetch rate-limited\)/, 'forged under a known kid');
  assert.ok(Date.now() - t0 < 1900, `took ${Date.now() - t0} ms, longer than the 2 s interval: the count would not prove the limit`);
  assert.equal(op.jwksHits - hits, 1, 'no second fetch inside the interval');
});

test('after a restart with the IdP\'s discovery and JWKS down: the stored copies log in; the hub asks again and follows a move', async () => {
  await hub.stopAndCheck(); // the directory stays (keepDir): its store holds the stored copies
  op.discoveryFail = 500;
  op.jwksFail = 'drop';
  const d0 = op.discoveryHits;
  const k0 = op.jwksHits;
  hub2 = await startHub({ idps: idps(op, { jwks_min_refetch_interval: 1 }), services, dir: hub.dir, port: hub.port });
  assert.match(hub2.logs(), /oidc fake: using the last-known-good discovery/);
  assert.doesNotMatch(hub2.logs(), /not available yet/);
  assert.ok(op.discoveryHits > d0 && op.jwksHits > k0, 'the restarted hub asked the IdP first');
  const cfg2 = await rpConfig(hub2, 'svc');

  const tokenHits = op.tokenHitsByPath['/token'];
  const { req, j } = await assertLogsIn(hub2, cfg2, null, 'from the stored copies');
  assert.equal(op.tokenHitsByPath['/token'], tokenHits + 1);
  const tokens = await client.authorizationCodeGrant(cfg2, new URL(j.location), {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true,
  });
  assert.equal(tokens.claims().acr, LOA_SUBSTANTIAL);
  assert.equal(tokens.claims().given_name, 'Fay');
  // the key fetched before the restart, from the stored JWKS
  const rolled = op.published.find((k) => k.kid === 'fake-key-2');
  await assertLogsIn(hub2, cfg2, ({ claims, sign }) => sign(claims, { key: rolled }), 'the stored rolled key');

  // a stored copy is not fresh: the hub asks the IdP again after the retry interval, and while it is
  // still down the copies in memory carry on
  await pastInterval(1);
  const d1 = op.discoveryHits;
  const k1 = op.jwksHits;
  await assertLogsIn(hub2, cfg2, null, 'IdP still down');
  assert.ok(op.discoveryHits > d1, 'discovery asked again');
  assert.ok(op.jwksHits > k1, 'JWKS asked again');

  // the IdP back, its token endpoint moved: the next login after the interval uses the new one
  op.discoveryFail = null;
  op.jwksFail = null;
  op.tokenPath = '/token-v2';
  try {
    await pastInterval(1);
    await assertLogsIn(hub2, cfg2, null, 'the moved token endpoint');
    assert.equal(op.tokenHitsByPath['/token-v2'], 1);
    assert.equal(op.tokenHitsByPath['/token'], tokenHits + 3);
  } finally {
    op.tokenPath = '/token';
  }
});

test('discovery_refresh: after the interval a failed refresh keeps the known copy, and a later good one is used (slow)', {
  skip: !process.env.IDHUB_SLOW_TESTS && 'needs over 60 s (discovery_refresh is at least 60): set IDHUB_SLOW_TESTS=1',
}, async (t) => {
  const REFRESH = 60;
  const op3 = await startFakeOp({ clientId: 'idhub-fake', clientSecret: 'fake-secret' });
  let hub3;
  t.after(async () => { try { await hub3?.stopAndCheck(); } finally { await op3.stop(); } });
  const prev = op;
  op = op3; // journey() sets the ID token of the current fake OP
  t.after(() => { op = prev; });
  hub3 = await startHub({ idps: idps(op3, { discovery_refresh: REFRESH, jwks_min_refetch_interval: 1 }), services });
  const started = Date.now();
  const cfg3 = await rpConfig(hub3, 'svc');
  await assertLogsIn(hub3, cfg3, null, 'first');
  const d0 = op3.discoveryHits;
  const k0 = op3.jwksHits;
  op3.discoveryFail = 500;
  op3.jwksFail = 500;
  // before the interval: nothing is fetched
  await pastInterval(1);
  await assertLogsIn(hub3, cfg3, null, 'inside the interval');
  assert.equal(op3.discoveryHits, d0);
  assert.equal(op3.jwksHits, k0);
  // after it: the refresh fails, the last good copies carry on
  await sleep(Math.max(0, started + (REFRESH + 1) * 1000 + 100 - Date.now()));
  await assertLogsIn(hub3, cfg3, null, 'refresh failed');
  assert.ok(op3.discoveryHits > d0, 'discovery refreshed after the interval');
  assert.ok(op3.jwksHits > k0, 'JWKS refreshed after the interval');
  // back with a moved token endpoint: the next retry reads it
  op3.discoveryFail = null;
  op3.jwksFail = null;
  op3.tokenPath = '/token-v3';
  await pastInterval(1);
  await assertLogsIn(hub3, cfg3, null, 'refresh good');
  assert.equal(op3.tokenHitsByPath['/token-v3'], 1);
});
