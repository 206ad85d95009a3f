// Issue 9, items 5 and 10: kill -9 under load. Pairwise subs recorded before the kill are unchanged
// (those of the last group-commit interval are derived again identically), a code issued before
// the kill is refused after it (the volatile store is discarded after an unclean stop), and the
// daemon answers again within 1 s of its restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, LOA_SUBSTANTIAL, sanitizerReports } from '../integration/lib/hub.mjs';
import { rpConfig, loginAndRedeem, getCode, tokenRequest } from '../integration/lib/rp.mjs';
import { sleep } from './lib.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
const services = [service('svc-a', { redirect_uris: [CB] })];
const as = (username) => ({ redirectUri: CB, persona: 'other', username, loa: LOA_SUBSTANTIAL });

test('kill -9 under load: subs unchanged, codes from before refused, restart under 1 s', async (t) => {
  const hub1 = await startHub({ services, keepDir: true });
  let hub2;
  t.after(async () => { await hub1.stop(); await hub2?.stop(); await hub1.removeDir(); });
  const cfg1 = await rpConfig(hub1, 'svc-a');
  const subs = {};
  for (const u of ['u0', 'u1', 'u2']) subs[u] = (await loginAndRedeem(cfg1, as(u))).claims.sub;
  const early = await getCode(cfg1, { redirectUri: CB }); // issued, never redeemed

  // load: logins of new citizens until the kill; each sub seen before the kill is remembered
  let killed = false;
  const loop = async (w) => {
    for (let i = 0; i < 500 && !killed; i++) {
      const u = `load-${w}-${i}`;
      try {
        const { claims } = await loginAndRedeem(cfg1, as(u));
        if (!killed) subs[u] = claims.sub;
      } catch { return; } // the daemon died under it
    }
  };
  const loops = [0, 1, 2, 3].map(loop);
  await sleep(1500);
  killed = true;
  process.kill(hub1.pid, 'SIGKILL');
  await Promise.all(loops);
  await hub1.stop();
  assert.equal(hub1.exitSignal, 'SIGKILL');
  t.diagnostic(`${Object.keys(subs).length} subs recorded before the kill`);

  const t0 = Date.now();
  hub2 = await startHub({ services, dir: hub1.dir, port: hub1.port });
  const restartMs = Date.now() - t0;
  t.diagnostic(`restart after kill -9: /healthz 200 after ${restartMs} ms`);
  assert.ok(restartMs < 1000, `restart took ${restartMs} ms`);
  assert.match(hub2.logs(), /did not stop cleanly|did not close the store/, 'the unclean stop is noticed');

  const cfg2 = await rpConfig(hub2, 'svc-a');
  for (const [u, sub] of Object.entries(subs)) {
    const { claims } = await loginAndRedeem(cfg2, as(u));
    assert.equal(claims.sub, sub, `${u}'s sub is unchanged after kill -9`);
  }
  const r = await tokenRequest(hub2, {
    grant_type: 'authorization_code', code: early.code, redirect_uri: CB, code_verifier: early.req.verifier,
  }, { basic: ['svc-a', 'svc-a-secret'] });
  assert.equal(r.status, 400, `a code from before the kill: ${r.text}`);
  assert.equal(r.json?.error, 'invalid_grant');
  await hub2.stopAndCheck();
  assert.deepEqual(sanitizerReports(hub1.logs()), []);
});
