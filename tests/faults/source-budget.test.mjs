// Each source may create hub.journeys_per_minute journeys a minute (a journey is stored when the
// citizen posts a choice on the picker); above that, the source gets a 429 "too many attempts"
// page with a way forward and nothing is stored, while other sources carry on. Behind a trusted
// proxy (hub.trusted_proxies) the source is the right-most X-Forwarded-For entry, the one the
// proxy appended; from any other peer, X-Forwarded-For is ignored.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service } from '../integration/lib/hub.mjs';
import { rpConfig, authRequest } from '../integration/lib/rp.mjs';
import { Browser, isPickerForm } from '../integration/lib/browser.mjs';
import { isRefusalPage } from '../integration/lib/upstream-op.mjs';

const cb = 'http://127.0.0.1:9/svc/cb';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let direct;
let proxied;
const cfg = {};

before(async () => {
  direct = await startHub({
    hub: { journeys_per_minute: 5 },
    services: [service('svc', { redirect_uris: [cb] })],
  });
  proxied = await startHub({
    hub: { journeys_per_minute: 3, trusted_proxies: ['::1', '127.0.0.1'] },
    services: [service('svc', { redirect_uris: [cb] })],
  });
  cfg.direct = await rpConfig(direct, 'svc');
  cfg.proxied = await rpConfig(proxied, 'svc');
  // the budget counts per calendar minute: do not start in its last seconds
  const into = Date.now() % 60000;
  if (into > 50000) await sleep(60500 - into);
});

after(async () => {
  await direct?.stopAndCheck();
  await proxied?.stopAndCheck();
});

/** authorize → picker → choose the sandbox, with extra headers on the choice. */
async function choose(which, headers = {}) {
  const b = new Browser();
  const req = await authRequest(cfg[which], { redirectUri: cb });
  let res = await b.get(req.url.href, { initiator: cb });
  res = await b.get(res.location, { initiator: cb });
  assert.equal(res.status, 200, 'the picker');
  return b.submitForm(res.text, res.url, { idp: 'sandbox' }, { form: isPickerForm, headers });
}

test('a source over its budget gets 429 with a way forward; X-Forwarded-For from a client is ignored', async () => {
  for (let i = 0; i < 5; i++) {
    const r = await choose('direct');
    assert.equal(r.status, 303, `journey ${i + 1}: ${r.status} ${r.text.slice(0, 200)}`);
  }
  const r = await choose('direct');
  assert.equal(r.status, 429, r.text.slice(0, 300));
  assert.ok(isRefusalPage(r));
  assert.equal(r.location, null, 'nothing was started at the IdP');
  assert.match(r.text, /Too many attempts, try again in a minute/);
  assert.equal(r.headers.get('retry-after'), '60');
  const path = new URL(r.url).pathname;
  assert.ok(r.text.includes(`href="${path}"`), 'a link to try again');
  // back to the service with temporarily_unavailable (a link: the refused choice stored nothing)
  assert.match(r.text, /href="[^"]*error=temporarily_unavailable[^"]*"/, 'a link back to the service');
  // the peer is not a trusted proxy: what it says in X-Forwarded-For changes nothing
  const forged = await choose('direct', { 'x-forwarded-for': '198.51.100.99' });
  assert.equal(forged.status, 429);
  const lines = direct.logs().split('\n').filter((l) => /per-source budget/.test(l));
  assert.equal(lines.length, 1, lines.join('\n'));
});

test('behind a trusted proxy the budget is per forwarded client, from the right-most entry', async () => {
  const xff = (v) => ({ 'x-forwarded-for': v });
  for (let i = 0; i < 3; i++) assert.equal((await choose('proxied', xff('198.51.100.7'))).status, 303);
  assert.equal((await choose('proxied', xff('198.51.100.7'))).status, 429);
  // an entry the client put to the left of the proxy's own is not believed
  assert.equal((await choose('proxied', xff('203.0.113.9, 198.51.100.7'))).status, 429);
  assert.equal((await choose('proxied', xff('198.51.100.7, 203.0.113.9'))).status, 303);
  // another client behind the same proxy carries on
  assert.equal((await choose('proxied', xff('198.51.100.8'))).status, 303);
  // IPv6 clients count per /64
  for (let i = 0; i < 3; i++) assert.equal((await choose('proxied', xff(`2001:db8:1:2::${i + 1}`))).status, 303);
  assert.equal((await choose('proxied', xff('2001:db8:1:2:ffff::9'))).status, 429);
  assert.equal((await choose('proxied', xff('2001:db8:1:3::1'))).status, 303);
});
