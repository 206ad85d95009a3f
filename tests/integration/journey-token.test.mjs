// The first leg of a journey keeps no server state: /authorize seals the request into the token
// in the picker's URL, so a flood of /authorize requests writes nothing to the store. The token is
// authenticated (a changed byte is refused), and once a code has been issued or the citizen has
// cancelled, the same token cannot start a second login.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service } from './lib/hub.mjs';
import { Browser, login, findTags, parseForms } from './lib/browser.mjs';
import { rpConfig, authRequest } from './lib/rp.mjs';
import { ctlOk } from './lib/ctl.mjs';

const cb = 'http://127.0.0.1:9/svc/cb';
let hub;
let cfg;

before(async () => {
  hub = await startHub({ services: [service('svc', { redirect_uris: [cb] })] });
  cfg = await rpConfig(hub, 'svc');
});
after(async () => { await hub?.stopAndCheck(); });

function assertGone(r, what) {
  assert.ok(r.status >= 400 && r.status < 500, `${what}: expected a 4xx page, got ${r.status}`);
  assert.equal(r.location, null, `${what}: never a redirect`);
  assert.ok(findTags(r.text, ['h1']).length >= 1, `${what}: a page with a heading`);
  assert.doesNotMatch(r.text, /name="idp"/, `${what}: no picker`);
}

async function journeys() {
  return (await ctlOk(hub, ['status'], { json: true })).json.journeys;
}

test('200 /authorize requests and their picker pages write no journey to the store', async () => {
  const before_ = await journeys();
  const ua = new Browser();
  for (let i = 0; i < 200; i++) {
    const req = await authRequest(cfg, { redirectUri: cb });
    const a = await ua.get(req.url.href, { initiator: cb });
    assert.equal(a.status, 303);
    if (i % 50 === 0) assert.equal((await ua.get(a.location, { initiator: cb })).status, 200);
  }
  assert.equal(await journeys(), before_, 'the store holds no record for an unpicked journey');
});

test('a journey token with one character changed is refused', async () => {
  const req = await authRequest(cfg, { redirectUri: cb });
  const ua = new Browser();
  const a = await ua.get(req.url.href, { initiator: cb });
  const url = new URL(a.location);
  const tok = url.pathname.split('/').pop();
  const i = Math.floor(tok.length / 2);
  const forged = tok.slice(0, i) + (tok[i] === 'A' ? 'B' : 'A') + tok.slice(i + 1);
  assertGone(await ua.get(`${hub.issuer}/login/${forged}`, { initiator: cb }), 'forged token');
  assertGone(await ua.get(`${hub.issuer}/login/${tok.slice(0, -4)}`, { initiator: cb }), 'truncated token');
  assert.equal((await ua.get(a.location, { initiator: cb })).status, 200, 'the genuine token still works');
});

test('after a code is issued, the same journey token cannot start another login', async () => {
  const req = await authRequest(cfg, { redirectUri: cb });
  const j = await login({ authorizeUrl: req.url.href, persona: 'alice', browser: new Browser() });
  assert.ok(j.params?.code, 'the first login gets a code');
  const again = await j.browser.get(`${hub.issuer}/login/${j.journeyId}`, { initiator: cb });
  assertGone(again, 'the spent journey');
});

test('after the citizen cancels, the journey token is spent too', async () => {
  const req = await authRequest(cfg, { redirectUri: cb });
  const j = await login({ authorizeUrl: req.url.href, until: 'picker', browser: new Browser() });
  // cancelling changes state: the picker's POST form (a GET only goes back to the picker)
  const p = j.steps.picker;
  const fi = parseForms(p.text).findIndex((f) => new URL(f.action, p.url).pathname === `/login/${j.journeyId}/cancel`);
  assert.ok(fi >= 0, 'the picker has a cancel form');
  const c = await j.browser.submitForm(p.text, p.url, {}, { formIndex: fi });
  assert.equal(c.status, 303);
  assert.match(c.location, /error=access_denied/);
  assertGone(await j.browser.get(`${hub.issuer}/login/${j.journeyId}`, { initiator: cb }), 'cancelled');
});

test('state or nonce over 1024 characters is invalid_request (they travel sealed in the URL)', async () => {
  for (const extra of [{ state: 's'.repeat(1025) }, { nonce: 'n'.repeat(1025) }]) {
    const req = await authRequest(cfg, { redirectUri: cb, extra });
    const a = await new Browser().get(req.url.href, { initiator: cb });
    assert.equal(a.status, 303);
    const u = new URL(a.location);
    assert.equal(u.origin + u.pathname, cb);
    assert.equal(u.searchParams.get('error'), 'invalid_request');
  }
  const ok = await authRequest(cfg, { redirectUri: cb, extra: { state: 's'.repeat(1024), nonce: 'n'.repeat(1024) } });
  const j = await login({ authorizeUrl: ok.url.href, persona: 'alice', browser: new Browser() });
  assert.ok(j.params?.code, 'the longest accepted state and nonce still complete a login');
  assert.equal(j.params.state, 's'.repeat(1024));
});
