// saml-metadata.test.mjs — the SAML adapter's IdP and SP metadata lifecycle, against a node IdP
// (lib/saml-forge.mjs signs its Responses) whose metadata a loopback server publishes
// (lib/saml-metadata.mjs):
//   - URL metadata is refreshed every metadata_refresh seconds (60, the minimum the adapter accepts)
//     without a restart: an IdP signing-key rotation takes effect at the refresh, not before;
//   - a failing URL (HTTP 500, connection refused) keeps the last good copy in use, and a restart
//     with the URL down uses the copy kept in the hub's store; with no copy the hub refuses to start
//     with FILE:LINE: idp '<id>': idp_metadata_url: <why>;
//   - with metadata_signing_cert, only metadata with a valid enveloped signature over its root is
//     loaded: unsigned, wrongly signed, tampered, wrapped or partially signed metadata is refused at
//     start (the hub exits) and at a refresh (the last good copy stays);
//   - SP metadata lists the next certificate (signing and encryption) when sp_next_* are set, and an
//     assertion encrypted to the next certificate is decrypted and accepted.
// The refresh makes this file take a little over 60 s: everything else runs while it is awaited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startHub, service, freePort, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { rpConfig, authRequest } from './lib/rp.mjs';
import { testKeyPair, readRedirect } from './lib/saml-idp.mjs';
import { toIdp, postToAcs } from './lib/saml-journey.mjs';
import { responseXml, sign, b64 } from './lib/saml-forge.mjs';
import {
  startMetadataServer, idpMetadataDoc, signMetadata, keyDescriptors, encryptedResponse, expectStartFailure,
} from './lib/saml-metadata.mjs';

const REFRESH = 60; // seconds: the smallest metadata_refresh saml_settings.c accepts
const cb = 'http://127.0.0.1:9/svc-md/cb';
const OTHER_SITE = 'http://localhost:1/';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const entity = (id) => `https://idp-${id}.test/idp`;

let dir, k, mds, gone, hub, cfg;

// the main hub's instances: URL metadata (unsigned, signed) and one with file metadata + SP rollover
const SIGNED = ['sgood', 'sbad', 'snone', 'stamp'];
const URL_IDS = ['rot', 'down', ...SIGNED];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'idhub-saml-md-'));
  k = {};
  for (const [name, cn] of [['sp', 'idhub sp current'], ['spNext', 'idhub sp next'], ['idpOld', 'idp old key'],
    ['idpNew', 'idp new key'], ['mdSign', 'metadata signer'], ['mdEvil', 'untrusted metadata signer'], ['stranger', 'stranger']]) {
    k[name] = await testKeyPair(dir, name, `${cn} (test key)`);
  }
  mds = await startMetadataServer();
  gone = await startMetadataServer(); // closed after the first fetch: connection refused
  for (const id of ['rot', 'down']) mds.serve(`/${id}`, idpMetadataDoc({ entityId: entity(id), certB64: k.idpOld.certB64 }));
  for (const id of SIGNED) mds.serve(`/${id}`, signMetadata(idpMetadataDoc({ entityId: entity(id), certB64: k.idpOld.certB64 }), k.mdSign.key, k.mdSign.cert));
  gone.serve('/gone', idpMetadataDoc({ entityId: entity('gone'), certB64: k.idpOld.certB64 }));
  const nextMd = path.join(dir, 'next-idp.xml');
  await writeFile(nextMd, idpMetadataDoc({ entityId: entity('next'), certB64: k.idpOld.certB64 }));

  const spKeys = { sp_key_file: k.sp.keyFile, sp_cert_file: k.sp.certFile };
  const idp = (id, settings) => ({ id, adapter: 'saml', display_name: `IdP ${id}`, max_loa: LOA_SUBSTANTIAL, settings: { ...spKeys, ...settings } });
  hub = await startHub({
    idps: [
      idp('rot', { idp_metadata_url: mds.url('/rot'), metadata_refresh: String(REFRESH) }),
      idp('down', { idp_metadata_url: mds.url('/down'), metadata_refresh: String(REFRESH) }),
      idp('gone', { idp_metadata_url: gone.url('/gone'), metadata_refresh: String(REFRESH) }),
      ...SIGNED.map((id) => idp(id, { idp_metadata_url: mds.url(`/${id}`), metadata_refresh: String(REFRESH), metadata_signing_cert: k.mdSign.certFile })),
      idp('next', { idp_metadata_file: nextMd, sp_next_key_file: k.spNext.keyFile, sp_next_cert_file: k.spNext.certFile }),
    ],
    services: [service('svc-md', { redirect_uris: [cb] })],
  });
  cfg = await rpConfig(hub, 'svc-md');
  await gone.close();
});

