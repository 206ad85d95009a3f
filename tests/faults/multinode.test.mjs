// multinode.test.mjs — several hub nodes on one PostgreSQL database behind HAProxy (issue 10): two
// daemons on a private PostgreSQL 15 cluster, HAProxy round robin with no stickiness, driven by
// openid-client. Logins alternate nodes (each login's requests land on both); kill -9 one node
// mid-run and the other carries on with the same subs; restart PostgreSQL mid-run (an immediate
// stop: a crash) and logins recover without restarting the daemons; rotate keys while both run
// with zero failed ID-token verifications at a relying party that caches the JWKS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, sandboxIdp, freePort } from '../integration/lib/hub.mjs';
import { loginAndRedeem, jose } from '../integration/lib/rp.mjs';
import { ctlOk, listKeys, sleep, plainRpConfig } from '../integration/lib/ctl.mjs';
import { unavailable, startCluster, startHaproxy } from '../pg/cluster.mjs';
import { freshChoice, browserCookie } from './lib.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
const MAX_AGE = 2;
const why = await unavailable();
let pg, lb, lbPort, issuer, nodes = [], cfg, sub;

function nodeOpts(port, conninfo) {
  return {
    port,
    keepDir: true,
    services: [service('svc-a', { redirect_uris: [CB] })],
    idps: [sandboxIdp(lbPort)], // its pages are served through the balancer too
    hub: { issuer, store: 'postgresql', store_conninfo: conninfo, store_pool: 4, jwks_max_age: MAX_AGE, id_token_ttl: 60, access_token_ttl: 60 },
  };
}

before(async () => {
  if (why) return;
  pg = await startCluster();
  lbPort = await freePort();
  issuer = `http://127.0.0.1:${lbPort}`;
  const ports = [await freePort(), await freePort()];
  // one after the other: the first creates the schema, the secrets and the first signing key
  for (const p of ports) nodes.push(await startHub(nodeOpts(p, pg.conninfo)));
  lb = await startHaproxy(lbPort, ports);
  cfg = await plainRpConfig({ issuer }, 'svc-a');
});

after(async () => {
  for (const n of nodes) { try { await n.stopAndCheck(); } catch (e) { if (n.running !== false) throw e; } finally { await n.removeDir(); } }
  await lb?.stop();
  await pg?.stop();
});

/** One login through the balancer, retried (bounded) while the hub answers 503 after an outage. */
async function loginRetrying(tries = 1) {
  let last;
  for (let i = 0; i < tries; i++) {
    try { return await loginAndRedeem(cfg, { redirectUri: CB }); } catch (e) { last = e; await sleep(300); }
  }
  throw last;
}

test('requests alternate between the nodes, and logins that cross them keep one sub', { skip: why || false }, async () => {
  const seen = [];
  for (let i = 0; i < 4; i++) {
    const r = await fetch(`${issuer}/healthz`);
    await r.text();
    seen.push(r.headers.get('x-idhub-node'));
  }
  assert.deepEqual(new Set(seen), new Set(['node1', 'node2']), `round robin: ${seen}`);
  assert.notEqual(seen[0], seen[1]);
  const subs = new Set();
  for (let i = 0; i < 4; i++) subs.add((await loginRetrying()).claims.sub);
  assert.equal(subs.size, 1, `alice has one sub across the nodes: ${[...subs]}`);
  sub = [...subs][0];
});

test('kill -9 one node mid-run: the other carries on, subs unchanged', { skip: why || false }, async () => {
  const got = [];
  for (let i = 0; i < 6; i++) {
    if (i === 2) {
      process.kill(nodes[1].pid, 'SIGKILL');
      await sleep(50);
    }
    got.push((await loginAndRedeem(cfg, { redirectUri: CB })).claims.sub);
  }
  assert.deepEqual(new Set(got), new Set([sub]));
  // the killed node comes back on the same database, as a restarted machine would
  const port = nodes[1].port;
  await nodes[1].stop();
  await nodes[1].removeDir();
  nodes[1] = await startHub(nodeOpts(port, pg.conninfo));
  assert.equal((await loginRetrying(10)).claims.sub, sub);
});

test('PostgreSQL down: a 503 with temporarily_unavailable, then a crash restart and logins recover', { skip: why || false }, async () => {
  await pg.kill();
  try {
    const r = await freshChoice({ issuer }, 'svc-a', CB, browserCookie());
    assert.equal(r.status, 503, `a journey while the database is down: ${r.status} ${r.text.slice(0, 300)}`);
    const t = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('svc-a:svc-a-secret').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x'.repeat(43), redirect_uri: CB, code_verifier: 'v'.repeat(43) }),
    });
    const body = await t.json();
    assert.equal(t.status, 503, JSON.stringify(body));
    assert.equal(body.error, 'temporarily_unavailable');
  } finally {
    await pg.start();
  }
  assert.equal((await loginRetrying(20)).claims.sub, sub, 'logins recover without restarting the nodes');
  // a crash (immediate stop) empties the volatile table: journeys in flight are lost, logins recover
  await pg.crash();
  assert.equal((await loginRetrying(20)).claims.sub, sub);
  for (let i = 0; i < 3; i++) assert.equal((await loginAndRedeem(cfg, { redirectUri: CB })).claims.sub, sub);
  for (const n of nodes) assert.ok(n.running, `node on port ${n.port} still runs`);
});

