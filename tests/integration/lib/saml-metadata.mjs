// saml-metadata.mjs — helpers for the SAML adapter's metadata tests: a loopback HTTP server that
// publishes IdP metadata per path (and can be switched to fail), IdP metadata documents with an ID
// on their root, their enveloped XML signature (and the broken variants), Responses whose assertion
// is encrypted to a chosen SP certificate (XML Encryption: AES-256-CBC, RSA-OAEP-MGF1P), and a
// helper that expects a hub to refuse to start. TEST KEYS ONLY; keys are made at run time.
import { createServer } from 'node:http';
import { createCipheriv, randomBytes, publicEncrypt, constants, X509Certificate } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { DOMParser } from '@xmldom/xmldom';
import { startHub, sanitizerReports } from './hub.mjs';
import { responseXml, sign } from './saml-forge.mjs';

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXC = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENV = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const SAML_A = 'urn:oasis:names:tc:SAML:2.0:assertion';

/**
 * A metadata server on a free 127.0.0.1 port. Each path answers what serve(path, xml) or
 * fail(path, status) last set (404 when unset). Returns {base, url(path), serve, fail, fetches(path),
 * waitFetches(path, n, ms), close()}.
 */
export async function startMetadataServer() {
  const routes = new Map();
  const counts = new Map();
  const srv = createServer((req, res) => {
    const p = new URL(req.url, 'http://x').pathname;
    counts.set(p, (counts.get(p) ?? 0) + 1);
    const r = routes.get(p);
    if (!r) { res.writeHead(404).end('not found'); return; }
    if (r.status !== 200) { res.writeHead(r.status, { 'content-type': 'text/plain' }).end('metadata server failure (test)'); return; }
    res.writeHead(200, { 'content-type': 'application/samlmetadata+xml', connection: 'close' }).end(r.body);
  });
  await new Promise((resolve, reject) => { srv.once('error', reject); srv.listen(0, '127.0.0.1', resolve); });
  const base = `http://127.0.0.1:${srv.address().port}`;
  let closed = false;
  return {
    base,
    url: (p) => base + p,
    serve: (p, body) => routes.set(p, { status: 200, body }),
    fail: (p, status = 500) => routes.set(p, { status }),
    fetches: (p) => counts.get(p) ?? 0,
    async waitFetches(p, n, ms) {
      const deadline = Date.now() + ms;
      while ((counts.get(p) ?? 0) < n) {
        if (Date.now() > deadline) throw new Error(`${p}: ${counts.get(p) ?? 0} fetches after ${ms} ms, ${n} expected`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      srv.closeAllConnections?.();
      await new Promise((r) => srv.close(r));
    },
  };
}

/** An IdP's metadata: an EntityDescriptor with an ID (for a signature) and one signing key. */
export function idpMetadataDoc({ entityId, certB64, id = '_md' + randomBytes(8).toString('hex'), ssoId }) {
  return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="${MD}" xmlns:ds="${DS}" ID="${id}" entityID="${entityId}">
  <md:IDPSSODescriptor${ssoId ? ` ID="${ssoId}"` : ''} WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certB64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:9/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
`;
}

/**
 * An enveloped signature (RSA-SHA256, exclusive c14n) as the root's first child. By default its one
 * Reference covers the root; refXpath makes it cover another element instead (a wrapping attempt).
 */
export function signMetadata(xml, key, cert, { refXpath = '/*' } = {}) {
  const sig = new SignedXml({ privateKey: key, publicCert: cert, signatureAlgorithm: RSA_SHA256, canonicalizationAlgorithm: EXC });
  sig.addReference({ xpath: refXpath, transforms: [ENV, EXC], digestAlgorithm: SHA256 });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: '/*', action: 'prepend' } });
  return sig.getSignedXml();
}

/** [{use, cert}] of a metadata document's KeyDescriptors (cert: the base64 DER, no spaces). */
export function keyDescriptors(xml) {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  return Array.from(doc.getElementsByTagNameNS(MD, 'KeyDescriptor')).map((kd) => ({
    use: kd.getAttribute('use'),
    cert: Array.from(kd.getElementsByTagNameNS(DS, 'X509Certificate')).map((c) => c.textContent.replace(/\s+/g, '')).join(''),
  }));
}

/** An element encrypted to certPem: xenc:EncryptedData, AES-256-CBC, key wrapped with RSA-OAEP. */
function encryptTo(xml, certPem) {
  const key = randomBytes(32);
  const iv = randomBytes(16);
  const c = createCipheriv('aes-256-cbc', key, iv);
  const ct = Buffer.concat([iv, c.update(xml, 'utf8'), c.final()]);
  const ek = publicEncrypt({ key: new X509Certificate(certPem).publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, key);
  return '<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element">'
    + '<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/>'
    + `<ds:KeyInfo xmlns:ds="${DS}"><xenc:EncryptedKey>`
    + '<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p">'
    + `<ds:DigestMethod Algorithm="${DS}sha1"/></xenc:EncryptionMethod>`
    + `<xenc:CipherData><xenc:CipherValue>${ek.toString('base64')}</xenc:CipherValue></xenc:CipherData>`
    + '</xenc:EncryptedKey></ds:KeyInfo>'
    + `<xenc:CipherData><xenc:CipherValue>${ct.toString('base64')}</xenc:CipherValue></xenc:CipherData>`
    + '</xenc:EncryptedData>';
}

/**
 * A Response (fields o as for saml-forge's responseXml) whose assertion is signed by the IdP, then
 * encrypted to encCertPem (an SP certificate) as an EncryptedAssertion; the Response is signed too.
 */
export function encryptedResponse(o, idpKey, idpCert, encCertPem) {
  const plain = responseXml(o);
  const m = /<saml:Assertion [\s\S]*<\/saml:Assertion>/.exec(plain);
  if (!m) throw new Error('responseXml: no assertion');
  // the assertion on its own must declare its namespace (it is decrypted as a document of its own)
  const standalone = m[0].replace('<saml:Assertion ', `<saml:Assertion xmlns:saml="${SAML_A}" `);
  const signedAssertion = sign(standalone, idpKey, idpCert, { assertionOnly: true });
  const enc = `<saml:EncryptedAssertion>${encryptTo(signedAssertion, encCertPem)}</saml:EncryptedAssertion>`;
  const resp = plain.slice(0, m.index) + enc + plain.slice(m.index + m[0].length);
  const sig = new SignedXml({ privateKey: idpKey, publicCert: idpCert, signatureAlgorithm: RSA_SHA256, canonicalizationAlgorithm: EXC });
  const xp = "/*[local-name(.)='Response']";
  sig.addReference({ xpath: xp, transforms: [ENV, EXC], digestAlgorithm: SHA256 });
  sig.computeSignature(resp, { prefix: 'ds', location: { reference: `${xp}/*[local-name(.)='Issuer']`, action: 'after' } });
  return sig.getSignedXml();
}

/**
 * Start a hub that must refuse to start (startHub's options). Returns {message, log, config, line}:
 * the hub's stderr, its config text and the 1-based line of the first config line matching lineOf.
 */
export async function expectStartFailure(opts, lineOf) {
  let err = null;
  try {
    const hub = await startHub(opts);
    await hub.stop();
  } catch (e) {
    err = e;
  }
  if (!err) throw new Error('the hub started, a refusal was expected');
  const m = /^idhub did not start \(exit (\d+)[^)]*\); binary [^\n]*; config:\n([\s\S]*?)\nlog:\n([\s\S]*)$/.exec(err.message);
  if (!m) throw err;
  const config = m[2];
  const lines = config.split('\n');
  const line = lineOf ? lines.findIndex((l) => lineOf.test(l)) + 1 : 0;
  return { exit: Number(m[1]), config, log: m[3], line, sanitizer: sanitizerReports(m[3]) };
}