after(async () => {
  try { await hub?.stopAndCheck(); } finally {
    await mds?.close();
    await gone?.close();
    await rm(dir, { recursive: true, force: true });
  }
});

/** A journey to IdP `id` of hub h up to its AuthnRequest: {ua, relayState, base (Response fields)}. */
async function journey(id, h = hub, config = cfg) {
  const req = await authRequest(config, { redirectUri: cb });
  const { ua, idpRedirect } = await toIdp(req.url.href, id);
  const ar = readRedirect(idpRedirect);
  return {
    ua, h, id, relayState: ar.relayState,
    base: { issuer: entity(id), acs: `${h.issuer}/callback/${id}`, audience: `${h.issuer}/idp/${id}/metadata`, irt: ar.id, classRef: LOA_SUBSTANTIAL },
  };
}

const post = (j, xml) => postToAcs(j.ua, `${j.h.issuer}/callback/${j.id}`, { SAMLResponse: b64(xml), RelayState: j.relayState }, OTHER_SITE);

/** A login at IdP `id` with a Response signed by `keys`: {ok, status, log (the hub's log since)}. */
async function loginWith(id, keys, h = hub, config = cfg) {
  const j = await journey(id, h, config);
  const from = h.logs().length;
  const r = await post(j, sign(responseXml(j.base), keys.key, keys.cert));
  const ok = r.status === 303 && /[?&]code=/.test(r.location ?? '');
  if (!ok) assert.ok(r.status >= 400 && r.status < 500 && !r.location, `neither accepted nor refused: ${r.status} ${r.location ?? ''}`);
  return { ok, status: r.status, log: h.logs().slice(from) };
}

async function accepted(id, keys, what, h = hub, config = cfg) {
  const r = await loginWith(id, keys, h, config);
  assert.ok(r.ok, `${what}: refused (${r.status})\n${r.log}`);
}

async function refusedBySignature(id, keys, what) {
  const r = await loginWith(id, keys);
  assert.ok(!r.ok, `${what}: accepted`);
  assert.match(r.log, new RegExp(`saml ${id}: response refused: lasso refused`), what);
}

async function waitLog(re, ms, h = hub) {
  const deadline = Date.now() + ms;
  while (!re.test(h.logs())) {
    if (Date.now() > deadline) throw new Error(`no ${re} in the hub's log within ${ms} ms:\n${h.logs().slice(-3000)}`);
    await sleep(200);
  }
}

// ---- before the refresh ---------------------------------------------------------------------

