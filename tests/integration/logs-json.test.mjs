// hub.log_format = "json": every line the daemon writes is one JSON object; each request's lines
// carry its request_id, which is also its X-Request-Id response header (the hub's own, never the
// client's); the lines of one login, to the code redemption, carry one journey_id; and no line
// carries the code, a token, the sealed journey token or its store key, the client secret or the
// upstream subject.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startHub, service } from './lib/hub.mjs';
import { Browser } from './lib/browser.mjs';
import { rpConfig, loginAndRedeem } from './lib/rp.mjs';

const cb = 'http://127.0.0.1:9/svc-logs/cb';
let hub;
let cfg;

before(async () => {
  hub = await startHub({
    hub: { log_format: 'json', log_level: 'debug' },
    services: [service('svc-logs', { redirect_uris: [cb] })],
  });
  cfg = await rpConfig(hub, 'svc-logs');
});
after(async () => { await hub?.stopAndCheck(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Every line of the log so far, parsed; waits (bounded) until pred holds over them. */
async function lines(pred = () => true) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const text = hub.logs();
    const out = text.split('\n').filter((l) => l.length).map((l) => {
      try { return JSON.parse(l); } catch { throw new Error(`a log line is not JSON: ${l}`); }
    });
    if (pred(out) || Date.now() > deadline) return out;
    await sleep(20);
  }
}

const ID = /^[A-Za-z0-9_-]{16}$/;

test('json logs: request ids on every request line, one journey id per login, no secrets', async () => {
  const browser = new Browser();
  const { journey, tokens, req } = await loginAndRedeem(cfg, { redirectUri: cb, browser });
  const hubResponses = browser.history.filter((r) => new URL(r.url).port === String(hub.port));
  assert.ok(hubResponses.length >= 5, `the login went through the hub (${hubResponses.length} responses)`);
  const rids = hubResponses.map((r) => r.headers.get('x-request-id'));
  for (const id of rids) assert.match(String(id), ID, 'every response carries an X-Request-Id');
  assert.equal(new Set(rids).size, rids.length, 'a fresh request id per request');

  const all = await lines((ls) => rids.every((id) => ls.some((l) => l.request_id === id && l.msg === 'http: request'))
    && ls.some((l) => l.msg === 'http: request' && l.path === '/token'));
  for (const l of all) {
    assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, JSON.stringify(l));
    assert.ok(['error', 'warning', 'notice', 'info', 'debug'].includes(l.level), JSON.stringify(l));
    assert.equal(typeof l.msg, 'string');
  }

  // each hub response has its access line, under the same request id, with its status
  hubResponses.forEach((r, i) => {
    const access = all.filter((l) => l.request_id === rids[i] && l.msg === 'http: request');
    assert.equal(access.length, 1, `one access line for ${r.method} ${r.url}`);
    assert.equal(access[0].status, r.status);
    assert.equal(access[0].method, r.method);
  });
  const token = all.filter((l) => l.msg === 'http: request' && l.path === '/token');
  assert.equal(token.length, 1);
  assert.match(token[0].request_id, ID, 'the back-channel /token request has its id too');

  // one journey id over the login: on authorize, the picker, the choice and the callback
  const steps = ['authorize', 'picker', 'pickerPost', 'callback'].map((s) => journey.steps[s]);
  const jids = steps.map((s) => {
    const i = hubResponses.indexOf(s);
    assert.ok(i >= 0);
    const l = all.find((x) => x.request_id === rids[i] && x.msg === 'http: request');
    return l.journey_id;
  });
  assert.match(String(jids[0]), /^[A-Za-z0-9_-]{16}$/, 'the authorize line names the journey');
  assert.deepEqual(new Set(jids), new Set([jids[0]]), 'the same journey id on every step');
  const signedIn = all.filter((l) => /^journey: .* signed in to svc-logs/.test(l.msg));
  assert.equal(signedIn.length, 1);
  assert.equal(signedIn[0].journey_id, jids[0], 'the sign-in line carries the journey id');
  assert.equal(signedIn[0].request_id, rids[hubResponses.indexOf(journey.steps.callback)]);
  assert.equal(token[0].journey_id, jids[0], 'the code redemption (/token) joins the login too');
  assert.notEqual(token[0].request_id, signedIn[0].request_id);
  // lines outside any request carry neither id
  const startup = all.find((l) => /listening on/.test(l.msg));
  assert.ok(startup && !('request_id' in startup) && !('journey_id' in startup));

  // nothing secret: the code, the tokens, the sealed journey token and its key, the PKCE verifier,
  // the client secret, the upstream subject
  const text = hub.logs();
  const sealed = journey.journeyId;
  const key = createHash('sha256').update(sealed).digest('base64url');
  const secrets = { code: journey.params.code, access_token: tokens.access_token, id_token: tokens.id_token,
    sealed_journey_token: sealed, journey_key: key, code_verifier: req.verifier,
    client_secret: 'svc-logs-secret', upstream_subject: 'sandbox-alice' };
  for (const [what, v] of Object.entries(secrets)) {
    assert.ok(v && v.length > 8, what);
    assert.ok(!text.includes(v), `the log carries the ${what}`);
  }
  assert.ok(all.some((l) => l.path === '/login/*'), 'the journey token is masked in access paths');
});

test('a client-supplied X-Request-Id is never the request id; a well-formed one is logged beside it', async () => {
  const r1 = await fetch(`${hub.issuer}/healthz`, { headers: { 'x-request-id': 'front-1234.abc_DEF' } });
  await r1.text();
  const mine = r1.headers.get('x-request-id');
  assert.match(mine, ID);
  assert.notEqual(mine, 'front-1234.abc_DEF');
  const bad = 'x"}{\\u0000,"level":"error';
  const r2 = await fetch(`${hub.issuer}/healthz`, { headers: { 'x-request-id': bad } });
  await r2.text();
  const id2 = r2.headers.get('x-request-id');
  const all = await lines((ls) => [mine, id2].every((id) => ls.some((l) => l.request_id === id)));
  const l1 = all.find((l) => l.request_id === mine);
  assert.equal(l1.front_request_id, 'front-1234.abc_DEF');
  const l2 = all.find((l) => l.request_id === id2);
  assert.ok(l2 && !('front_request_id' in l2), 'a malformed front id is not logged');
  assert.ok(!hub.logs().includes(bad));
});
