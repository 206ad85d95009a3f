// Issue 11's last two gaps. login_hint: a service's hint reaches the upstream IdP (oidc-provider sees
// it in the authorization request) and prefills the sandbox's user name. Upstream logout: signing
// out at the hub (RP-initiated logout, and the citizen's own "sign out of all services") sends the
// browser through the upstream OP's end_session_endpoint with id_token_hint, and back through the
// hub to the service's post_logout_redirect_uri; the OP's session is then over (the next login
// there prompts again), where without the logout it would not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, freePort, sandboxIdp, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { rpConfig, authRequest, client } from './lib/rp.mjs';
import { Browser, login, parseForms } from './lib/browser.mjs';
import { startUpstreamOp, upstreamLogin } from './lib/upstream-op.mjs';

const CB = 'http://127.0.0.1:9/svc/cb';
const OUT = 'http://127.0.0.1:9/svc/signed-out';
let hub;
let op;
let cfg;

before(async () => {
  const port = await freePort();
  const hubIssuer = `http://127.0.0.1:${port}`;
  op = await startUpstreamOp({
    clients: [{
      client_id: 'idhub', client_secret: 'upstream-secret-1', redirect_uris: [`${hubIssuer}/callback/bank`],
      post_logout_redirect_uris: [`${hubIssuer}/logout/upstream`],
      token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'], response_types: ['code'],
    }, {
      client_id: 'idhub-nolo', client_secret: 'upstream-secret-2', redirect_uris: [`${hubIssuer}/callback/bank_nolo`],
      token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'], response_types: ['code'],
    }],
  });
  hub = await startHub({
    port,
    idps: [
      sandboxIdp(port),
      { id: 'bank', adapter: 'oidc', display_name: 'Bank (OIDC)', max_loa: LOA_SUBSTANTIAL,
        settings: { issuer: op.issuer, acr_map: `urn:bank:loa2=${LOA_SUBSTANTIAL}`, timeout: 5, client_id: 'idhub', client_secret: 'upstream-secret-1' } },
      { id: 'bank_nolo', adapter: 'oidc', display_name: 'Bank (no upstream logout)', max_loa: LOA_SUBSTANTIAL,
        settings: { issuer: op.issuer, acr_map: `urn:bank:loa2=${LOA_SUBSTANTIAL}`, timeout: 5, client_id: 'idhub-nolo', client_secret: 'upstream-secret-2', upstream_logout: false } },
    ],
    services: [service('svc', { redirect_uris: [CB], post_logout_redirect_uris: [OUT] })],
  });
  cfg = await rpConfig(hub, 'svc');
});

after(async () => {
  await op?.stop();
  await hub?.stopAndCheck();
});

/** A login at the bank through the hub in browser ua; returns the hub's ID token for the service. */
async function bankLogin(ua, extra, idp = 'bank') {
  const req = await authRequest(cfg, { redirectUri: CB, extra });
  const j = await upstreamLogin({ authorizeUrl: req.url.href, idp, browser: ua });
  assert.ok(j.params?.code, `no code: ${j.final.status} ${j.final.location || ''}\n${hub.logs().slice(-1500)}`);
  const tokens = await client.authorizationCodeGrant(cfg, new URL(j.location), {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true,
  });
  return tokens.id_token;
}

/** Follows redirects from res in ua (bounded); answers the OP's logout confirmation with yes. */
async function follow(ua, res, stopAt) {
  const seen = [res];
  for (let i = 0; i < 12; i++) {
    if (res.location && stopAt(res.location)) break;
    if (res.status >= 300 && res.status < 400 && res.location) res = await ua.get(res.location, { initiator: res.url });
    else if (res.status === 200 && /op\.logoutForm/.test(res.text)) res = await ua.submitForm(res.text, res.url, { logout: 'yes' });
    else break;
    seen.push(res);
  }
  return { res, seen };
}

test('login_hint reaches the upstream OP', async () => {
  await bankLogin(new Browser(), { login_hint: 'alice@bank.example' });
  assert.equal(op.lastInteraction?.login_hint, 'alice@bank.example');
  await bankLogin(new Browser());
  assert.equal(op.lastInteraction?.login_hint, undefined, 'no hint sent when the service gave none');
});