test('before the refresh: every IdP answers with its first metadata (old key accepted, new key refused)', async () => {
  for (const id of [...URL_IDS, 'gone']) await accepted(id, k.idpOld, `${id}, old key`);
  await refusedBySignature('rot', k.idpNew, 'rot, new key before the refresh');
  await refusedBySignature('sgood', k.idpNew, 'sgood, new key before the refresh');
  // one fetch each so far (the first, at start)
  for (const id of URL_IDS) assert.equal(mds.fetches(`/${id}`), 1, `${id}: fetched once at start`);

  // Now the IdPs change what they publish; the hub must notice at its next refresh, not before.
  mds.serve('/rot', idpMetadataDoc({ entityId: entity('rot'), certB64: k.idpNew.certB64 })); // key rotation
  mds.fail('/down', 500);
  const rotated = (id) => idpMetadataDoc({ entityId: entity(id), certB64: k.idpNew.certB64 });
  mds.serve('/sgood', signMetadata(rotated('sgood'), k.mdSign.key, k.mdSign.cert)); // a signed rotation
  mds.serve('/sbad', signMetadata(rotated('sbad'), k.mdEvil.key, k.mdEvil.cert)); // signed by another key
  mds.serve('/snone', rotated('snone')); // not signed
  // a copy of the validly signed document with its signing certificate swapped for the new key's
  const signedOld = signMetadata(idpMetadataDoc({ entityId: entity('stamp'), certB64: k.idpOld.certB64 }), k.mdSign.key, k.mdSign.cert);
  assert.ok(signedOld.includes(k.idpOld.certB64));
  mds.serve('/stamp', signedOld.replace(k.idpOld.certB64, k.idpNew.certB64));

  // the new documents are published, yet nothing changes until the refresh
  await refusedBySignature('rot', k.idpNew, 'rot, new key published but not refreshed yet');
  await accepted('rot', k.idpOld, 'rot, old key until the refresh');
  await accepted('down', k.idpOld, 'down, before any refresh');
});

// ---- SP metadata during an SP key rollover (no refresh involved) -----------------------------

test('SP metadata lists the current and the next certificate, each for signing and encryption', async () => {
  const r = await fetch(`${hub.issuer}/idp/next/metadata`);
  assert.equal(r.status, 200);
  const kds = keyDescriptors(await r.text());
  const certsFor = (use) => kds.filter((x) => x.use === use).map((x) => x.cert).sort();
  const both = [k.sp.certB64, k.spNext.certB64].sort();
  assert.deepEqual(certsFor('signing'), both);
  assert.deepEqual(certsFor('encryption'), both);
  assert.equal(kds.length, 4);
  // without sp_next_* only the current certificate is published
  const plain = keyDescriptors(await (await fetch(`${hub.issuer}/idp/rot/metadata`)).text());
  assert.deepEqual(plain.map((x) => `${x.use} ${x.cert}`).sort(), [`encryption ${k.sp.certB64}`, `signing ${k.sp.certB64}`]);
});

test('an assertion encrypted to the NEXT SP certificate is decrypted and accepted (and to the current one)', async () => {
  for (const [to, what] of [[k.spNext, 'next'], [k.sp, 'current']]) {
    const j = await journey('next');
    const r = await post(j, encryptedResponse(j.base, k.idpOld.key, k.idpOld.cert, to.cert));
    assert.equal(r.status, 303, `encrypted to the ${what} certificate: ${r.status}\n${hub.logs().slice(-2000)}`);
    assert.match(r.location, /[?&]code=/);
  }
  // the decryption is real: encrypted to a certificate the hub holds no key for, it is refused
  const j = await journey('next');
  const from = hub.logs().length;
  const r = await post(j, encryptedResponse(j.base, k.idpOld.key, k.idpOld.cert, k.stranger.cert));
  assert.ok(r.status >= 400 && r.status < 500 && !r.location, `stranger: ${r.status}`);
  // (lasso finds no key for it, so no assertion: "When looking for an assertion we did not found it")
  assert.match(hub.logs().slice(from), /saml next: response refused: lasso refused the response: [^\n]*assertion/);
  // and an instance without sp_next_* cannot read an assertion encrypted to the next certificate
  const j2 = await journey('rot');
  const from2 = hub.logs().length;
  const r2 = await post(j2, encryptedResponse(j2.base, k.idpOld.key, k.idpOld.cert, k.spNext.cert));
  assert.ok(r2.status >= 400 && r2.status < 500 && !r2.location, `rot, encrypted to next: ${r2.status}`);
  assert.match(hub.logs().slice(from2), /saml rot: response refused: lasso refused the response: [^\n]*assertion/);
});

