// known-journeys.mjs — a fixed set of logins, cancellations and failures through a test hub, with
// the funnel figures it must produce (the metrics and the transparency report tests count them).
import assert from 'node:assert/strict';
import { service, LOA_SUBSTANTIAL } from './hub.mjs';
import { Browser, login, parseForms } from './browser.mjs';
import { rpConfig, authRequest, loginAndRedeem, getCode, tokenRequest } from './rp.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;

/** The services the set runs against: svc-a (any level) and svc-sub (substantial). */
export const knownServices = () => [
  service('svc-a', { redirect_uris: [cb('svc-a')] }),
  service('svc-sub', { redirect_uris: [cb('svc-sub')], min_loa: LOA_SUBSTANTIAL }),
];

/**
 * Runs, in order: alice signs in to svc-a 3 times (new, then returning), bob once (new, level 1);
 * alice once more, and that code is redeemed twice (a replay); one citizen cancels at the sandbox
 * and one at the picker (svc-a); bob tries svc-sub and his level is too low.
 */
export async function runKnownJourneys(hub) {
  const a = await rpConfig(hub, 'svc-a');
  const sub = await rpConfig(hub, 'svc-sub');
  for (let i = 0; i < 3; i++) await loginAndRedeem(a, { redirectUri: cb('svc-a'), persona: 'alice' });
  await loginAndRedeem(a, { redirectUri: cb('svc-a'), persona: 'bob' });
  const { code, req } = await getCode(a, { redirectUri: cb('svc-a'), persona: 'alice' });
  const params = { grant_type: 'authorization_code', code, redirect_uri: cb('svc-a'), code_verifier: req.verifier };
  const basic = ['svc-a', 'svc-a-secret'];
  assert.equal((await tokenRequest(hub, params, { basic })).status, 200);
  assert.equal((await tokenRequest(hub, params, { basic })).status, 400, 'the replayed code is refused');

  const cancelAtIdp = await login({ authorizeUrl: (await authRequest(a, { redirectUri: cb('svc-a') })).url.href,
    browser: new Browser(), until: 'callback', action: 'cancel' });
  assert.ok(cancelAtIdp.last.status >= 400, 'the sandbox cancel ends on a refusal page');

  const ua = new Browser();
  const atPicker = await login({ authorizeUrl: (await authRequest(a, { redirectUri: cb('svc-a') })).url.href,
    browser: ua, until: 'picker' });
  // cancelling is a state change: the picker's POST form (a GET only goes back to the picker)
  const pk = atPicker.steps.picker;
  const fi = parseForms(pk.text).findIndex((f) => new URL(f.action, pk.url).pathname === `/login/${atPicker.journeyId}/cancel`);
  assert.ok(fi >= 0, 'the picker has a cancel form');
  const c = await ua.submitForm(pk.text, pk.url, {}, { formIndex: fi });
  assert.ok(c.status === 302 || c.status === 303, `the picker cancel returns to the service: ${c.status}`);
  assert.match(c.location, /error=access_denied/);

  const low = await login({ authorizeUrl: (await authRequest(sub, { redirectUri: cb('svc-sub') })).url.href,
    browser: new Browser(), persona: 'bob', until: 'callback' });
  assert.equal(low.last.status, 403, 'bob is refused by svc-sub: level too low');
}

/** What runKnownJourneys counts (the funnel per IdP and service). */
export const EXPECTED = {
  started: { 'svc-a': 7, 'svc-sub': 1 },
  chosen: { 'svc-a': 6, 'svc-sub': 1 }, // every journey but the picker cancel
  succeeded: { 'svc-a': 5, 'svc-sub': 0 },
  failed: [
    { idp: 'sandbox', service: 'svc-a', reason: 'cancelled', n: 1 },
    { idp: 'none', service: 'svc-a', reason: 'cancelled', n: 1 },
    { idp: 'sandbox', service: 'svc-sub', reason: 'level_too_low', n: 1 },
  ],
  codes: { issued: 5, redeemed: 5, replayed: 1 },
  tokens: { id_token: 5, access_token: 5 },
  signins: { 'svc-a': { new: 2, returning: 3, levels: { 1: 1, 2: 4 } } },
};
