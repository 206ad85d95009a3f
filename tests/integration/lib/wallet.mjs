// A test EU Digital Identity Wallet and PID issuer for the wallet adapter's tests, on published
// libraries: @sd-jwt/sd-jwt-vc issues the PID (SD-JWT VC, x5c chain from certs/ tooling) and makes
// the presentation with its key-binding JWT, disclosing what the request's DCQL query asks
// (dcqlFrame); jose checks the request object's signature and encrypts the direct_post.jwt response
// (ECDH-ES + A128GCM) to the verifier's per-request key. The holder's OpenID4VP part (read the
// request, match DCQL, post) is this file's own, small, on jose, not @openid4vc/openid4vp: each
// step must be bendable to make the forgeries the adapter must refuse (options below), which a
// conformant library exists to prevent (README, "EU Digital Identity Wallet").
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import * as jose from 'jose';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { StatusList, createHeaderAndPayload } from '@sd-jwt/jwt-status-list';
import http from 'node:http';
import { digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import { REPO } from './hub.mjs';

const b64u = (b) => Buffer.from(b).toString('base64url');
const pemToDerB64 = (pem) => [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)]
  .map((m) => m[1].replace(/\s+/g, ''));

/** Makes the test PKI (certs/make-wallet-test-pki.sh) in a temp dir; returns {dir, file(name)}. */
export async function makePki(dns = 'verifier.idhub.test') {
  return makePkiIn(await mkdtemp(path.join(tmpdir(), 'idhub-wallet-pki-')), dns);
}

/** Makes the test PKI in dir; returns {dir, file(name)}. */
export async function makePkiIn(dir, dns = 'verifier.idhub.test') {
  const r = spawnSync(path.join(REPO, 'certs/make-wallet-test-pki.sh'), [dir, dns], { encoding: 'utf8', timeout: 20000 });
  if (r.status !== 0) throw new Error(`make-wallet-test-pki.sh failed: ${r.stderr}`);
  return { dir, file: (n) => path.join(dir, n) };
}

function es256Signer(keyPem) {
  const key = crypto.createPrivateKey(keyPem);
  return async (data) => b64u(crypto.sign('sha256', Buffer.from(data), { key, dsaEncoding: 'ieee-p1363' }));
}

/** An issuer whose certificate is NAME.crt (+ chain) in the PKI. */
export async function issuer(pki, name = 'issuer', chain = ['issuer-ca']) {
  const x5c = [...pemToDerB64(await readFile(pki.file(`${name}.crt`), 'utf8'))];
  for (const c of chain) if (c) x5c.push(...pemToDerB64(await readFile(pki.file(`${c}.crt`), 'utf8')));
  return { signer: es256Signer(await readFile(pki.file(`${name}.key`), 'utf8')), x5c };
}

export const PID_CLAIMS = { given_name: 'Erika', family_name: 'Mustermann', birthdate: '1964-08-12',
  place_of_birth: { locality: 'Berlin', country: 'DE' } };

/** A holder: its key pair (the PID's cnf). */
export async function holder() {
  const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: await jose.exportJWK(publicKey) };
}

/** Issues a PID (compact SD-JWT VC, every claim selectively disclosable). */
export async function issuePid(iss, hold, { claims = PID_CLAIMS, vct = 'urn:eudi:pid:1', exp, nbf, alg = 'ES256', status, issuerId = 'https://pid-issuer.test' } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const sd = new SDJwtVcInstance({ signer: iss.signer, signAlg: alg, hasher: digest, hashAlg: 'sha-256', saltGenerator: generateSalt });
  const payload = { iss: issuerId, iat: now, exp: exp ?? now + 86400, vct, cnf: { jwk: hold.publicJwk }, ...claims };
  if (nbf !== undefined) payload.nbf = nbf;
  if (status) payload.status = { status_list: status };
  return sd.issue(payload, { _sd: Object.keys(claims) }, { header: { x5c: iss.x5c, typ: 'dc+sd-jwt' } });
}

/**
 * What a wallet discloses for a DCQL query (OpenID4VP 1.0 §6), as a presentation frame: the query's
 * one credential must be a dc+sd-jwt whose vct is among its vct_values; of its claims, the first
 * claim set (§6.4.1) whose every claim the credential holds, or all of them when there are no claim
 * sets. Exactly those claims are disclosed. Throws when the credential cannot satisfy the query (a
 * wallet then answers nothing). Returns {id, frame}: the credential query's id and the frame.
 */
export async function dcqlFrame(credential, dcql) {
  const q = dcql?.credentials;
  if (!Array.isArray(q) || q.length !== 1) throw new Error('wallet: the DCQL query does not ask for one credential');
  const [cq] = q;
  const claims = await new SDJwtVcInstance({ hasher: digest }).getClaims(credential);
  if (cq.format !== 'dc+sd-jwt' || !cq.meta?.vct_values?.includes(claims.vct)) throw new Error(`wallet: no credential matches (format ${cq.format}, vct ${cq.meta?.vct_values})`);
  const byId = new Map((cq.claims ?? []).map((c) => {
    if (!Array.isArray(c.path) || c.path.length !== 1 || typeof c.path[0] !== 'string') throw new Error(`wallet: unsupported claim path ${JSON.stringify(c.path)}`);
    return [c.id, c.path[0]];
  }));
  const sets = cq.claim_sets ?? [[...byId.keys()]];
  const set = sets.find((ids) => ids.every((id) => byId.has(id) && claims[byId.get(id)] !== undefined));
  if (!set) throw new Error('wallet: the PID cannot satisfy the DCQL query');
  return { id: cq.id, frame: Object.fromEntries(set.map((id) => [byId.get(id), true])) };
}

