// saml-attacks.test.mjs — the SAML adapter's negative suite. A node IdP (lib/saml-forge.mjs, signing
// with xml-crypto) answers real journeys through the hub; every tampered, re-signed or malformed
// Response must be refused with a 4xx page, a clear reason in the log, and no code for the service.
// A correctly signed Response is accepted first, so each refusal is for the reason under test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startHub, service, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { rpConfig, authRequest } from './lib/rp.mjs';
import { testKeyPair, readRedirect } from './lib/saml-idp.mjs';
import { toIdp, postToAcs } from './lib/saml-journey.mjs';
import { idpMetadata, responseXml, sign, wrap, b64, newId } from './lib/saml-forge.mjs';

const IDP = 'https://forged-idp.test/idp';
const cb = 'http://127.0.0.1:9/svc-x/cb';
const OTHER_SITE = 'http://localhost:1/'; // the IdP's page: a cross-site POST, as a real IdP's
let hub, dir, keys, evil, cfg;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idhub-saml-x-'));
  keys = await testKeyPair(dir, 'idp', 'forged idp (test key)');
  evil = await testKeyPair(dir, 'evil', 'untrusted (test key)');
  const md = path.join(dir, 'idp-metadata.xml');
  await writeFile(md, idpMetadata(IDP, keys.certB64));
  hub = await startHub({
    idps: [{
      id: 'forged', adapter: 'saml', display_name: 'Node test IdP', max_loa: LOA_SUBSTANTIAL,
      settings: { idp_metadata_file: md, max_response_size: 65536 },
    }],
    services: [service('svc-x', { redirect_uris: [cb] })],
  });
  cfg = await rpConfig(hub, 'svc-x');
});

after(async () => {
  try { await hub?.stopAndCheck(); } finally { await rm(dir, { recursive: true, force: true }); }
});

/** A fresh journey to the forged IdP: {ua, irt, relayState, base (the Response's fields)}. */
async function journey(extra = {}) {
  const req = await authRequest(cfg, { redirectUri: cb, extra });
  const { ua, idpRedirect } = await toIdp(req.url.href, 'forged');
  const ar = readRedirect(idpRedirect);
  assert.ok(ar.signature, 'the AuthnRequest is signed');
  return {
    ua, relayState: ar.relayState, irt: ar.id, authnRequest: ar.xml,
    base: { issuer: IDP, acs: `${hub.issuer}/callback/forged`, audience: `${hub.issuer}/idp/forged/metadata`, irt: ar.id, classRef: LOA_SUBSTANTIAL },
  };
}

async function post(j, samlResponse) {
  return postToAcs(j.ua, `${hub.issuer}/callback/forged`, { SAMLResponse: samlResponse, RelayState: j.relayState }, OTHER_SITE);
}

async function refused(j, samlResponse, why) {
  const before = hub.logs().length;
  const r = await post(j, samlResponse);
  assert.ok(r.status >= 400 && r.status < 500, `answered ${r.status} ${r.location ?? ''}`);
  assert.ok(!r.location || !/[?&]code=/.test(r.location), 'no code reaches the service');
  assert.match(r.text, /<h1>/);
  if (why) assert.match(hub.logs().slice(before), why);
  return r;
}

const signed = (o, opts) => sign(responseXml(o), keys.key, keys.cert, opts);

test('control: a correctly signed Response is accepted', async () => {
  const j = await journey();
  const r = await post(j, b64(signed(j.base)));
  assert.equal(r.status, 303, `${r.status} ${r.text.slice(0, 500)}\n${hub.logs().slice(-1500)}`);
  assert.match(r.location, /[?&]code=/);
});

test('unsigned Response and assertion', async () => {
  const j = await journey();
  await refused(j, b64(responseXml(j.base)), /response refused: (lasso refused|the Response is not signed)/);
});

test('signed only by an untrusted key', async () => {
  const j = await journey();
  await refused(j, b64(sign(responseXml(j.base), evil.key, evil.cert)), /response refused: lasso refused/);
});

for (const shape of ['XSW1', 'XSW2', 'XSW3', 'XSW4', 'XSW5', 'XSW6', 'XSW7', 'XSW8']) {
  test(`signature wrapping ${shape}`, async () => {
    const j = await journey();
    const good = shape === 'XSW1' || shape === 'XSW2' ? signed(j.base) : signed(j.base, { assertionOnly: true });
    await refused(j, b64(wrap(shape, good)), /response refused: /);
  });
}