test('login_hint prefills the sandbox user name', async () => {
  const field = async (extra) => {
    const req = await authRequest(cfg, { redirectUri: CB, extra });
    const j = await login({ authorizeUrl: req.url.href, until: 'sandbox' });
    const fields = parseForms(j.steps.sandbox.text).flatMap((f) => f.fields);
    return { user: fields.find((f) => f.name === 'username'), html: j.steps.sandbox.text };
  };
  const hinted = await field({ login_hint: 'carol<x>' });
  assert.equal(hinted.user.value, 'carol<x>');
  assert.match(hinted.html, /value="carol&lt;x&gt;"/, 'the hint is escaped');
  assert.match(hinted.html, /id="persona-other"[^>]*checked/, '"another test user" is chosen');
  const plain = await field({});
  assert.ok(!plain.user.value, 'no prefill without a hint');
});

test('RP-initiated logout at the hub ends the session at the upstream OP too', async () => {
  const ua = new Browser();
  await bankLogin(ua);
  // baseline: the OP keeps its own session, so a new hub login (hub cookie gone) does not prompt
  ua.jar.delete('127.0.0.1', 'idhub_session');
  const prompts = op.interactions;
  const idToken = await bankLogin(ua);
  assert.equal(op.interactions, prompts, 'the OP prompted although its session was live');

  const u = new URL(`${hub.issuer}/logout`);
  u.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: OUT, state: 'st-1' });
  const start = await ua.get(u.href, { initiator: CB });
  assert.ok(start.location?.startsWith(`${op.issuer}/session/end`), `not sent to the OP's end_session: ${start.status} ${start.location}\n${hub.logs().slice(-1500)}`);
  const q = new URL(start.location).searchParams;
  assert.ok(q.get('id_token_hint'), 'no id_token_hint for the OP');
  assert.equal(q.get('post_logout_redirect_uri'), `${hub.issuer}/logout/upstream`);
  const { res, seen } = await follow(ua, start, (l) => l.startsWith(OUT));
  assert.equal(res.location, `${OUT}?state=st-1`, seen.map((s) => `${s.status} ${s.url} -> ${s.location}`).join('\n'));
  assert.ok(seen.some((s) => s.url.startsWith(`${hub.issuer}/logout/upstream?`)), 'not back through the hub');

  // the OP's session is over: the next login there prompts again
  await bankLogin(ua);
  assert.equal(op.interactions, prompts + 1, 'the OP did not prompt after the logout');
});

test('upstream_logout = false: the hub signs out alone', async () => {
  const ua = new Browser();
  const idToken = await bankLogin(ua, undefined, 'bank_nolo');
  const u = new URL(`${hub.issuer}/logout`);
  u.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: OUT, state: 'st-2' });
  const r = await ua.get(u.href, { initiator: CB });
  assert.equal(r.location, `${OUT}?state=st-2`);
});

test("the citizen's own sign-out reaches the OP; a forged return state gets no redirect", async () => {
  const ua = new Browser();
  await bankLogin(ua);
  const page = await ua.get(`${hub.issuer}/session`);
  const res = await ua.submitForm(page.text, page.url);
  assert.ok(res.location?.startsWith(`${op.issuer}/session/end`), `${res.status} ${res.location}`);
  const { res: last } = await follow(ua, res, () => false);
  assert.equal(last.status, 200);
  assert.match(last.url, /\/logout\/upstream\?/);
  assert.match(last.text, /You have signed out/);
  const prompts = op.interactions;
  await bankLogin(ua);
  assert.equal(op.interactions, prompts + 1, 'the OP did not prompt after the logout');

  const forged = await ua.get(`${hub.issuer}/logout/upstream?state=${encodeURIComponent('eyJ1IjoiaHR0cDovL2V2aWwifQ.' + 'A'.repeat(43))}`);
  assert.equal(forged.status, 200);
  assert.equal(forged.location, null, 'a forged state redirected');
});
