// Issue 9, item 6: an audit record commits in the same transaction as its change. idhubctl key
// generations and service registrations are killed with SIGKILL at points spread over their run;
// afterwards every next key and every registered service has its audit record (a kill between the
// change and a separately committed record once left 3 of 15 rotations unaudited).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startHub, service } from '../integration/lib/hub.mjs';
import { ctlOk, listKeys, auditLog, IDHUBCTL_BIN } from '../integration/lib/ctl.mjs';
import { sleep } from './lib.mjs';

/** Runs idhubctl args and kills it after ms (or lets it finish first); returns its exit. */
async function killedAt(hub, args, ms) {
  const child = spawn(IDHUBCTL_BIN, ['--config', hub.configPath, ...args], { stdio: 'ignore' });
  const done = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  await Promise.race([sleep(ms), done]);
  child.kill('SIGKILL');
  return done;
}

test('killed idhubctl changes: none committed without its audit record', async (t) => {
  const hub = await startHub({ services: [service('svc-a')] });
  t.after(() => hub.stop());
  // how long one run takes (the shortest of three), to spread the kills over it
  let runMs = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = Date.now();
    await ctlOk(hub, ['keys', 'generate']);
    runMs = Math.min(runMs, Date.now() - t0);
  }
  let killed = 0;
  for (let i = 0; i < 15; i++) {
    const at = Math.floor((runMs * (i + 1)) / 15);
    const a = await killedAt(hub, ['keys', 'generate'], at);
    const b = await killedAt(hub, ['services', 'add', '--id', `svc-k${i}`, '--name', `K ${i}`,
      '--redirect-uri', `http://127.0.0.1:9/k${i}/cb`], at);
    killed += (a.signal === 'SIGKILL') + (b.signal === 'SIGKILL');
  }
  t.diagnostic(`one run ${runMs} ms; ${killed} of 30 runs killed before they ended`);
  assert.ok(killed > 0, 'some runs were killed while they ran');

  const { records } = await auditLog(hub);
  const audited = new Set(records.filter((r) => r.what === 'keys.generate').map((r) => r.target));
  const next = (await listKeys(hub)).filter((k) => k.state === 'next');
  assert.ok(next.length >= 1);
  for (const k of next) assert.ok(audited.has(k.kid), `next key ${k.kid} has its keys.generate audit record`);
  const list = await ctlOk(hub, ['services', 'list'], { json: true });
  const registered = (Array.isArray(list.json) ? list.json : list.json?.services ?? [])
    .map((s) => s.client_id ?? s.id).filter((id) => /^svc-k/.test(id ?? ''));
  const added = new Set(records.filter((r) => r.what === 'services.add').map((r) => r.target));
  for (const id of registered) assert.ok(added.has(id), `service ${id} has its services.add audit record`);
  t.diagnostic(`${next.length} next keys and ${registered.length} services, each with its record`);
  // the kills also fell while idhubctl signed a tree head (one transaction): the log verifies
  const v = await ctlOk(hub, ['audit', 'verify']);
  assert.match(v.stdout, /^ok:/);
  await hub.stopAndCheck();
});
