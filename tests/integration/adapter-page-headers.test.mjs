// An adapter page's extra headers (include/idhub/adapter.h, broker/router.c), through the test
// adapter tests/adapters/slowpage's /headers page: Refresh is sent; CSP-Script is never sent, and
// when it is a well-formed "sha256-<base64 of 32 bytes>" the page's CSP allows that one script and
// connect-src 'self'; anything else (a malformed hash, a source list smuggled in, another header
// name) is dropped with a log line and the page keeps the hub's own CSP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, LOA_SUBSTANTIAL } from './lib/hub.mjs';

let hub;
before(async () => {
  hub = await startHub({
    idps: [{ id: 'pages', adapter: 'slowpage', display_name: 'Pages', max_loa: LOA_SUBSTANTIAL }],
    services: [service('svc')],
  });
});
after(async () => {
  await hub?.stopAndCheck();
});

async function page(name, value) {
  const u = new URL(`${hub.issuer}/idp/pages/headers`);
  u.searchParams.set('name', name);
  u.searchParams.set('value', value);
  const res = await fetch(u, { signal: AbortSignal.timeout(10000) });
  await res.text();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-not-allowed'), null, 'a header outside the allow-list is dropped');
  return res.headers;
}

const HASH = `sha256-${Buffer.alloc(32, 7).toString('base64')}`;
const OWN = /^default-src 'none'; style-src 'self'; img-src 'self'; script-src 'sha256-[A-Za-z0-9+/]{43}='; form-action /;

test('CSP-Script with a well-formed hash: that script and connect-src self in the page CSP; the header itself is not sent', async () => {
  const h = await page('CSP-Script', HASH);
  assert.equal(h.get('csp-script'), null);
  const csp = h.get('content-security-policy');
  assert.ok(csp.includes(`script-src 'sha256-`) && csp.includes(` '${HASH}'; connect-src 'self'; form-action `), csp);
  assert.doesNotMatch(csp, /unsafe|\*/);
});

test('CSP-Script that is not exactly one hash is dropped: the page keeps the hub\'s own CSP', async () => {
  for (const bad of [
    `${HASH}' 'unsafe-inline`,
    `${HASH} https://evil.example`,
    'sha256-short=',
    `sha384-${Buffer.alloc(32, 7).toString('base64')}`,
    `sha256-${Buffer.alloc(32, 7).toString('base64url')}A`,
  ]) {
    const h = await page('CSP-Script', bad);
    assert.match(h.get('content-security-policy'), OWN, bad);
    assert.doesNotMatch(h.get('content-security-policy'), /connect-src/, bad);
  }
  assert.match(hub.logs(), /idp pages: page header CSP-Script dropped \(not allowed\)/);
});

test('Refresh is sent as is; another page gets no connect-src', async () => {
  const h = await page('Refresh', '3');
  assert.equal(h.get('refresh'), '3');
  assert.match(h.get('content-security-policy'), OWN);
});