/** The claim names a presentation discloses (from its disclosures). */
export function disclosedNames(presentation) {
  return presentation.split('~').slice(1, -1).map((d) => JSON.parse(Buffer.from(d, 'base64url'))[1]).sort();
}

/** Presents a PID with a key-binding JWT (kb: overrides of its payload; kbKey: another key;
 * disclose: the frame, by default every claim — a genuine wallet passes dcqlFrame's). */
export async function present(credential, hold, { aud, nonce, kb = {}, kbKey, disclose } = {}) {
  const key = kbKey ?? hold.privateKey;
  const kbSigner = async (data) => {
    const pem = crypto.createPrivateKey(await jose.exportPKCS8(key).then((p) => p));
    return b64u(crypto.sign('sha256', Buffer.from(data), { key: pem, dsaEncoding: 'ieee-p1363' }));
  };
  const sd = new SDJwtVcInstance({ hasher: digest, hashAlg: 'sha-256', saltGenerator: generateSalt, kbSigner, kbSignAlg: 'ES256' });
  const frame = disclose ?? Object.fromEntries(Object.keys(PID_CLAIMS).map((k) => [k, true]));
  return sd.present(credential, frame, { kb: { payload: { aud, nonce, iat: Math.floor(Date.now() / 1000), ...kb } } });
}

/** Replaces a presentation's key-binding JWT with one signed here (payload overrides sd_hash too). */
export async function withKb(presentation, hold, payload) {
  const base = presentation.slice(0, presentation.lastIndexOf('~') + 1);
  const sdHash = b64u(crypto.createHash('sha256').update(base).digest());
  const kb = await new jose.SignJWT({ iat: Math.floor(Date.now() / 1000), sd_hash: sdHash, ...payload })
    .setProtectedHeader({ alg: 'ES256', typ: 'kb+jwt' }).sign(hold.privateKey);
  return base + kb;
}

/** Reads an openid4vp:// link: fetches and decodes the request object (its x5c signature checked). */
export async function readRequest(link) {
  const u = new URL(link);
  const res = await fetch(u.searchParams.get('request_uri'), { signal: AbortSignal.timeout(10000) });
  if (res.status !== 200) throw new Error(`request_uri answered ${res.status}`);
  const jwt = await res.text();
  const hdr = jose.decodeProtectedHeader(jwt);
  const cert = `-----BEGIN CERTIFICATE-----\n${hdr.x5c[0]}\n-----END CERTIFICATE-----`;
  const { payload } = await jose.jwtVerify(jwt, await jose.importX509(cert, 'ES256'), { typ: 'oauth-authz-req+jwt' });
  if (payload.client_id !== u.searchParams.get('client_id')) throw new Error('client_id mismatch');
  return { header: hdr, request: payload, jwt };
}

/** Encrypts {vp_token} to the request's key (compact JWE) and posts it to responseUri. */
export async function postResponse(request, vpToken, { responseUri, enc = 'A128GCM', plain = false, rawJwe } = {}) {
  const jwk = request.client_metadata.jwks.keys[0];
  const body = JSON.stringify({ vp_token: vpToken });
  let form;
  if (plain) form = { vp_token: JSON.stringify(vpToken) };
  else form = { response: rawJwe ?? await new jose.CompactEncrypt(new TextEncoder().encode(body))
    .setProtectedHeader({ alg: 'ECDH-ES', enc, kid: jwk.kid }).encrypt(await jose.importJWK(jwk, 'ECDH-ES')) };
  const res = await fetch(responseUri ?? request.response_uri, { method: 'POST', body: new URLSearchParams(form), signal: AbortSignal.timeout(10000) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}

/** The whole wallet: reads the link, presents the PID for that request, disclosing exactly what
 * its DCQL query asks (opts.present.disclose bends that), and posts it. */
export async function answer(link, credential, hold, opts = {}) {
  const { request } = await readRequest(link);
  const { id, frame } = await dcqlFrame(credential, request.dcql_query);
  const vp = opts.vp ?? await present(credential, hold, { aud: request.client_id, nonce: request.nonce, disclose: frame, ...opts.present });
  return { request, vp, res: await postResponse(request, { [id]: [vp] }, opts.post) };
}

/**
 * A status list server: serves the issuer's status list token (statuslist+jwt, x5c) at
 * http://127.0.0.1:<port>/status/1 with the given statuses (index → 0 valid, 1 revoked, 2
 * suspended; 2 bits per entry), read at each request, and a ttl claim when given. Returns
 * {uri, statuses, fetches (how many requests it answered), close()}.
 */
export async function statusServer(iss, keyPem, statuses, { ttl } = {}) {
  const st = { fetches: 0, statuses };
  const server = http.createServer(async (req, res) => {
    st.fetches++;
    // the list as it is now: a test may change st.statuses between logins
    const claims = { iss: 'https://pid-issuer.test', sub: uri, iat: Math.floor(Date.now() / 1000), ...(ttl ? { ttl } : {}) };
    const { header, payload } = createHeaderAndPayload(new StatusList(st.statuses, 2), claims,
      { alg: 'ES256', typ: 'statuslist+jwt', x5c: iss.x5c });
    const key = crypto.createPrivateKey(keyPem);
    const jwt = await new jose.SignJWT(payload).setProtectedHeader(header).sign(key);
    res.writeHead(200, { 'content-type': 'application/statuslist+jwt' });
    res.end(jwt);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const uri = `http://127.0.0.1:${server.address().port}/status/1`;
  return Object.assign(st, { uri, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }) });
}
