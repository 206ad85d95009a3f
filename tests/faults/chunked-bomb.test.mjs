// A body over the limit is refused with 413 and the connection is closed, whether it is declared
// with Content-Length or sent as an endless chunked body: the hub stops reading at the limit
// (today's main read 28 GB of chunks on one connection). Bounded: the sender stops after
// MAX_SEND bytes or 20 s, whichever comes first, and then the test fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startHub } from '../integration/lib/hub.mjs';

const MAX_SEND = 64 * 1024 * 1024; // the hub's limit is 64 KiB (512 KiB on /callback/)
let hub;

before(async () => {
  hub = await startHub({});
});

after(async () => {
  await hub?.stopAndCheck();
});

/**
 * Sends head, then body chunks from next() until the server answers and closes, or MAX_SEND bytes
 * or 20 s. Resolves {sent, answer, closed}.
 */
function bomb(head, next) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: hub.port });
    let sent = 0;
    let answer = '';
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ sent, answer, closed });
    };
    const timer = setTimeout(() => finish(false), 20000);
    let answered = false; // like curl, stop sending once the server has answered
    s.on('data', (d) => { answer += d.toString('latin1'); answered = true; });
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
    s.on('error', () => finish(true));
    const pump = () => {
      while (!done && !answered) {
        if (sent >= MAX_SEND) return finish(false);
        const c = next();
        sent += c.length;
        if (!s.write(c)) return s.once('drain', pump);
      }
      return undefined;
    };
    s.on('connect', () => { s.write(head); pump(); });
  });
}

const chunk = (n) => Buffer.concat([Buffer.from(n.toString(16) + '\r\n'), Buffer.alloc(n, 0x61), Buffer.from('\r\n')]);

for (const path of ['/token', '/callback/sandbox']) {
  test(`an endless chunked body to ${path}: 413, the connection ends, bounded bytes read`, async (t) => {
    const c = chunk(16384);
    const r = await bomb(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n`
      + 'Transfer-Encoding: chunked\r\n\r\n',
      () => c,
    );
    assert.ok(r.closed, `the hub was still reading after ${r.sent} bytes: ${r.answer.slice(0, 200)}`);
    assert.match(r.answer, /^HTTP\/1\.1 413 /, `no 413 (sent ${r.sent} bytes): ${r.answer.slice(0, 200)}`);
      // the limit, plus what the socket buffers on both sides hold
    assert.ok(r.sent < 16 * 1024 * 1024, `${r.sent} bytes were accepted`);
    t.diagnostic(`${path}: 413 after ${r.sent} bytes sent`);
  });
}

test('a declared Content-Length over the limit: 413 at once and the connection ends', async () => {
  const c = Buffer.alloc(65536, 0x61);
  const r = await bomb(
    'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n'
    + `Content-Length: ${10 * 1024 * 1024 * 1024}\r\n\r\n`,
    () => c,
  );
  assert.ok(r.closed, `the hub was still reading after ${r.sent} bytes`);
  assert.match(r.answer, /^HTTP\/1\.1 413 /);
  assert.ok(r.sent < 16 * 1024 * 1024, `${r.sent} bytes were accepted`);
});

test('after the refusals the hub still serves, and did not log a line per refusal', async () => {
  const r = await fetch(`${hub.issuer}/healthz`);
  assert.equal(r.status, 200);
  for (let i = 0; i < 20; i++) {
    await bomb('POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999\r\n\r\n', () => Buffer.alloc(65536));
  }
  const lines = hub.logs().split('\n').filter((l) => /^<[34]>http:/.test(l));
  assert.ok(lines.length <= 1, lines.join('\n'));
});
