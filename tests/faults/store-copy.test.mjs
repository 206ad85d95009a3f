// store-copy.test.mjs — moving a single-node hub to PostgreSQL (issue 10, item 5): alice and bob log
// in on LMDB; the hub stops; `idhubctl store copy --from <state dir> --to <conninfo>` copies the
// durable records into a private PostgreSQL 15 cluster; a hub on PostgreSQL gives both the same
// subs, still verifies the old ID token with its published keys, and a second copy (a rerun) finds
// everything already there; a copy into another hub's database is refused as a conflict.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service } from '../integration/lib/hub.mjs';
import { loginAndRedeem, rpConfig, jose } from '../integration/lib/rp.mjs';
import { ctl, show } from '../integration/lib/ctl.mjs';
import { unavailable, startCluster } from '../pg/cluster.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
const services = [service('svc-a', { redirect_uris: [CB] })];
const why = await unavailable();
let pg;
after(async () => { await pg?.stop(); });

test('store copy from LMDB to PostgreSQL: every citizen keeps their sub', { skip: why || false }, async () => {
  pg = await startCluster();
  const lmdb = await startHub({ services, keepDir: true });
  let pgHub, other;
  try {
    const before = {};
    for (const persona of ['alice', 'bob']) before[persona] = await loginAndRedeem(await rpConfig(lmdb, 'svc-a'), { redirectUri: CB, persona });
    await lmdb.stopAndCheck();

    const conninfo = `${pg.conninfo} dbname=postgres`;
    const r = await ctl(lmdb, ['store', 'copy', '--from', lmdb.stateDir, '--to', conninfo], { json: true });
    assert.equal(r.status, 0, show(r));
    assert.ok(r.json.pairwise.copied >= 2, show(r));
    assert.ok(r.json.secrets.copied >= 1 && r.json.keys.copied >= 1, show(r));

    pgHub = await startHub({ services, dir: lmdb.dir, port: lmdb.port, hub: { store: 'postgresql', store_conninfo: conninfo } });
    for (const persona of ['alice', 'bob']) {
      const after = await loginAndRedeem(await rpConfig(pgHub, 'svc-a'), { redirectUri: CB, persona });
      assert.equal(after.claims.sub, before[persona].claims.sub, `${persona} keeps her sub`);
    }
    const jwks = await (await fetch(`${pgHub.issuer}/jwks`)).json();
    await jose.jwtVerify(before.alice.tokens.id_token, jose.createLocalJWKSet(jwks), { issuer: pgHub.issuer, audience: 'svc-a', currentDate: new Date() });
    await pgHub.stopAndCheck();
    pgHub = null;

    const again = await ctl(lmdb, ['store', 'copy', '--from', lmdb.stateDir, '--to', conninfo], { json: true });
    assert.equal(again.status, 0, show(again));
    assert.equal(again.json.pairwise.copied, 0, show(again));

    // another single-node hub's store has other secrets: refused, nothing overwritten
    other = await startHub({ services, keepDir: true });
    await loginAndRedeem(await rpConfig(other, 'svc-a'), { redirectUri: CB });
    await other.stopAndCheck();
    const clash = await ctl(other, ['store', 'copy', '--from', other.stateDir, '--to', conninfo]);
    assert.equal(clash.status, 1, show(clash));
    assert.match(clash.stderr, /differ.*nothing was copied/s);
    const still = await ctl(lmdb, ['store', 'copy', '--from', lmdb.stateDir, '--to', conninfo], { json: true });
    assert.equal(still.status, 0, `the first hub's records are intact: ${show(still)}`);
    assert.equal(still.json.pairwise.conflicts, 0);
    assert.equal(still.json.pairwise.copied, 0, "the first hub's pairwise records are all still there");
  } finally {
    await pgHub?.stop();
    await lmdb.removeDir();
    await other?.removeDir();
  }
});
