// Issue 9, items 3, 4 and 10: a killed backup, then restore refused. A backup is written under a
// temporary name and completed by its MANIFEST; restore refuses what an interrupted or damaged
// backup leaves (no manifest, a truncated copy, a changed byte, an unknown format version) and
// leaves the current store untouched, so the daemon starts on it with the same pairwise subs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, readFile, writeFile, stat, truncate, unlink, readdir } from 'node:fs/promises';
import path from 'node:path';
import { startHub, service, LOA_SUBSTANTIAL } from '../integration/lib/hub.mjs';
import { rpConfig, loginAndRedeem } from '../integration/lib/rp.mjs';
import { ctl, ctlOk, show, IDHUBCTL_BIN } from '../integration/lib/ctl.mjs';
import { sleep } from './lib.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
const services = [service('svc-a', { redirect_uris: [CB] })];
const as = (username) => ({ redirectUri: CB, persona: 'other', username, loa: LOA_SUBSTANTIAL });

/** Starts `idhubctl backup dir` and kills it with SIGKILL after ms. */
async function killedBackup(hub, dir, ms) {
  const child = spawn(IDHUBCTL_BIN, ['--config', hub.configPath, 'backup', dir], { stdio: 'ignore' });
  const done = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  await sleep(ms);
  child.kill('SIGKILL');
  return done;
}

test('a killed backup, then restore refused; damaged copies refused; the store untouched', async (t) => {
  const hub = await startHub({ services, keepDir: true });
  let hub2;
  t.after(async () => { await hub.stop(); await hub2?.stop(); await hub.removeDir(); });
  const cfg = await rpConfig(hub, 'svc-a');
  const subs = {};
  for (const u of ['u0', 'u1']) subs[u] = (await loginAndRedeem(cfg, as(u))).claims.sub;

  const good = path.join(hub.dir, 'good');
  await ctlOk(hub, ['backup', good]);
  const manifest = (await readFile(path.join(good, 'MANIFEST'), 'utf8')).trim();
  const size = (await stat(path.join(good, 'data.mdb'))).size;
  assert.match(manifest, new RegExp(`^idhub-store lmdb 1 ${size} [0-9a-f]{64}$`));
  assert.equal(await ctl(hub, ['backup', good]).then((r) => r.status), 1, 'a backup never overwrites one');

  // backups killed at a few points: whatever they left is either complete (with its manifest) or
  // refused by restore
  const killed = [];
  for (const ms of [0, 2, 5, 10, 20, 40]) {
    const d = path.join(hub.dir, `killed-${ms}`);
    const x = await killedBackup(hub, d, ms);
    const files = await readdir(d).catch(() => []);
    if (x.signal === 'SIGKILL' && !files.includes('MANIFEST')) killed.push(d);
  }
  t.diagnostic(`${killed.length} of 6 backups killed before their manifest`);
  // the daemon's store is still served after the killed idhubctl runs
  assert.equal((await loginAndRedeem(cfg, as('u0'))).claims.sub, subs.u0);

  // what an interrupted backup of the old kind left: a truncated data.mdb (here beside a manifest)
  const truncated = path.join(hub.dir, 'truncated');
  await cp(good, truncated, { recursive: true });
  await truncate(path.join(truncated, 'data.mdb'), Math.floor(size / 2));
  const corrupt = path.join(hub.dir, 'corrupt');
  await cp(good, corrupt, { recursive: true });
  const bytes = await readFile(path.join(corrupt, 'data.mdb'));
  bytes[Math.floor(size / 2)] ^= 0x20;
  await writeFile(path.join(corrupt, 'data.mdb'), bytes);
  const future = path.join(hub.dir, 'future');
  await cp(good, future, { recursive: true });
  await writeFile(path.join(future, 'MANIFEST'), manifest.replace(/^idhub-store lmdb 1 /, 'idhub-store lmdb 2 ') + '\n');
  const noManifest = path.join(hub.dir, 'no-manifest');
  await cp(good, noManifest, { recursive: true });
  await unlink(path.join(noManifest, 'MANIFEST'));

  assert.equal((await hub.stop()).code, 0);
  const cases = [[truncated, /truncated/], [corrupt, /SHA-256/], [future, /version 2/], [noManifest, /MANIFEST/],
    ...killed.map((d) => [d, /MANIFEST|no backup/])];
  for (const [d, why] of cases) {
    const r = await ctl(hub, ['restore', d]);
    assert.equal(r.status, 1, `restore of ${path.basename(d)} refused: ${show(r)}`);
    assert.match(r.stderr, why, show(r));
  }
  // the current store is untouched: the daemon starts on it with the same subs
  hub2 = await startHub({ services, dir: hub.dir, port: hub.port });
  const cfg2 = await rpConfig(hub2, 'svc-a');
  for (const [u, sub] of Object.entries(subs)) assert.equal((await loginAndRedeem(cfg2, as(u))).claims.sub, sub);
  await hub2.stopAndCheck();
  // and the complete backup restores
  await ctlOk(hub, ['restore', good]);
});