// ---- a first start without usable metadata ---------------------------------------------------

const coldIdp = (settings) => [{ id: 'cold', adapter: 'saml', display_name: 'Cold', max_loa: LOA_SUBSTANTIAL, settings: { sp_key_file: k.sp.keyFile, sp_cert_file: k.sp.certFile, ...settings } }];

/** The hub must exit 1 with "FILE:LINE: idp 'cold': idp_metadata_url: <why>", LINE the URL's line. */
async function refusesToStart(settings, why) {
  const f = await expectStartFailure({ idps: coldIdp(settings) }, /^\s*idp_metadata_url = /);
  assert.equal(f.exit, 1);
  assert.ok(f.line > 0);
  const m = /idhub: (\S+\/idhub\.conf):(\d+): idp 'cold': idp_metadata_url: ([^\n]*)/.exec(f.log);
  assert.ok(m, `no FILE:LINE message:\n${f.log}`);
  assert.equal(Number(m[2]), f.line, 'the line is the idp_metadata_url setting');
  assert.match(m[3], why);
  assert.deepEqual(f.sanitizer, [], f.log);
}

test('first start, metadata URL refused (no cached copy): the hub does not start', async () => {
  const port = await freePort(); // nothing listens there
  await refusesToStart({ idp_metadata_url: `http://127.0.0.1:${port}/md` }, new RegExp(`^cannot fetch http://127\\.0\\.0\\.1:${port}/md \\(HTTP 0\\)$`));
});

test('first start, metadata URL answers 500 (no cached copy): the hub does not start', async () => {
  mds.fail('/cold500', 500);
  await refusesToStart({ idp_metadata_url: mds.url('/cold500') }, /^cannot fetch http:\S+\/cold500 \(HTTP 500\)$/);
});

test('first start with metadata_signing_cert: unsigned, wrongly signed, tampered or wrapped metadata is refused', async () => {
  const doc = (ssoId) => idpMetadataDoc({ entityId: entity('cold'), certB64: k.idpOld.certB64, ssoId });
  const good = signMetadata(doc(), k.mdSign.key, k.mdSign.cert);
  const signed = { metadata_signing_cert: k.mdSign.certFile };
  const cases = {
    unsigned: [doc(), /^the metadata is not signed/],
    'signed by another key': [signMetadata(doc(), k.mdEvil.key, k.mdEvil.cert), /does not verify with metadata_signing_cert/],
    'signing certificate swapped in a signed copy': [good.replace(k.idpOld.certB64, k.idpNew.certB64), /does not verify with metadata_signing_cert/],
    // the signature covers only the IDPSSODescriptor, not the root that holds it
    'signature over a child element': [signMetadata(doc('_sso1'), k.mdSign.key, k.mdSign.cert, { refXpath: "//*[local-name(.)='IDPSSODescriptor']" }), /does not cover its root element/],
    // the validly signed EntityDescriptor inside an unsigned EntitiesDescriptor
    'signed entity in an unsigned wrapper': [`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${good.replace(/^<\?xml[^>]*>\s*/, '')}</md:EntitiesDescriptor>`, /^the metadata is not signed/],
  };
  for (const [name, [xml, why]] of Object.entries(cases)) {
    const p = `/cold-${name.replace(/\W+/g, '-')}`;
    mds.serve(p, xml);
    await refusesToStart({ idp_metadata_url: mds.url(p), ...signed }, why).catch((e) => { e.message = `${name}: ${e.message}`; throw e; });
  }
  // control: the same validly signed document starts a hub
  mds.serve('/cold-good', good);
  const h = await startHub({ idps: coldIdp({ idp_metadata_url: mds.url('/cold-good'), ...signed }) });
  await h.stopAndCheck();
});

