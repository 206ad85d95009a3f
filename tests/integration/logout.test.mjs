// Logout (issue 11 item 6): RP-Initiated Logout 1.0 (tied by id_token_hint, else a confirmation;
// post_logout_redirect_uri exact match only, with state), Back-Channel Logout 1.0 logout tokens to
// every other service of the session through the durable queue (retried, then given up, audited,
// listed by idhubctl), refresh tokens revoked, the citizen's own "sign out of all services".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startHub, service, freePort } from './lib/hub.mjs';
import { Browser, parseForms, formData } from './lib/browser.mjs';
import { rpConfig, authRequest, loginAndRedeem, client, tokenRequest, jose, remoteJwks } from './lib/rp.mjs';
import { ctl } from './lib/ctl.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
const out = (id) => `http://127.0.0.1:9/${id}/signed-out`;
let hub;
let receiver;
const received = [];
const cfg = {};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      received.push({ path: req.url, type: req.headers['content-type'], token: new URLSearchParams(body).get('logout_token') });
      res.writeHead(200, { 'cache-control': 'no-store' });
      res.end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const bc = (p) => `http://127.0.0.1:${receiver.address().port}/${p}`;
  const down = `http://127.0.0.1:${await freePort()}/bc`; // nothing listens there
  hub = await startHub({
    hub: { backchannel_attempts: 2, backchannel_retry_base: 1 },
    services: [
      service('svc-a', { sector: 'sector-a', redirect_uris: [cb('svc-a')], post_logout_redirect_uris: [out('svc-a')], backchannel_logout_uri: bc('a') }),
      service('svc-b', { sector: 'sector-b', redirect_uris: [cb('svc-b')], backchannel_logout_uri: bc('b'), refresh_tokens: true }),
      service('svc-down', { sector: 'sector-c', redirect_uris: [cb('svc-down')], backchannel_logout_uri: down }),
    ],
  });
  for (const id of ['svc-a', 'svc-b', 'svc-down']) cfg[id] = await rpConfig(hub, id);
});
after(async () => {
  await hub?.stopAndCheck();
  await new Promise((r) => receiver?.close(r));
});

/** Signs ua in to svc-a through the IdP, then to svc-b (and more) by single sign-on. */
async function signedIn(more = ['svc-b']) {
  const ua = new Browser();
  const a = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a'), browser: ua });
  const others = {};
  for (const id of more) others[id] = await loginAndRedeem(cfg[id], { redirectUri: cb(id), browser: ua });
  return { ua, a, others };
}

async function waitFor(pred, ms = 8000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (await pred()) return true;
  return false;
}

async function noneAt(ua, id) {
  const req = await authRequest(cfg[id], { redirectUri: cb(id), extra: { prompt: 'none' } });
  const res = await ua.get(req.url.href);
  return new URL(res.location).searchParams.get('error') ?? 'code';
}

test('RP-initiated logout tied by id_token_hint: redirect with state, back-channel to the others, refresh revoked', async () => {
  const { ua, a, others } = await signedIn();
  assert.equal(others['svc-b'].journey.steps.picker, undefined, 'svc-b signed in by single sign-on');
  const before = received.length;
  const u = new URL(`${hub.issuer}/logout`);
  u.search = new URLSearchParams({ id_token_hint: a.tokens.id_token, post_logout_redirect_uri: out('svc-a'), state: 'st-1' });
  const res = await ua.get(u.href);
  assert.equal(res.status, 303, res.text);
  assert.equal(res.location, `${out('svc-a')}?state=st-1`);
  assert.equal(await noneAt(ua, 'svc-a'), 'login_required', 'the session is gone');

  const got2 = () => ['/a', '/b'].every((p) => received.slice(before).some((x) => x.path === p));
  assert.ok(await waitFor(got2), 'svc-a and svc-b got a logout token');
  const got = received.slice(before).find((x) => x.path === '/b');
  assert.match(got.type, /application\/x-www-form-urlencoded/);
  const { payload, protectedHeader } = await jose.jwtVerify(got.token, remoteJwks(hub), { issuer: hub.issuer, audience: 'svc-b', typ: 'logout+jwt' });
  assert.equal(protectedHeader.typ, 'logout+jwt');
  assert.equal(payload.sub, others['svc-b'].claims.sub);
  assert.equal(payload.sid, others['svc-b'].claims.sid);
  assert.deepEqual(payload.events, { 'http://schemas.openid.net/event/backchannel-logout': {} });
  assert.ok(payload.jti && payload.iat && payload.exp > payload.iat);
  assert.equal(payload.nonce, undefined);

  const r = await tokenRequest(hub, { grant_type: 'refresh_token', refresh_token: others['svc-b'].tokens.refresh_token }, { basic: ['svc-b', 'svc-b-secret'] });
  assert.equal(r.json?.error, 'invalid_grant', 'the session\'s refresh tokens are revoked');

  // replayed: nothing left to end, no new logout token, the same outcome
  const n = received.length;
  const again = await ua.get(u.href);
  assert.equal(again.status, 303);
  await sleep(300);
  assert.equal(received.length, n, 'a replayed logout sends nothing');
});

