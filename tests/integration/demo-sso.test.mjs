// The two demo services (issue 11 item 8), over HTTP: sign in at /demo through the IdP, then /demo2
// signs in without the picker with another sub; signing out at /demo goes through the hub's
// end_session_endpoint and back, and /demo2's session is ended by back-channel logout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, secretHash, DEMO_SECRET } from './lib/hub.mjs';
import { Browser, login } from './lib/browser.mjs';

let hub;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const demoServices = (issuer) => ['demo', 'demo2'].map((id) => ({
  client_id: id, name: id === 'demo' ? 'Demo service' : 'Second demo service', auth_method: 'client_secret_basic',
  secret_hash: secretHash(DEMO_SECRET), redirect_uris: [`${issuer}/${id}/callback`], sector: id, scopes: ['openid', 'profile'],
  id_token_alg: 'ES256', post_logout_redirect_uris: [`${issuer}/${id}`], backchannel_logout_uri: `${issuer}/${id}/backchannel`,
}));

before(async () => {
  hub = await startHub({ hub: { demo: true }, services: (port, issuer) => demoServices(issuer) });
});
after(async () => { await hub?.stopAndCheck(); });

const sub = (html) => /id="claim-sub">([^<]+)</.exec(html)?.[1];

/** Signs in at /<id>: through the journey when the hub asks, else at once. Returns the demo page. */
async function signIn(ua, id) {
  const start = await ua.get(`${hub.issuer}/${id}/login`);
  assert.equal(start.status, 303);
  const a = await ua.get(start.location, { initiator: `${hub.issuer}/${id}` });
  let cb;
  if (a.location.startsWith(`${hub.issuer}/${id}/callback`)) cb = a.location;
  else cb = (await login({ authorizeUrl: start.location, browser: ua })).location;
  const done = await ua.get(cb, { initiator: hub.issuer });
  assert.equal(done.status, 303, done.text);
  return { page: await ua.get(`${hub.issuer}/${id}`), picker: !a.location.startsWith(`${hub.issuer}/${id}/callback`) };
}

test('single sign-on across the demo services, different subs, sign-out reaches the other', async () => {
  const ua = new Browser();
  const one = await signIn(ua, 'demo');
  assert.ok(one.picker, 'the first service goes through the picker');
  assert.match(one.page.text, /You are signed in to the Demo service/);
  const two = await signIn(ua, 'demo2');
  assert.equal(two.picker, false, 'the second signs in without a prompt');
  assert.match(two.page.text, /You are signed in to the Second demo service/);
  assert.ok(sub(one.page.text) && sub(two.page.text) && sub(one.page.text) !== sub(two.page.text), 'another sector, another sub');

  const out = await ua.get(`${hub.issuer}/demo/logout`);
  assert.match(out.location, /\/logout\?id_token_hint=/);
  const hubOut = await ua.get(out.location, { initiator: `${hub.issuer}/demo` });
  assert.equal(hubOut.status, 303, hubOut.text);
  assert.equal(hubOut.location, `${hub.issuer}/demo`);
  assert.doesNotMatch((await ua.get(`${hub.issuer}/demo`)).text, /You are signed in/);
  let other = '';
  for (let i = 0; i < 50; i++) {
    other = (await ua.get(`${hub.issuer}/demo2`)).text;
    if (!/You are signed in/.test(other)) break;
    await sleep(100);
  }
  assert.doesNotMatch(other, /You are signed in/, 'the back-channel logout ended /demo2\'s session');
});

test('the demo back-channel receiver refuses a token that is not a logout token', async () => {
  const post = (body) => fetch(`${hub.issuer}/demo2/backchannel`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
  assert.equal((await post('logout_token=x.y.z')).status, 400);
  assert.equal((await post('')).status, 400);
});