test('restart with the metadata URL down: the copy kept in the hub\'s store is used', async () => {
  const hdir = await mkdtemp(path.join(tmpdir(), 'idhub-saml-md-cache-'));
  const port = await freePort();
  const opts = {
    dir: hdir, port,
    idps: [{ id: 'cached', adapter: 'saml', display_name: 'Cached', max_loa: LOA_SUBSTANTIAL,
      settings: { idp_metadata_url: mds.url('/cached'), sp_key_file: k.sp.keyFile, sp_cert_file: k.sp.certFile } }],
    services: [service('svc-md', { redirect_uris: [cb] })],
  };
  let h;
  try {
    mds.serve('/cached', idpMetadataDoc({ entityId: entity('cached'), certB64: k.idpOld.certB64 }));
    h = await startHub(opts);
    await accepted('cached', k.idpOld, 'first start', h, await rpConfig(h, 'svc-md'));
    await h.stopAndCheck();
    mds.fail('/cached', 500);
    const before = mds.fetches('/cached');
    h = await startHub(opts);
    assert.equal(mds.fetches('/cached'), before + 1, 'the restart tried the URL');
    assert.match(h.logs(), /saml cached: metadata: cannot fetch \S+ \(HTTP 500\)/);
    assert.match(h.logs(), /saml cached: using the last good copy of the metadata/);
    const c2 = await rpConfig(h, 'svc-md');
    await accepted('cached', k.idpOld, 'restart on the cached copy', h, c2);
    const r = await loginWith('cached', k.idpNew, h, c2);
    assert.ok(!r.ok, 'the cached copy trusts only its own key');
    await h.stopAndCheck();
  } finally {
    await h?.stop();
    await rm(hdir, { recursive: true, force: true });
  }
});

// ---- after the refresh -----------------------------------------------------------------------

test('after metadata_refresh: rotation applied, failures keep the last good copy, bad signatures refused', { timeout: (REFRESH + 40) * 1000 }, async () => {
  const wait = (REFRESH + 25) * 1000;
  // the refresh thread's fetches (each instance's timer started at its init)
  for (const id of URL_IDS) await mds.waitFetches(`/${id}`, 2, wait);
  const kept = (id, why) => waitLog(new RegExp(`saml ${id}: metadata refresh failed, keeping the last good copy: ${why}`), 10000);
  await kept('down', 'cannot fetch \\S+/down \\(HTTP 500\\)');
  await kept('gone', 'cannot fetch \\S+/gone \\(HTTP 0\\)');
  await kept('sbad', 'the metadata signature does not verify with metadata_signing_cert');
  await kept('snone', 'the metadata is not signed');
  await kept('stamp', 'the metadata signature does not verify with metadata_signing_cert');

  // 1. rotation, no restart: the new key is accepted, the old one refused (the swap follows the
  //    fetch within milliseconds; allow a few seconds on a slow machine)
  for (const id of ['rot', 'sgood']) {
    let r;
    for (let i = 0; i < 20; i++) {
      r = await loginWith(id, k.idpNew);
      if (r.ok) break;
      await sleep(250);
    }
    assert.ok(r.ok, `${id}: the new key is not accepted after the refresh\n${r.log}`);
    await refusedBySignature(id, k.idpOld, `${id}: old key after the rotation`);
  }
  // 2. last good copy: HTTP 500 and connection refused
  for (const id of ['down', 'gone']) await accepted(id, k.idpOld, `${id}: last good copy`);
  // 3. refused signed metadata: the old key still works, the key of the refused document does not
  for (const id of ['sbad', 'snone', 'stamp']) {
    await accepted(id, k.idpOld, `${id}: last good copy`);
    await refusedBySignature(id, k.idpNew, `${id}: key from refused metadata`);
  }
  assert.equal(hub.running, true, 'the hub was never restarted');
});
