// SAML 2.0 Single Logout (issue 11, upstream logout) against SimpleSAMLphp: the hub's SP metadata
// advertises its SingleLogoutService; signing out at the hub sends the browser to the IdP with a
// signed LogoutRequest (HTTP-Redirect) naming the login's NameID and SessionIndex; the IdP's
// LogoutResponse comes back to /idp/<id>/slo, and the hub finishes at the service's
// post_logout_redirect_uri. The IdP's session is then over (its next login asks for the password
// again, where before the logout it did not); a LogoutResponse not bound to our request is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startHub, service, freePort, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { rpConfig, authRequest, client } from './lib/rp.mjs';
import { parseForms } from './lib/browser.mjs';
import { startSimpleSamlIdp, testKeyPair, readRedirect } from './lib/saml-idp.mjs';
import { loginViaSimpleSaml, toIdp } from './lib/saml-journey.mjs';

const L2 = 'urn:uk:gov:cabinet-office:tc:saml:authn-context:level2';
const CB = 'http://127.0.0.1:9/svc-saml/cb';
const OUT = 'http://127.0.0.1:9/svc-saml/signed-out';
let hub, idp, dir, cfg;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idhub-saml-slo-'));
  const sp = await testKeyPair(dir, 'sp', 'idhub test sp');
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  idp = await startSimpleSamlIdp({
    sp: { entityId: `${issuer}/idp/ssp/metadata`, acs: `${issuer}/callback/ssp`, certB64: sp.certB64, slo: `${issuer}/idp/ssp/slo` },
    authnContextClassRef: L2,
  });
  hub = await startHub({
    port,
    idps: [{
      id: 'ssp', adapter: 'saml', display_name: 'SimpleSAMLphp test IdP', max_loa: LOA_SUBSTANTIAL,
      settings: { idp_metadata_url: idp.metadataUrl, sp_key_file: sp.keyFile, sp_cert_file: sp.certFile, authn_contexts: `- ${L2} -` },
    }],
    services: [service('svc-saml', { redirect_uris: [CB], post_logout_redirect_uris: [OUT], min_loa: LOA_SUBSTANTIAL })],
    env: process.env.SAML_DEBUG_LEAKS ? { ASAN_OPTIONS: 'detect_leaks=1:fast_unwind_on_malloc=0:malloc_context_size=30' } : {},
  });
  cfg = await rpConfig(hub, 'svc-saml');
});

after(async () => {
  try { await hub?.stopAndCheck(); } finally {
    await idp?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

async function login() {
  const req = await authRequest(cfg, { redirectUri: CB });
  const j = await loginViaSimpleSaml(req.url.href, 'ssp');
  assert.ok(j.location, `no code: ${hub.logs().slice(-2000)}`);
  const tokens = await client.authorizationCodeGrant(cfg, new URL(j.location), {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true,
  });
  return { ua: j.ua, idToken: tokens.id_token };
}

/** Whether the IdP asks ua for the password on a new login through the hub (no session there). */
async function idpPrompts(ua) {
  const req = await authRequest(cfg, { redirectUri: CB });
  const { idpRedirect } = await toIdp(req.url.href, 'ssp', ua);
  let r = await ua.get(idpRedirect, { initiator: hub.issuer });
  for (let i = 0; i < 6 && r.status >= 300 && r.status < 400; i++) r = await ua.get(r.location, { initiator: r.url });
  if (/name="password"/.test(r.text)) return true;
  assert.match(r.text, /SAMLResponse/, `neither a password page nor an answer: ${r.status} ${r.text.slice(0, 500)}`);
  return false;
}

test('SP metadata advertises the SingleLogoutService (HTTP-POST)', async () => {
  const xml = await (await fetch(`${hub.issuer}/idp/ssp/metadata`)).text();
  assert.match(xml, new RegExp(`<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${hub.issuer}/idp/ssp/slo"/>`));
});

test('logout at the hub reaches SimpleSAMLphp by Single Logout, and the hub completes it', async () => {
  // baseline: without a logout the IdP keeps its session (a new hub login does not prompt there)
  const first = await login();
  first.ua.jar.delete('127.0.0.1', 'idhub_session');
  assert.equal(await idpPrompts(first.ua), false, 'baseline: the IdP prompted although its session was live');

  const { ua, idToken } = await login();
  const u = new URL(`${hub.issuer}/logout`);
  u.search = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: OUT, state: 'st-saml' });
  let r = await ua.get(u.href, { initiator: CB });
  assert.ok(r.location?.startsWith(idp.base), `not sent to the IdP: ${r.status} ${r.location}\n${hub.logs().slice(-2000)}`);
  const lr = readRedirect(r.location);
  assert.match(lr.xml, /<samlp:LogoutRequest|LogoutRequest /);
  assert.match(lr.xml, /alice-ssp-0001|NameID/);
  assert.match(lr.xml, /SessionIndex>[^<]+</);
  assert.equal(lr.sigAlg, 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
  const seen = [];
  let answer = null;
  for (let i = 0; i < 8 && !r.location?.startsWith(OUT); i++) {
    const postForm = r.status === 200 && parseForms(r.text).find((f) => f.fields.some((x) => x.name === 'SAMLResponse'));
    if (postForm) answer = Object.fromEntries(postForm.fields.filter((x) => x.name).map((x) => [x.name, x.value]));
    if (postForm) r = await ua.submitForm(r.text, r.url, {}, { form: (f) => f === postForm || f.action === postForm.action });
    else if (r.location) r = await ua.get(r.location, { initiator: r.url });
    else break;
    seen.push(`${r.method} ${r.status} ${r.url.slice(0, 90)} -> ${(r.location || '').slice(0, 90)}`);
  }
  assert.equal(r.location, `${OUT}?state=st-saml`, `${seen.join('\n')}\n${r.text?.slice(0, 800)}\n${hub.logs().slice(-2000)}\n${idp.logs().slice(-1500)}`);
  assert.ok(seen.some((s) => s.startsWith(`POST 303 ${hub.issuer}/idp/ssp/slo`)), 'the LogoutResponse did not come to the SLO endpoint');
  assert.equal(await idpPrompts(ua), true, 'the IdP session survived the Single Logout');

  // the IdP's genuine, signed answer under another RelayState answers another request: refused
  const other = await fetch(`${hub.issuer}/idp/ssp/slo`, {
    method: 'POST', redirect: 'manual', body: new URLSearchParams({ ...answer, RelayState: answer.RelayState.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }),
  });
  assert.equal(other.status, 400);
  assert.match(hub.logs(), /answers another request/);
});

test('a LogoutResponse that is not the answer to our request is refused', async () => {
  const post = (body) => fetch(`${hub.issuer}/idp/ssp/slo`, { method: 'POST', redirect: 'manual', body: new URLSearchParams(body) });
  for (const body of [{ SAMLResponse: 'AAAA', RelayState: 'x' }, { SAMLResponse: Buffer.from('<x/>').toString('base64'), RelayState: 'x' }, { RelayState: 'x' }]) {
    const r = await post(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.headers.get('location'), null);
  }
  const none = await fetch(`${hub.issuer}/idp/ssp/slo`, { redirect: 'manual' });
  assert.equal(none.status, 400);
});
