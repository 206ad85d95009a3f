// idhubctl backup and restore: a backup taken while logins run is a 0600 file; restore refuses while
// the daemon runs; restored into a new state directory, a hub there gives the same people the same
// pairwise subs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startHub, service, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { loginAndRedeem } from './lib/rp.mjs';
import { ctl, ctlOk, show, auditLog, writeConfigFor, plainRpConfig } from './lib/ctl.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
const services = [service('svc-a', { redirect_uris: [CB] })];
const USERS = ['ursula', 'viktor', 'wanda', 'xavier'];
const as = (username) => ({ redirectUri: CB, persona: 'other', username, loa: LOA_SUBSTANTIAL });

test('a backup under load restores to a store that serves the same pairwise subs', async (t) => {
  const hub1 = await startHub({ services, keepDir: true });
  const dir2 = await mkdtemp(path.join(tmpdir(), 'idhub-restore-'));
  let hub2;
  t.after(async () => {
    try { await hub2?.stopAndCheck(); } finally {
      await hub1.stop();
      await hub1.removeDir();
      await rm(dir2, { recursive: true, force: true });
    }
  });
  const cfg1 = await plainRpConfig(hub1, 'svc-a');
  const subs = {};
  for (const u of USERS) subs[u] = (await loginAndRedeem(cfg1, as(u))).claims.sub;
  subs.alice = (await loginAndRedeem(cfg1, { redirectUri: CB })).claims.sub;
  assert.equal(new Set(Object.values(subs)).size, USERS.length + 1, 'distinct users, distinct subs');
  await ctlOk(hub1, ['services', 'add', '--id', 'svc-reg', '--name', 'Registered', '--redirect-uri', 'http://127.0.0.1:9/svc-reg/cb']);

  // logins go on (bounded) while the backup is taken
  let stop = false;
  let loopError = null;
  let during = 0;
  const loop = (async () => {
    for (let i = 0; i < 40 && !stop; i++) {
      try {
        await loginAndRedeem(cfg1, as(`load-${i}`));
        during++;
      } catch (e) { loopError = e; return; }
    }
  })();
  const backupDir = path.join(hub1.dir, 'backup');
  let b;
  try {
    while (during < 2 && !loopError) await new Promise((r) => setTimeout(r, 20));
    b = await ctl(hub1, ['backup', backupDir]);
  } finally {
    stop = true;
    await loop;
  }
  assert.equal(loopError, null, `logins during the backup: ${loopError?.stack}`);
  assert.equal(b.status, 0, show(b));
  const st = await stat(path.join(backupDir, 'data.mdb'));
  assert.equal(st.mode & 0o777, 0o600, `data.mdb mode ${(st.mode & 0o777).toString(8)}`);
  assert.equal((await stat(backupDir)).mode & 0o077, 0, 'the backup directory is not group/world accessible');
  assert.ok(st.size > 0);

  // restore refuses while the daemon has the store open
  const busy = await ctl(hub1, ['restore', backupDir]);
  assert.equal(busy.status, 1, `restore under a running daemon: ${show(busy)}`);
  assert.ok(busy.stderr.trim().length > 0, 'says why');
  assert.ok(hub1.running, 'the daemon still runs');
  const afterBusy = await loginAndRedeem(cfg1, as(USERS[0]));
  assert.equal(afterBusy.claims.sub, subs[USERS[0]], 'the live store was not touched');

  const audit = await auditLog(hub1);
  const rec = audit.records.find((r) => r.what === 'store.backup');
  assert.ok(rec && rec.who && rec.target, `backup audited: ${audit.text.slice(-1500)}`);

  const exit = await hub1.stop();
  assert.equal(exit.code, 0, hub1.logs().slice(-2000));

  // restore into a NEW state directory (a second config pointing at it), then start a hub there
  const config2 = await writeConfigFor(hub1.config, dir2);
  const before = await readdir(path.join(dir2, 'var'));
  assert.deepEqual(before, [], 'the new state directory is empty');
  const r = await ctl(config2, ['restore', backupDir]);
  assert.equal(r.status, 0, show(r));
  hub2 = await startHub({ services, dir: dir2, port: hub1.port });
  const cfg2 = await plainRpConfig(hub2, 'svc-a');
  for (const u of USERS) {
    const { claims } = await loginAndRedeem(cfg2, as(u));
    assert.equal(claims.sub, subs[u], `${u} gets the same sub from the restored store`);
  }
  assert.equal((await loginAndRedeem(cfg2, { redirectUri: CB })).claims.sub, subs.alice, 'alice too');
  const fresh = await loginAndRedeem(cfg2, as('newcomer'));
  assert.ok(!Object.values(subs).includes(fresh.claims.sub));
  // the restored store has the registered service and the audit log, and records the restore
  await ctlOk(hub2, ['services', 'show', 'svc-reg']);
  const audit2 = await auditLog(hub2);
  assert.ok(audit2.records.some((x) => x.what === 'services.add' && x.target === 'svc-reg'), 'the restored store keeps the audit log');
  assert.ok(audit2.records.some((x) => x.what === 'store.restore'), 'the restore is audited');
});

test('restore and backup refuse bad arguments', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-restore-args-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const hub = await startHub({ services });
  t.after(() => hub.stopAndCheck());
  const cfg = await writeConfigFor(hub.config, dir);
  const missing = await ctl(cfg, ['restore', path.join(dir, 'no-such-backup')]);
  assert.equal(missing.status, 1, show(missing));
  for (const args of [['backup'], ['restore'], ['backup', 'a', 'b'], ['restore', '--bogus']]) {
    const r = await ctl(hub, args);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /usage|argument/i);
  }
});
