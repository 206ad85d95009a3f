// saml.test.mjs — the SAML adapter against a real SAML 2.0 IdP: SimpleSAMLphp (Debian's package) on
// loopback, another site than the hub (localhost vs 127.0.0.1), signing and encrypting assertions.
// A service logs in with openid-client through the hub to that IdP and back; the SP metadata, the
// signed AuthnRequest and its RequestedAuthnContext are checked; a replayed response is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startHub, service, freePort, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { rpConfig, authRequest, verifyIdToken, client } from './lib/rp.mjs';
import { startSimpleSamlIdp, testKeyPair, readRedirect } from './lib/saml-idp.mjs';
import { loginViaSimpleSaml, postToAcs } from './lib/saml-journey.mjs';
import { Browser } from './lib/browser.mjs';

const VERIFY_L1 = 'urn:uk:gov:cabinet-office:tc:saml:authn-context:level1';
const VERIFY_L2 = 'urn:uk:gov:cabinet-office:tc:saml:authn-context:level2';
const cb = 'http://127.0.0.1:9/svc-saml/cb';
let hub, idp, dir, cfg;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idhub-saml-'));
  const sp = await testKeyPair(dir, 'sp', 'idhub test sp');
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  idp = await startSimpleSamlIdp({
    sp: { entityId: `${issuer}/idp/ssp/metadata`, acs: `${issuer}/callback/ssp`, certB64: sp.certB64 },
    authnContextClassRef: VERIFY_L2,
    encryptAssertion: true,
  });
  hub = await startHub({
    port,
    idps: [{
      id: 'ssp', adapter: 'saml', display_name: 'SimpleSAMLphp test IdP', max_loa: LOA_SUBSTANTIAL,
      settings: {
        idp_metadata_url: idp.metadataUrl,
        sp_key_file: sp.keyFile, sp_cert_file: sp.certFile,
        authn_contexts: `${VERIFY_L1} ${VERIFY_L2} -`,
        attribute_map: 'given_name=givenName family_name=sn email=mail',
      },
    }],
    services: [service('svc-saml', { redirect_uris: [cb], scopes: ['openid', 'profile', 'email'], min_loa: LOA_SUBSTANTIAL })],
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

test('SP metadata is published with our entityID, ACS and certificate', async () => {
  const r = await fetch(`${hub.issuer}/idp/ssp/metadata`);
  assert.equal(r.status, 200);
  const xml = await r.text();
  assert.match(xml, new RegExp(`entityID="${hub.issuer}/idp/ssp/metadata"`));
  assert.match(xml, new RegExp(`Location="${hub.issuer}/callback/ssp"`));
  assert.match(xml, /use="signing"/);
  assert.match(xml, /use="encryption"/);
  assert.match(xml, /AuthnRequestsSigned="true"/);
});

test('a service logs in through the hub at SimpleSAMLphp (signed, encrypted assertion)', async () => {
  const req = await authRequest(cfg, { redirectUri: cb, scope: 'openid profile email' });
  const j = await loginViaSimpleSaml(req.url.href, 'ssp');
  assert.ok(j.location, `no redirect to the service: ${j.steps.callback.status} ${j.steps.callback.text.slice(0, 800)}\n${hub.logs().slice(-3000)}`);
  // the AuthnRequest: HTTP-Redirect, signed with RSA-SHA256, asking for the Verify level 2 context
  const ar = readRedirect(j.steps.authnRequestUrl);
  assert.equal(ar.sigAlg, 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
  assert.ok(ar.signature);
  assert.match(ar.xml, new RegExp(VERIFY_L2.replace(/[.]/g, '\\.')));
  assert.match(ar.xml, /Comparison="minimum"/);
  assert.equal(ar.relayState.length, 43);
  const tokens = await client.authorizationCodeGrant(cfg, new URL(j.location), {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true,
  });
  const { payload } = await verifyIdToken(hub, tokens.id_token, 'svc-saml');
  assert.equal(payload.acr, LOA_SUBSTANTIAL, 'Verify level 2 maps to eIDAS substantial');
  assert.ok(payload.sub);
  const ui = await client.fetchUserInfo(cfg, tokens.access_token, payload.sub);
  assert.equal(ui.given_name, 'Alice');
  assert.equal(ui.family_name, 'Smith');

  // the same SAMLResponse posted again, on a new journey: refused, no code
  const req2 = await authRequest(cfg, { redirectUri: cb });
  const ua = new Browser();
  const a = await ua.get(req2.url.href, { initiator: cb });
  const p = await ua.get(a.location, { initiator: cb });
  const pp = await ua.submitForm(p.text, p.url, { idp: 'ssp' }, { form: (f) => f.fields.some((x) => x.name === 'idp') });
  const rs = readRedirect(pp.location).relayState;
  const again = await postToAcs(ua, j.steps.acs, { SAMLResponse: j.steps.samlResponse, RelayState: rs }, idp.base);
  assert.ok(again.status >= 400 && again.status < 500, `replay answered ${again.status}`);
  assert.ok(!again.location, 'no redirect');
  assert.match(hub.logs(), /saml ssp: response refused: (InResponseTo|assertion replayed)/);
});