test('a service registered or changed with idhubctl reaches both nodes within a second', { skip: why || false }, async () => {
  const cbOld = 'http://127.0.0.1:9/svc-r/old';
  const cbNew = 'http://127.0.0.1:9/svc-r/new';
  const add = await ctlOk(nodes[0], ['services', 'add', '--id', 'svc-r', '--name', 'Registered', '--redirect-uri', cbOld], { json: true });
  const rcfg = await plainRpConfig({ issuer }, 'svc-r', { secret: add.json.client_secret });
  // both nodes serve (and so cache) the service: the login's requests alternate between them
  await loginAndRedeem(rcfg, { redirectUri: cbOld });
  await ctlOk(nodes[1], ['services', 'update', 'svc-r', '--redirect-uri', cbNew]);
  const t0 = Date.now();
  let last = '';
  // each node must know the new redirect URI within a second: 4 authorize requests alternate nodes
  const accepted = async () => {
    for (let i = 0; i < 4; i++) {
      const q = new URLSearchParams({ response_type: 'code', client_id: 'svc-r', redirect_uri: cbNew, scope: 'openid', state: 's', nonce: 'n', code_challenge_method: 'S256', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' });
      const r = await fetch(`${issuer}/authorize?${q}`, { redirect: 'manual' });
      await r.arrayBuffer();
      if ((r.status !== 302 && r.status !== 303) || !/\/login\//.test(r.headers.get("location") || "")) { last = `${r.status} ${r.headers.get("location")}`; return false; }
    }
    return true;
  };
  let ok = false;
  while (!ok && Date.now() - t0 < 1000) { ok = await accepted(); if (!ok) await sleep(50); }
  assert.ok(ok, `the new redirect URI is accepted by both nodes within a second (last: ${last})`);
  assert.equal((await loginAndRedeem(rcfg, { redirectUri: cbNew })).claims.aud, 'svc-r');
});

/** A relying party's JWKS cache, kept for exactly Cache-Control max-age (never refetched early). */
class CachingRp {
  constructor() { this.cache = null; this.fetches = 0; }
  async jwks() {
    if (this.cache && Date.now() < this.cache.expires) return this.cache.set;
    const sent = Date.now();
    const r = await fetch(`${issuer}/jwks`);
    const body = await r.json();
    const m = /max-age=(\d+)/.exec(r.headers.get('cache-control') || '');
    this.fetches++;
    this.cache = { set: jose.createLocalJWKSet(body), expires: sent + Number(m?.[1] ?? 0) * 1000 };
    return this.cache.set;
  }
  async verify(idToken) {
    return jose.jwtVerify(idToken, await this.jwks(), { issuer, audience: 'svc-a' });
  }
}

test('key rotation while both nodes run: zero failed verifications at a caching RP', { skip: why || false }, async () => {
  const rp = new CachingRp();
  const results = [];
  let stop = false;
  let loopError = null;
  const started = Date.now();
  const loop = (async () => {
    while (!stop && results.length < 150 && Date.now() - started < 30000) {
      let tokens;
      try { ({ tokens } = await loginAndRedeem(cfg, { redirectUri: CB })); } catch (e) { loopError = e; break; }
      const { kid, alg } = jose.decodeProtectedHeader(tokens.id_token);
      try { await rp.verify(tokens.id_token); results.push({ kid, alg, ok: true }); } catch (e) { results.push({ kid, alg, ok: false, error: e.message }); }
      await sleep(50);
    }
  })();
  let newKid;
  try {
    while (!loopError && results.length < 2 && Date.now() - started < 10000) await sleep(50);
    const { alg } = results[0]; // the service's ID-token algorithm
    const old = (await listKeys(nodes[0])).find((k) => k.state === 'current' && k.alg === alg);
    await ctlOk(nodes[0], ['keys', 'rotate']); // publishes a next key, on every node
    newKid = (await listKeys(nodes[0])).find((k) => k.state === 'next' && k.alg === alg)?.kid;
    assert.ok(newKid, 'a next key');
    await sleep(MAX_AGE * 1000 + 200);
    let promoted = false;
    for (let i = 0; i < 20 && !promoted; i++) {
      await ctlOk(nodes[1], ['keys', 'rotate']);
      promoted = (await listKeys(nodes[1])).find((k) => k.kid === newKid)?.state === 'current';
      if (!promoted) await sleep(250);
    }
    assert.ok(promoted, 'the next key was promoted');
    assert.notEqual(old.kid, newKid);
    const at = Date.now();
    while (!loopError && Date.now() - at < 8000 && results.filter((x) => x.kid === newKid).length < 4) await sleep(100);
  } finally {
    stop = true;
    await loop;
  }
  assert.equal(loopError, null, `a login failed during the rotation: ${loopError?.stack}`);
  assert.deepEqual(results.filter((x) => !x.ok), [], `verification failures (${rp.fetches} JWKS fetches)`);
  assert.ok(results.filter((x) => x.kid === newKid).length >= 4, `both nodes sign with the new key: ${JSON.stringify(results.map((x) => x.kid.slice(0, 6)))} new ${newKid}`);
});
