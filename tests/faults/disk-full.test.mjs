// Issue 9, item 2: a full disk never kills the daemon. The state directory is on a small tmpfs
// (mounting one needs root: otherwise the test is skipped and says why). Once a filler file has
// taken the last block, new journeys are refused with a clear error and the daemon runs on; when
// the space comes back, logins work again with the same pairwise sub (the durable store intact).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, open, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startHub, service } from '../integration/lib/hub.mjs';
import { rpConfig, loginAndRedeem } from '../integration/lib/rp.mjs';
import { freshChoice, browserCookie } from './lib.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
const services = [service('svc-a', { redirect_uris: [CB] })];

/** Fills the file system of dir: writes dir/filler until ENOSPC. */
async function fill(dir) {
  const f = await open(path.join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (let i = 0; i < 100000; i++) await f.write(chunk);
  } catch (e) {
    if (e.code !== 'ENOSPC') throw e;
  } finally {
    await f.close().catch(() => {});
  }
  // the last partial blocks too
  const g = await open(path.join(dir, 'filler2'), 'w');
  try { for (let i = 0; i < 64; i++) await g.write(Buffer.alloc(1024, 1)); } catch (e) { if (e.code !== 'ENOSPC') throw e; } finally { await g.close().catch(() => {}); }
}

test('a full disk refuses new journeys with a clear error, keeps the daemon and the durable store, and recovers', async (t) => {
  if (process.getuid?.() !== 0) { t.skip('needs root to mount a small tmpfs for the state directory'); return; }
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-diskfull-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12m,mode=0700', 'tmpfs', dir]);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs here (${String(e.message).split('\n')[0]})`);
    return;
  }
  let hub;
  t.after(async () => {
    await hub?.stop();
    try { execFileSync('umount', [dir]); } catch { /* already */ }
    await rm(dir, { recursive: true, force: true });
  });
  hub = await startHub({ services, dir, hub: { store_map_mib: 16 } });
  const cfg = await rpConfig(hub, 'svc-a');
  const before = await loginAndRedeem(cfg, { redirectUri: CB });

  await fill(dir);
  const cookie = browserCookie();
  const statuses = {};
  for (let i = 0; i < 300 && !statuses[503]; i++) {
    const r = await freshChoice(hub, 'svc-a', CB, cookie);
    statuses[r.status] = (statuses[r.status] || 0) + 1;
    assert.ok(hub.running, `the daemon runs on a full disk (exit ${hub.exitCode} ${hub.exitSignal})\n${hub.logs().slice(-3000)}`);
  }
  t.diagnostic(`on a full disk: ${JSON.stringify(statuses)}`);
  assert.ok(statuses[503] > 0, `a new journey was refused: ${JSON.stringify(statuses)}`);
  assert.match(hub.logs(), /no space left on the device/, 'the log says why');
  assert.ok(hub.running);

  await unlink(path.join(dir, 'filler'));
  await unlink(path.join(dir, 'filler2'));
  const after = await loginAndRedeem(cfg, { redirectUri: CB });
  assert.equal(after.claims.sub, before.claims.sub, 'the same sub: the durable store is intact');
  await hub.stopAndCheck();
});
