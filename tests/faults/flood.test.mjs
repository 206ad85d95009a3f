// Issue 9, item 1: a flood of anonymous picker choices on a 16 MiB store cannot lock citizens out.
// One client stores fresh journeys as fast as it can; above the high-water mark new journeys get
// the 503 busy page and the store keeps headroom for the purge. Another service's citizen logs in
// during the flood or within journey_ttl after it, and again after a clean restart; the store's
// failures are logged once per interval, not once per request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startHub, service, sanitizerReports, IDHUB_BIN } from '../integration/lib/hub.mjs';
import { rpConfig, loginAndRedeem } from '../integration/lib/rp.mjs';
import { freshChoice, browserCookie, until } from './lib.mjs';

const JOURNEY_TTL = 5;
const CB_A = 'http://127.0.0.1:9/svc-a/cb';
const CB_B = 'http://127.0.0.1:9/svc-b/cb';
const services = [service('svc-a', { redirect_uris: [CB_A] }), service('svc-b', { redirect_uris: [CB_B] })];
// The flood comes from one address here, so a daemon with a per-source budget
// (hub.journeys_per_minute) has it turned off: this is the store budget's test, for a flood from
// many addresses.
const perSource = readFileSync(IDHUB_BIN).includes('journeys_per_minute') ? { journeys_per_minute: 0 } : {};
const hubOpts = { services, hub: { store_map_mib: 16, journey_ttl: JOURNEY_TTL, ...perSource } };

test('a picker-choice flood on a 16 MiB store: busy page, another login gets through, and again after a restart', async (t) => {
  const hub = await startHub({ ...hubOpts, keepDir: true });
  let hub2;
  t.after(async () => { await hub.stop(); await hub2?.stop(); await hub.removeDir(); });
  const cookie = browserCookie();
  let stored = 0, busy = 0, other = 0, busyPage = null, stop = false;
  const flooder = async () => {
    // bounded: 40 s or 20,000 choices per worker, and it stops once the busy page is seen 200 times
    const end = Date.now() + 40000;
    for (let i = 0; i < 20000 && !stop && Date.now() < end && busy < 200; i++) {
      const r = await freshChoice(hub, 'svc-a', CB_A, cookie);
      if (r.status === 303) stored++;
      else if (r.status === 503) { busy++; busyPage ??= r; }
      else other++;
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 8 }, flooder));
  const floodEnd = Date.now();
  t.diagnostic(`flood: ${stored} journeys stored, ${busy} refused busy, in ${floodEnd - t0} ms`);
  assert.ok(hub.running, `the daemon survives the flood\n${hub.logs().slice(-3000)}`);
  assert.ok(busy > 0, `new journeys were refused above the high-water mark (${stored} stored, ${other} other, ${floodEnd - t0} ms)`);
  assert.equal(other, 0, 'every choice was stored or refused as busy');
  assert.match(busyPage.text, /busy/i);
  assert.equal(busyPage.headers.get('retry-after'), '60');
  assert.match(busyPage.text, /error=temporarily_unavailable/, 'the way back to the service carries temporarily_unavailable');
  assert.match(busyPage.text, /svc-a\/cb\?error=temporarily_unavailable/);

  // another service's citizen logs in within journey_ttl (+ the purge's second and some slack)
  const cfgB = await rpConfig(hub, 'svc-b');
  const first = await until((JOURNEY_TTL + 4) * 1000, () => loginAndRedeem(cfgB, { redirectUri: CB_B }), 200);
  t.diagnostic(`the other citizen's login succeeded ${Date.now() - floodEnd} ms after the flood`);
  assert.ok(first.claims.sub);

  // the store's complaints are counted, not repeated per request
  const lines = hub.logs().split('\n').filter((l) => /store: /.test(l));
  assert.ok(lines.length < 30, `${lines.length} store log lines for ${busy} refusals:\n${lines.slice(0, 40).join('\n')}`);

  // a clean restart with a store the flood filled: logins work at once
  const exit = await hub.stop();
  assert.equal(exit.code, 0);
  assert.deepEqual(sanitizerReports(hub.logs()), []);
  hub2 = await startHub({ ...hubOpts, dir: hub.dir, port: hub.port });
  const again = await loginAndRedeem(await rpConfig(hub2, 'svc-b'), { redirectUri: CB_B });
  assert.equal(again.claims.sub, first.claims.sub);
  await hub2.stopAndCheck();
});