test('an unregistered post_logout_redirect_uri is never followed', async () => {
  const { ua, a } = await signedIn([]);
  const u = new URL(`${hub.issuer}/logout`);
  u.search = new URLSearchParams({ id_token_hint: a.tokens.id_token, post_logout_redirect_uri: 'https://evil.example/', state: 'x' });
  const res = await ua.get(u.href);
  assert.equal(res.status, 200);
  assert.equal(res.location, null);
  assert.match(res.text, /You have signed out/);
});

test('a logout that cannot be tied to the session asks the citizen, and needs the form\'s token', async () => {
  const { ua, a } = await signedIn([]);
  const bob = await loginAndRedeem(cfg['svc-a'], { redirectUri: cb('svc-a'), persona: 'bob' });
  for (const params of [{ client_id: 'svc-a' }, { id_token_hint: bob.tokens.id_token }, { id_token_hint: 'x.y.z' }]) {
    const u = new URL(`${hub.issuer}/logout`);
    u.search = new URLSearchParams(params);
    const res = await ua.get(u.href);
    assert.equal(res.status, 200);
    assert.match(res.text, /Do you want to sign out\?/);
  }
  assert.equal(await noneAt(ua, 'svc-a'), 'code', 'still signed in');
  const page = await ua.get(`${hub.issuer}/logout?client_id=svc-a`);
  const form = parseForms(page.text).find((f) => f.action === '/logout');
  const forged = await ua.post(`${hub.issuer}/logout`, { client_id: 'svc-a', confirm: 'yes', csrf: 'A'.repeat(43) }, { initiator: `${hub.issuer}/logout` });
  assert.match(forged.text, /Do you want to sign out\?/, 'a forged confirmation is not one');
  assert.equal(await noneAt(ua, 'svc-a'), 'code');
  const ok = await ua.post(`${hub.issuer}/logout`, new URLSearchParams(formData(form)), { initiator: page.url });
  assert.equal(ok.status, 200);
  assert.match(ok.text, /You have signed out/);
  assert.equal(await noneAt(ua, 'svc-a'), 'login_required');
  void a;
});

test('the signed-in page and "sign out of all services" (POST with the CSRF token)', async () => {
  const { ua } = await signedIn();
  const page = await ua.get(`${hub.issuer}/session`);
  assert.equal(page.status, 200);
  assert.match(page.text, /You are signed in/);
  assert.match(page.text, /Service svc-b/);
  const form = parseForms(page.text).find((f) => f.action === '/session/end');
  assert.ok(form, 'the sign-out form');
  const bad = await ua.post(`${hub.issuer}/session/end`, { csrf: 'nope' }, { initiator: page.url });
  assert.equal(bad.status, 400);
  assert.equal(await noneAt(ua, 'svc-b'), 'code');
  const done = await ua.post(`${hub.issuer}/session/end`, new URLSearchParams(formData(form)), { initiator: page.url });
  assert.equal(done.status, 200);
  assert.ok(done.setCookies.some((c) => /^idhub_session=;.*Max-Age=0/.test(c)), 'cookie cleared');
  assert.equal(await noneAt(ua, 'svc-b'), 'login_required');
  assert.match((await new Browser().get(`${hub.issuer}/session`)).text, /You are not signed in/);
});

test('a back-channel endpoint that is down: retried, given up, audited, listed by idhubctl', async () => {
  const { ua } = await signedIn(['svc-down']);
  const page = await ua.get(`${hub.issuer}/session`);
  const form = parseForms(page.text).find((f) => f.action === '/session/end');
  await ua.post(`${hub.issuer}/session/end`, new URLSearchParams(formData(form)), { initiator: page.url });
  const failed = async () => {
    const l = await ctl(hub, ['logout-deliveries', '--state', 'failed'], { json: true });
    return l.json?.find((d) => d.cid === 'svc-down');
  };
  if (!(await waitFor(failed, 15000))) console.log('HUBLOG', hub.logs().split('\n').filter((l) => /logout|session/.test(l)).join('\n'));
  assert.ok(await failed(), 'given up after its attempts');
  const d = await failed();
  assert.equal(d.attempts, 2);
  assert.equal(d.state, 'failed');
  const delivered = await ctl(hub, ['logout-deliveries', '--state', 'delivered'], { json: true });
  assert.ok(delivered.json.some((x) => x.cid === 'svc-a'), 'svc-a (signed out from the hub page) got its logout');
  const audit = await ctl(hub, ['audit'], { json: true });
  const text = JSON.stringify(audit.json);
  assert.match(text, /backchannel_logout\.failed/);
  assert.match(text, /backchannel_logout\.delivered/);
  const plain = await ctl(hub, ['logout-deliveries']);
  assert.equal(plain.status, 0);
  assert.match(plain.stdout, /svc-down\s+failed/);
});