test('two ds:Signature elements under the Response (a duplicate of the valid one): refused by the pre-check', async () => {
  const j = await journey();
  const xml = signed(j.base);
  // the Response's signature follows the Response's Issuer, the first Issuer of the document
  const at = xml.indexOf('<ds:Signature', xml.indexOf('</saml:Issuer>'));
  const end = xml.indexOf('</ds:Signature>', at) + '</ds:Signature>'.length;
  const twice = xml.slice(0, end) + xml.slice(at, end) + xml.slice(end);
  await refused(j, b64(twice), /a signature is misplaced or does not reference its parent/);
});

test('ForceAuthn is sent for prompt=login and for max_age, and not otherwise', async () => {
  for (const [extra, force] of [[{}, false], [{ prompt: 'login' }, true], [{ max_age: '120' }, true]]) {
    const j = await journey(extra);
    assert.equal(/\sForceAuthn="(true|1)"/.test(j.authnRequest), force, `${JSON.stringify(extra)}: ${j.authnRequest.slice(0, 400)}`);
  }
});

test('max_age: an AuthnInstant older than it is refused; a recent one is accepted', async () => {
  const now = Math.floor(Date.now() / 1000);
  const old = await journey({ max_age: '60' });
  await refused(old, b64(signed({ ...old.base, authnInstant: now - 3600 })), /AuthnInstant is older than max_age/);
  const recent = await journey({ max_age: '60' });
  const r = await post(recent, b64(signed({ ...recent.base, authnInstant: now - 10 })));
  assert.equal(r.status, 303, `${r.status} ${hub.logs().slice(-800)}`);
  assert.match(r.location, /[?&]code=/);
});

test('a comment inside NameID (CVE-2017-11427 class), validly signed', async () => {
  const j = await journey();
  await refused(j, b64(signed({ ...j.base, nameIdXml: 'victim@example.org<!---->.evil.test' })), /comments/);
});

test('expired assertion', async () => {
  const j = await journey();
  const now = Math.floor(Date.now() / 1000);
  await refused(j, b64(signed({ ...j.base, now: now - 3600, notOnOrAfter: now - 600 })), /expired/);
});

test('wrong Audience', async () => {
  const j = await journey();
  await refused(j, b64(signed({ ...j.base, audience: 'https://another-sp.test' })), /Audience/);
});

test('wrong Destination', async () => {
  const j = await journey();
  await refused(j, b64(signed({ ...j.base, destination: 'https://another-sp.test/acs' })), /Destination/);
});

test('wrong SubjectConfirmation Recipient', async () => {
  const j = await journey();
  await refused(j, b64(signed({ ...j.base, recipient: 'https://another-sp.test/acs' })), /Recipient/);
});

test('InResponseTo of another journey', async () => {
  const a = await journey();
  const b = await journey();
  await refused(b, b64(signed({ ...b.base, irt: a.irt })), /InResponseTo/);
});

test('replayed response: the same assertion ID on a later journey', async () => {
  const assertionId = newId();
  const j1 = await journey();
  const ok = await post(j1, b64(signed({ ...j1.base, assertionId })));
  assert.equal(ok.status, 303);
  const j2 = await journey();
  await refused(j2, b64(signed({ ...j2.base, assertionId })), /assertion replayed/);
  // and the very same message again: the RelayState is single use
  const again = await post(j1, b64(signed({ ...j1.base, assertionId })));
  assert.ok(again.status >= 400 && again.status < 500 && !again.location);
});

test('SHA-1 signatures and digests', async () => {
  const j = await journey();
  await refused(j, b64(signed(j.base, { sha1: true })), /SHA-1/);
});

test('a DTD with entity expansion (billion laughs)', async () => {
  const j = await journey();
  const lol = '<!DOCTYPE samlp:Response [<!ENTITY a "lollollollollol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>';
  const xml = signed({ ...j.base, nameId: 'x' }).replace('>x<', '>&c;<');
  await refused(j, b64(lol + xml), /DTD/);
});

test('an external entity', async () => {
  const j = await journey();
  const xxe = '<!DOCTYPE samlp:Response [<!ENTITY x SYSTEM "file:///etc/passwd">]>';
  await refused(j, b64(xxe + signed({ ...j.base, nameId: 'x' }).replace('>x<', '>&x;<')), /DTD/);
});

test('a response over the size limit', async () => {
  const j = await journey();
  const big = signed({ ...j.base, nameId: 'y'.repeat(60000) });
  await refused(j, b64(big), /size limit/);
});

test('invalid base64', async () => {
  const j = await journey();
  await refused(j, 'PHNhbWxwOl*&^%invalid', /base64/);
});
