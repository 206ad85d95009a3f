// Levels of assurance: acr is the level the IdP asserted; service min_loa and the request's acr_values
// (the lowest known one) set the level required; the picker lists only IdPs whose max_loa meets it;
// none → unmet_authentication_requirements.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, sandboxIdp, LOA_LOW, LOA_SUBSTANTIAL, LOA_HIGH } from './lib/hub.mjs';
import { Browser, login, radioValues, redirectParams, findTags } from './lib/browser.mjs';
import { rpConfig, authRequest, loginAndRedeem } from './lib/rp.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
let hub;
const cfg = {};

before(async () => {
  hub = await startHub({
    // two IdPs: the sandbox (max substantial) and a second sandbox instance capped at low
    idps: (port) => [
      sandboxIdp(port),
      sandboxIdp(port, { id: 'sandbox-low', display_name: 'Low sandbox', max_loa: LOA_LOW }),
    ],
    services: [
      service('svc-any', { redirect_uris: [cb('svc-any')] }),
      service('svc-sub', { redirect_uris: [cb('svc-sub')], min_loa: LOA_SUBSTANTIAL }),
      service('svc-lowonly', { redirect_uris: [cb('svc-lowonly')], idps: ['sandbox-low'] }),
      service('svc-lowonly-sub', { redirect_uris: [cb('svc-lowonly-sub')], idps: ['sandbox-low'], min_loa: LOA_SUBSTANTIAL }),
      service('svc-high', { redirect_uris: [cb('svc-high')], min_loa: LOA_HIGH }),
    ],
  });
  for (const id of ['svc-any', 'svc-sub', 'svc-lowonly', 'svc-lowonly-sub', 'svc-high']) cfg[id] = await rpConfig(hub, id);
});
after(async () => { await hub?.stopAndCheck(); });

async function picker(id, extra = {}) {
  const req = await authRequest(cfg[id], { redirectUri: cb(id), extra });
  const j = await login({ authorizeUrl: req.url.href, until: 'picker' });
  return { req, j, offered: j.steps.picker ? radioValues(j.steps.picker.text, 'idp') : null };
}

test('the picker lists only the IdPs whose max_loa meets the level required', async () => {
  assert.deepEqual((await picker('svc-any')).offered.sort(), ['sandbox', 'sandbox-low']);
  assert.deepEqual((await picker('svc-sub')).offered, ['sandbox'], 'min_loa substantial');
  assert.deepEqual((await picker('svc-any', { acr_values: LOA_SUBSTANTIAL })).offered, ['sandbox'], 'acr_values substantial');
  assert.deepEqual((await picker('svc-lowonly')).offered, ['sandbox-low'], 'the service\'s idps list');
});

test('no eligible IdP: unmet_authentication_requirements to the service', async () => {
  for (const [id, extra] of [['svc-lowonly-sub', {}], ['svc-high', {}], ['svc-lowonly', { acr_values: LOA_SUBSTANTIAL }]]) {
    const req = await authRequest(cfg[id], { redirectUri: cb(id), extra });
    const r = await new Browser().get(req.url.href);
    assert.equal(r.status, 303, `${id} ${JSON.stringify(extra)}: ${r.status}`);
    const q = redirectParams(r.location);
    assert.equal(q.base, cb(id));
    assert.equal(q.params.error, 'unmet_authentication_requirements', `${id} ${JSON.stringify(extra)}`);
    assert.equal(q.params.state, req.state);
    assert.equal(q.params.iss, hub.issuer);
  }
});

test('acr_values: the lowest known level counts; unknown values are ignored', async () => {
  // high and substantial requested: the lowest, substantial, is met by the sandbox
  assert.deepEqual((await picker('svc-any', { acr_values: `${LOA_HIGH} ${LOA_SUBSTANTIAL}` })).offered, ['sandbox']);
  assert.deepEqual((await picker('svc-any', { acr_values: `urn:example:unknown ${LOA_SUBSTANTIAL}` })).offered, ['sandbox']);
  const low = await picker('svc-any', { acr_values: `${LOA_LOW} ${LOA_HIGH}` });
  assert.deepEqual(low.offered.sort(), ['sandbox', 'sandbox-low']);
});

test('acr is the level the IdP asserted: bob low, alice substantial (even when low was asked)', async () => {
  const bob = await loginAndRedeem(cfg['svc-any'], { redirectUri: cb('svc-any'), persona: 'bob' });
  assert.equal(bob.claims.acr, LOA_LOW);
  const alice = await loginAndRedeem(cfg['svc-any'], { redirectUri: cb('svc-any'), extra: { acr_values: LOA_LOW } });
  assert.equal(alice.claims.acr, LOA_SUBSTANTIAL);
});

test('acr_values substantial and bob (low): refusal page at the callback, no code', async () => {
  const req = await authRequest(cfg['svc-any'], { redirectUri: cb('svc-any'), extra: { acr_values: LOA_SUBSTANTIAL } });
  const j = await login({ authorizeUrl: req.url.href, persona: 'bob', until: 'callback' });
  const r = j.steps.callback;
  assert.ok(r.status >= 400 && r.status < 500 && !r.location, `expected a 4xx page, got ${r.status} ${r.location || ''}`);
  assert.ok(findTags(r.text, ['h1']).length >= 1);
});

test('an IdP capped at low cannot assert more: "other" at high through sandbox-low is not accepted above low', async () => {
  const req = await authRequest(cfg['svc-lowonly'], { redirectUri: cb('svc-lowonly') });
  const j = await login({ authorizeUrl: req.url.href, idp: 'sandbox-low', persona: 'other', username: 'erin', loa: LOA_HIGH, until: 'callback' });
  const r = j.steps.callback;
  if (r.status === 303 && r.location?.startsWith(cb('svc-lowonly'))) {
    const { client } = await import('./lib/rp.mjs');
    const tokens = await client.authorizationCodeGrant(cfg['svc-lowonly'], new URL(r.location), {
      pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true,
    });
    assert.equal(tokens.claims().acr, LOA_LOW, 'the asserted level is capped at the IdP\'s max_loa');
  } else {
    assert.ok(r.status >= 400 && r.status < 500, `refused with a page: ${r.status}`);
  }
});
