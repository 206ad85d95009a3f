// Slow and greedy HTTP clients cannot lock anyone out. One address opens SLOWLORIS_CONNECTIONS
// connections (default 5,000) that trickle request headers; the hub keeps at most
// hub.connections_per_source of them open (today's main kept up to its 4,096 global limit and
// refused everyone else), and a citizen at another address logs in meanwhile. A connection that
// keeps sending header bytes without ever finishing its headers is closed at hub.header_timeout,
// although libmicrohttpd's idle timeout never fires for it. Bounded: each step has a deadline.
//
// On Linux every 127.x.y.z address is local: the attacker binds 127.0.0.2 (and 127.0.0.3), the
// citizen uses 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startHub, service } from '../integration/lib/hub.mjs';
import { rpConfig, loginAndRedeem } from '../integration/lib/rp.mjs';

const COUNT = Number(process.env.SLOWLORIS_CONNECTIONS || 5000);
const PER_SOURCE = 64;
const HEADER_TIMEOUT = 3;
const cb = 'http://127.0.0.1:9/svc/cb';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let hub;
let cfg;

before(async () => {
  hub = await startHub({
    hub: { connections_per_source: PER_SOURCE, header_timeout: HEADER_TIMEOUT },
    services: [service('svc', { redirect_uris: [cb] })],
  });
  cfg = await rpConfig(hub, 'svc');
});

after(async () => {
  await hub?.stopAndCheck();
});

/** A connection from localAddress that sends the start of a request; resolves when connected or
 * refused. .open tells whether the hub still holds it. */
function slowConnection(localAddress) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: hub.port, localAddress });
    s.open = false;
    s.on('connect', () => {
      s.open = true;
      s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      resolve(s);
    });
    s.on('error', () => { s.open = false; resolve(s); });
    s.on('close', () => { s.open = false; resolve(s); });
    s.on('end', () => { s.open = false; });
    s.setTimeout(30000, () => s.destroy());
  });
}

test(`${COUNT} slow connections from one address; another address logs in meanwhile`, async (t) => {
  const t0 = Date.now();
  const socks = [];
  try {
    for (let i = 0; i < COUNT && Date.now() - t0 < 30000; i += 250) {
      const batch = [];
      for (let k = i; k < Math.min(COUNT, i + 250); k++) batch.push(slowConnection('127.0.0.2'));
      socks.push(...(await Promise.all(batch)));
    }
    assert.equal(socks.length, COUNT, 'all connections were attempted in 30 s');
    // keep the held ones alive with a header byte now and then, as slowloris does
    const trickle = setInterval(() => { for (const s of socks) if (s.open) s.write('X-a: b\r\n'); }, 500);
    try {
      await sleep(300);
      const t1 = Date.now();
      const { tokens } = await loginAndRedeem(cfg, { redirectUri: cb });
      assert.ok(tokens.id_token, 'the citizen at 127.0.0.1 logged in');
      const loginMs = Date.now() - t1;
      assert.ok(loginMs < 10000, `the login took ${loginMs} ms`);

      const held = socks.filter((s) => s.open).length;
      // a race between the hub's two event-loop threads may let one more in per thread
      assert.ok(held <= PER_SOURCE + 2, `the hub holds ${held} connections from one address`);
      assert.ok(held >= 1, 'the slow connections were accepted up to the limit');
      t.diagnostic(`${COUNT} connections attempted in ${t1 - t0} ms, ${held} held; login in ${loginMs} ms`);
      // thousands of refusals, a handful of log lines (one per interval, with a count)
      const lines = hub.logs().split('\n').filter((l) => /per-source limit/.test(l));
      assert.ok(lines.length >= 1 && lines.length <= 3, `${lines.length} log lines:\n${lines.slice(0, 5).join('\n')}`);
      assert.match(lines[0], /\d+ refused since the last report/);
    } finally {
      clearInterval(trickle);
    }
  } finally {
    for (const s of socks) s.destroy();
  }
});

test('headers trickled byte by byte are cut at header_timeout, though never idle', async (t) => {
  const s = await slowConnection('127.0.0.3');
  assert.ok(s.open, 'connected');
  const t0 = Date.now();
  const trickle = setInterval(() => { if (s.open) s.write('x'); }, 200);
  try {
    while (s.open && Date.now() - t0 < HEADER_TIMEOUT * 1000 + 5000) await sleep(100);
    const ms = Date.now() - t0;
    assert.ok(!s.open, `still open after ${ms} ms of trickled headers`);
    assert.ok(ms >= HEADER_TIMEOUT * 1000 - 500, `closed after ${ms} ms, before the deadline`);
    t.diagnostic(`header_timeout ${HEADER_TIMEOUT} s: closed after ${ms} ms of trickling`);
  } finally {
    clearInterval(trickle);
    s.destroy();
  }
});

test('a kept-alive connection serves several requests within the deadline', async () => {
  // the deadline restarts after each answer: a client that keeps its connection busy is not cut
  const s = await slowConnection('127.0.0.4');
  let got = '';
  s.on('data', (d) => { got += d; });
  s.write('\r\n'); // ends the first request's headers
  for (let i = 0; i < 3; i++) {
    await sleep((HEADER_TIMEOUT * 1000) / 2);
    s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  }
  await sleep(300);
  s.destroy();
  assert.equal(got.match(/HTTP\/1\.1 200/g)?.length, 4, got.slice(0, 300));
});
