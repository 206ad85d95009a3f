// The EU Digital Identity Wallet adapter (idp-adapters/wallet): an OpenID4VP 1.0 verifier for a PID
// in SD-JWT VC format, against the test wallet and issuer of lib/wallet.mjs. A genuine same-device
// presentation ends in an ID token at level high whose pairwise sub is stable across two
// presentations of the same PID; each forgery is refused with the check it failed, in the log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { startHub, service, sandboxIdp, lcFile, IDHUB_BIN, ADAPTER_DIR, REPO, LOA_HIGH, LOA_SUBSTANTIAL, LOAS } from './lib/hub.mjs';
import { spawnSync } from 'node:child_process';
import { writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { Browser, login, decodeEntities, parseForms, links, redirectParams, isPickerForm } from './lib/browser.mjs';
import { rpConfig, authRequest, client } from './lib/rp.mjs';
import { makePki, issuer, holder, issuePid, present, readRequest, postResponse, answer, withKb, statusServer, disclosedNames, PID_CLAIMS } from './lib/wallet.mjs';
import { readFile } from 'node:fs/promises';
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as jose from 'jose';

const cb = 'http://127.0.0.1:9/svc/cb';
let pki, hub, config, iss, hold, pid;

before(async () => {
  pki = await makePki();
  iss = await issuer(pki);
  hold = await holder();
  pid = await issuePid(iss, hold);
  hub = await startHub({
    // the sandbox too: a cancel at the wallet's page must end like a cancel at the sandbox's
    idps: (port) => [{ id: 'wallet', adapter: 'wallet', display_name: 'Use your digital identity wallet', max_loa: LOA_HIGH,
      settings: { verifier_key: pki.file('verifier.key'), verifier_cert: pki.file('verifier.crt'),
        client_id_dns: 'verifier.idhub.test', trust_anchors: pki.file('issuer-ca.crt') } }, sandboxIdp(port)],
    services: [service('svc', { redirect_uris: [cb] })],
  });
  config = await rpConfig(hub, 'svc');
});
after(async () => {
  if (hub) await hub.stopAndCheck();
  if (pki) await rm(pki.dir, { recursive: true, force: true });
});

const walletSettings = (extra = {}) => ({ verifier_key: pki.file('verifier.key'), verifier_cert: pki.file('verifier.crt'),
  client_id_dns: 'verifier.idhub.test', trust_anchors: pki.file('issuer-ca.crt'), ...extra });

/** A hub of its own with the wallet IdP (walletSettings(extra)) and services (default: svc). */
const walletHub = (extra = {}, services = [service('svc', { redirect_uris: [cb] })]) => startHub({
  idps: [{ id: 'wallet', adapter: 'wallet', display_name: 'Wallet', max_loa: LOA_HIGH, settings: walletSettings(extra) }],
  services,
});

/** A journey up to the wallet page: {browser, req, link}. */
async function journey() {
  const req = await authRequest(config, { redirectUri: cb });
  const j = await login({ authorizeUrl: req.url.href, idp: 'wallet', until: 'sandbox', browser: new Browser() });
  const m = /id="wallet-link" href="([^"]+)"/.exec(j.last.text);
  assert.ok(m, `no openid4vp link on the wallet page: ${j.last.text.slice(0, 300)}`);
  const link = decodeEntities(m[1]);
  assert.match(link, /^openid4vp:\/\/\?client_id=x509_san_dns%3Averifier\.idhub\.test&request_uri=/);
  return { browser: j.browser, req, link, page: j.last, journeyId: j.journeyId };
}

/** The browser follows the wallet's redirect_uri: the callback's answer. */
async function back(jr, res) {
  assert.equal(res.status, 200, `wallet POST refused: ${res.text}`);
  return jr.browser.get(res.json.redirect_uri, { initiator: null });
}

async function idToken(jr, res) {
  const c = await back(jr, res);
  assert.ok(c.location?.startsWith(cb), `no redirect to the service: ${c.status} ${c.text?.slice(0, 300)}`);
  const tokens = await client.authorizationCodeGrant(config, new URL(c.location), {
    pkceCodeVerifier: jr.req.verifier, expectedState: jr.req.state, expectedNonce: jr.req.nonce, idTokenExpected: true });
  return tokens.claims();
}

/** idhub_idp_refusals_total for the wallet and check (a fixed label). */
async function refusals(check, h = hub) {
  const text = await (await fetch(h.metricsUrl, { signal: AbortSignal.timeout(10000) })).text();
  const m = new RegExp(`^idhub_idp_refusals_total\\{idp="wallet",check="${check}"\\} (\\d+)$`, 'm').exec(text);
  assert.ok(m, `no idhub_idp_refusals_total series for check ${check}`);
  return Number(m[1]);
}

/** The login's anonymous status (what its waiting page polls): {"ready":false} while it waits. */
async function loginStatus(jr) {
  const url = new URL(/data-status="([^"]+)"/.exec(jr.page.text)[1].replace(/&amp;/g, '&'), jr.page.url).href;
  return (await fetch(url, { signal: AbortSignal.timeout(10000) })).text();
}

/** Expects the wallet's answer (post: () => the POST's result) refused at the response_uri, where
 * the whole presentation is verified before anything is parked: 400 with reason in the wallet's
 * error_description and the hub's log, (check given) one more refusal counted under that check in
 * the metrics, and the login still waiting (a forgery never takes its one answer). */
async function refusedAtWallet(jr, post, reason, check) {
  const before = check && await refusals(check);
  const res = await post();
  assert.equal(res.status, 400, `not refused at the response_uri: ${res.status} ${res.text?.slice(0, 200)}`);
  assert.equal(res.json.error, 'invalid_request');
  assert.match(res.json.error_description, reason);
  assert.match(hub.logs(), reason);
  if (check) assert.equal(await refusals(check), before + 1, `refusal not counted under check="${check}"`);
  assert.equal(await loginStatus(jr), '{"ready":false}', 'a refused answer leaves the login waiting');
  return res;
}

test('a genuine PID, same device: ID token at level high, pairwise sub stable across two presentations', async () => {
  const j1 = await journey();
  const { request } = await readRequest(j1.link);
  assert.equal(request.response_mode, 'direct_post.jwt');
  assert.equal(request.client_id, 'x509_san_dns:verifier.idhub.test');
  assert.deepEqual(request.dcql_query.credentials[0].meta.vct_values, ['urn:eudi:pid:1']);
  assert.equal(request.dcql_query.credentials[0].format, 'dc+sd-jwt');
  const a1 = await answer(j1.link, pid, hold);
  assert.match(a1.res.json.redirect_uri, /\/callback\/wallet\?state=[^&]+&response_code=/);
  const c1 = await idToken(j1, a1.res);
  assert.equal(c1.acr, LOA_HIGH);
  assert.equal(c1.given_name, 'Erika');
  const j2 = await journey();
  const c2 = await idToken(j2, (await answer(j2.link, pid, hold)).res);
  assert.equal(c2.sub, c1.sub, 'the same PID gives the same pairwise sub');
  assert.ok(!c1.sub.includes('Mustermann'));
  assert.equal(LOAS[2], LOA_HIGH);
});

test('a genuine PID, cross-device: the QR page waits by a Refresh header (and its script polls an anonymous status that says only ready or not), then the waiting browser (only) goes on', async () => {
  const same = await journey();
  const subSame = (await idToken(same, (await answer(same.link, pid, hold)).res)).sub;
  const jr = await journey();
  assert.equal(jr.page.headers.get('refresh'), '3', 'the page reloads by a Refresh header');
  assert.doesNotMatch(jr.page.text, /http-equiv="refresh"/i, 'no meta refresh (WCAG 2.2.1)');
  assert.match(jr.page.text, /<div id="wallet-qr" data-status="status\?rid=[\w-]+"><svg [^>]*role="img"[^>]*><title id="qr-title">[^<]+<\/title><rect [^>]*\/><path fill="none" stroke="#000" d="(M\d+ \d+\.5h\d+(m\d+ 0h\d+)*)+"\/><\/svg><\/div>/);
  assert.match(jr.link, /flow%3Dsame/);
  // progressive enhancement: the page's one inline script is allowed by its hash, and may fetch
  // from the hub's origin (its status); no other page gets connect-src
  const csp = jr.page.headers.get('content-security-policy');
  const script = /<script>([\s\S]*?)<\/script>/.exec(jr.page.text)?.[1];
  assert.ok(script, 'the waiting page has its polling script');
  const hash = crypto.createHash('sha256').update(script).digest('base64');
  assert.match(csp, new RegExp(`script-src 'sha256-[^']+' 'sha256-${hash.replace(/[+/]/g, '\\$&')}'; connect-src 'self';`));
  const other = await new Browser().get(`${hub.issuer}/authorize`, { initiator: null }); // an HTML error page
  assert.match(other.headers.get('content-type'), /^text\/html/);
  assert.match(other.headers.get('content-security-policy'), /script-src 'sha256-[^']+'; form-action/);
  const statusUrl = new URL(/data-status="([^"]+)"/.exec(jr.page.text)[1].replace(/&amp;/g, '&'), jr.page.url).href;
  const stranger = new Browser(); // the status URL is anonymous: it says only whether the wallet answered
  const status = async (url = statusUrl) => {
    const r = await stranger.get(url, { initiator: null });
    return `${r.status} ${r.status === 200 ? r.text : ''}`;
  };
  assert.equal(await status(), '200 {"ready":false}');
  assert.equal(await status(statusUrl.replace(/rid=[^&]+/, `rid=${'A'.repeat(43)}`)), '404 ', 'an unknown login');
  const cross = jr.link.replace('flow%3Dsame', 'flow%3Dcross'); // what the QR code encodes
  let wait = await jr.browser.get(jr.page.url, { initiator: jr.page.url });
  assert.equal(wait.status, 200, 'still waiting before the wallet answers');
  const { request, res } = await answer(cross, pid, hold);
  assert.equal(await status(), '200 {"ready":true}', 'ready, and nothing else (no response code)');
  assert.match(request.response_uri, /flow=cross$/);
  assert.equal(res.status, 200);
  assert.deepEqual(res.json, {}, 'cross-device: no redirect_uri for the phone');
  // another browser that learnt the page's address gets nowhere: the callback wants the journey cookie
  const sw = await stranger.get(jr.page.url, { initiator: null });
  assert.equal(sw.status, 303);
  const sc = await stranger.get(sw.location, { initiator: jr.page.url });
  assert.ok(!sc.location?.startsWith(cb), 'a stranger browser must not complete the journey');
  // the waiting browser's next refresh moves it on
  wait = await jr.browser.get(jr.page.url, { initiator: jr.page.url });
  assert.equal(wait.status, 303);
  assert.match(wait.location, /\/callback\/wallet\?state=[^&]+&response_code=/);
  const c = await idToken(jr, { status: 200, json: { redirect_uri: wait.location } });
  assert.equal(c.sub, subSame, 'same PID, same pairwise sub, whichever device');
  assert.equal(c.acr, LOA_HIGH);
});

test('refused: an issuer outside the trust list, a trusted issuer speaking as another, and a self-signed x5c', async () => {
  const rogue = await issuePid(await issuer(pki, 'rogue-issuer', ['rogue-ca']), hold);
  let jr = await journey();
  await refusedAtWallet(jr, async () => (await answer(jr.link, rogue, hold)).res, /PID refused: issuer: x5c chain not trusted/, 'trust');
  // a trusted issuer speaking as another: its certificate does not name that iss
  const other = await issuePid(iss, hold, { issuerId: 'https://other-state.test' });
  jr = await journey();
  await refusedAtWallet(jr, async () => (await answer(jr.link, other, hold)).res, /PID refused: issuer: the certificate does not name iss https:\/\/other-state\.test/);
  const self = await issuePid(await issuer(pki, 'selfsigned-issuer', []), hold);
  jr = await journey();
  await refusedAtWallet(jr, async () => (await answer(jr.link, self, hold)).res, /x5c chain not trusted: self.signed certificate/);
});

test('forged answers posted first by someone who saw the QR code (the request object gives out the encryption key) are refused at the response_uri and take no answer slot: the genuine wallet\'s answer then completes the login with the pairwise sub', async () => {
  const ref = await journey();
  const subRef = (await idToken(ref, (await answer(ref.link, pid, hold)).res)).sub;
  const jr = await journey();
  const { request } = await readRequest(jr.link); // anyone may fetch it: its rid is in the QR code
  // well-formed and encrypted to the login's key: an untrusted issuer's PID, then a genuine
  // PID bound to another nonce
  const rogue = await issuePid(await issuer(pki, 'rogue-issuer', ['rogue-ca']), hold);
  await refusedAtWallet(jr, async () => (await answer(jr.link, rogue, hold)).res, /PID refused: issuer: x5c chain not trusted/, 'trust');
  const stale = await present(pid, hold, { aud: request.client_id, nonce: 'not-this-login' });
  await refusedAtWallet(jr, () => postResponse(request, { pid: [stale] }), /PID refused: key binding: nonce is not this login's/, 'binding');
  const genuine = await answer(jr.link, pid, hold);
  assert.equal(genuine.res.status, 200, `the genuine answer after the forgeries: ${genuine.res.text}`);
  const c = await idToken(jr, genuine.res);
  assert.equal(c.sub, subRef, 'the genuine wallet signs the citizen in, with their pairwise sub');
  assert.equal(c.acr, LOA_HIGH);
});

test('refused: a requested claim left out; a vct outside the allow-list', async () => {
  let jr = await journey();
  const { request } = await readRequest(jr.link);
  const vp = await present(pid, hold, { aud: request.client_id, nonce: request.nonce,
    disclose: { family_name: true, birthdate: true, place_of_birth: true } });
  await refusedAtWallet(jr, () => postResponse(request, { pid: [vp] }), /requested claim given_name not disclosed/, 'claims');
  assert.match(hub.logs(), /requested claim given_name not disclosed/, 'claims');
  const other = await issuePid(iss, hold, { vct: 'urn:example:not-a-pid' });
  jr = await journey();
  const r2 = (await readRequest(jr.link)).request; // a wallet that ignores the query's vct_values
  const vp2 = await present(other, hold, { aud: r2.client_id, nonce: r2.nonce });
  await refusedAtWallet(jr, () => postResponse(r2, { pid: [vp2] }), /PID refused: vct urn:example:not-a-pid is not allowed/, 'type');
});

test('Token Status List: a valid entry passes; a revoked or suspended PID is refused, and so is a list token from an untrusted chain or not signed by its x5c key', async () => {
  const st = await statusServer(iss, await readFile(pki.file('issuer.key'), 'utf8'), [0, 0, 0, 1, 0, 2, 0, 0]);
  try {
    let jr = await journey();
    const valid = await issuePid(iss, hold, { status: { idx: 4, uri: st.uri } });
    const c = await idToken(jr, (await answer(jr.link, valid, hold)).res);
    assert.equal(c.acr, LOA_HIGH);
    for (const [idx, reason] of [[3, /PID refused: status list: PID revoked/], [5, /PID refused: status list: PID suspended/]]) {
      jr = await journey();
      const pidS = await issuePid(iss, hold, { status: { idx, uri: st.uri } });
      const before = st.fetches;
      await refusedAtWallet(jr, async () => (await answer(jr.link, pidS, hold)).res, reason, 'status');
      assert.ok(st.fetches > before, 'a list token without ttl is fetched at each check');
    }
  } finally {
    await st.close();
  }
  // the list token itself must be the issuer's: from an untrusted chain, or not signed by its x5c key
  const rogue = await issuer(pki, 'rogue-issuer', ['rogue-ca']);
  for (const [signer, key, reason] of [
    [rogue, 'rogue-issuer.key', /PID refused: status list: .*x5c chain not trusted/],
    [iss, 'rogue-issuer.key', /PID refused: status list: signature: /],
  ]) {
    const bad = await statusServer(signer, await readFile(pki.file(key), 'utf8'), [0, 0, 0, 0]);
    try {
      const jr = await journey();
      const p = await issuePid(iss, hold, { status: { idx: 1, uri: bad.uri } });
      await refusedAtWallet(jr, async () => (await answer(jr.link, p, hold)).res, reason, 'status');
    } finally {
      await bad.close();
    }
  }
});

test('Token Status List with a ttl: the verified token is reused within it, and checked again (one fetch for two logins)', async () => {
  const st = await statusServer(iss, await readFile(pki.file('issuer.key'), 'utf8'), [0, 0, 0, 0, 0, 0, 0, 0], { ttl: 300 });
  try {
    const pid = await issuePid(iss, hold, { status: { idx: 2, uri: st.uri } });
    let jr = await journey();
    assert.equal((await idToken(jr, (await answer(jr.link, pid, hold)).res)).acr, LOA_HIGH);
    assert.equal(st.fetches, 1);
    // the same list for another login and another entry: from the hub's cache, checked again
    const other = await issuePid(iss, hold, { status: { idx: 5, uri: st.uri } });
    jr = await journey();
    assert.equal((await idToken(jr, (await answer(jr.link, other, hold)).res)).acr, LOA_HIGH);
    assert.equal(st.fetches, 1, 'no second fetch within the ttl');
  } finally {
    await st.close();
  }
});

test('refused: a tampered disclosure, and an extra one', async () => {
  let jr = await journey();
  let { request } = await readRequest(jr.link);
  const vp = await present(pid, hold, { aud: request.client_id, nonce: request.nonce });
  const parts = vp.split('~');
  const d = JSON.parse(Buffer.from(parts[1], 'base64url'));
  d[d.length - 1] = 'Mallory';
  const tampered = [parts[0], Buffer.from(JSON.stringify(d)).toString('base64url'), ...parts.slice(2)].join('~');
  // the holder re-signs its KB-JWT over the tampered set, so the disclosure check is what refuses
  const resigned = await withKb(tampered, hold, { aud: request.client_id, nonce: request.nonce });
  await refusedAtWallet(jr, () => postResponse(request, { pid: [resigned] }), /PID refused: disclosures: .* not referenced/);
  jr = await journey();
  ({ request } = await readRequest(jr.link));
  const extra = Buffer.from(JSON.stringify(['salt123', 'nationality', 'XX'])).toString('base64url');
  const p2 = await present(pid, hold, { aud: request.client_id, nonce: request.nonce });
  const i = p2.indexOf('~');
  const withExtra = await withKb(`${p2.slice(0, i)}~${extra}${p2.slice(i)}`, hold, { aud: request.client_id, nonce: request.nonce });
  await refusedAtWallet(jr, () => postResponse(request, { pid: [withExtra] }), /PID refused: disclosures: .* not referenced by the issuer \(extra\)/, 'disclosure');
});

test('refused: an issuer that lists one digest twice in _sd (the reason is worded safely)', async () => {
  const b64u = (x) => Buffer.from(x).toString('base64url');
  const disclosure = b64u(JSON.stringify(['c2FsdHNhbHQ', 'given_name', 'Erika']));
  const dg = b64u(crypto.createHash('sha256').update(disclosure).digest());
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new jose.SignJWT({ iss: 'https://pid-issuer.test', iat: now, exp: now + 3600, vct: 'urn:eudi:pid:1',
    cnf: { jwk: hold.publicJwk }, _sd_alg: 'sha-256', _sd: [dg, dg], family_name: 'Mustermann', birthdate: '1964-08-12' })
    .setProtectedHeader({ alg: 'ES256', typ: 'dc+sd-jwt', x5c: iss.x5c })
    .sign(crypto.createPrivateKey(await readFile(pki.file('issuer.key'), 'utf8')));
  const jr = await journey();
  const { request } = await readRequest(jr.link);
  const vp = await withKb(`${jwt}~${disclosure}~`, hold, { aud: request.client_id, nonce: request.nonce });
  await refusedAtWallet(jr, () => postResponse(request, { pid: [vp] }), /PID refused: disclosures: digest [\w-]+ appears twice/);
});

test('refused: a missing key-binding JWT; wrong nonce, aud, sd_hash or key; a stale iat', async () => {
  let jr = await journey();
  let { request } = await readRequest(jr.link);
  const vp = await present(pid, hold, { aud: request.client_id, nonce: request.nonce });
  await refusedAtWallet(jr, () => postResponse(request, { pid: [vp.slice(0, vp.lastIndexOf('~') + 1)] }),
    /PID refused: key binding: missing key-binding JWT/, 'binding');
  const other = await holder();
  for (const [kb, signer, reason] of [
    [{ nonce: 'not-this-one' }, hold, /key binding: nonce is not this login's/],
    [{ aud: 'x509_san_dns:evil.example' }, hold, /key binding: aud is not the verifier's client_id/],
    [{ sd_hash: Buffer.alloc(32).toString('base64url') }, hold, /key binding: sd_hash does not match/],
    [{}, other, /key binding: signature does not verify/],
    [{ iat: Math.floor(Date.now() / 1000) - 3600 }, hold, /key binding: iat missing or not fresh/],
  ]) {
    jr = await journey();
    ({ request } = await readRequest(jr.link));
    const good = await present(pid, hold, { aud: request.client_id, nonce: request.nonce });
    const forged = await withKb(good, signer, { aud: request.client_id, nonce: request.nonce, ...kb });
    await refusedAtWallet(jr, () => postResponse(request, { pid: [forged] }), reason, 'binding');
  }
  // the hand-made KB-JWT itself passes when nothing is bent (the refusals above are the bends)
  jr = await journey();
  ({ request } = await readRequest(jr.link));
  const ok = await withKb(await present(pid, hold, { aud: request.client_id, nonce: request.nonce }), hold,
    { aud: request.client_id, nonce: request.nonce });
  await idToken(jr, await postResponse(request, { pid: [ok] }));
});

test('refused: a presentation replayed into a second journey; an expired PID, one not yet valid; alg none', async () => {
  const j1 = await journey();
  const a1 = await answer(j1.link, pid, hold);
  await idToken(j1, a1.res);
  const j2 = await journey();
  const { request } = await readRequest(j2.link);
  await refusedAtWallet(j2, () => postResponse(request, { pid: [a1.vp] }), /PID refused: key binding: nonce is not this login's/);

  const expired = await issuePid(iss, hold, { exp: Math.floor(Date.now() / 1000) - 3600 });
  let jr = await journey();
  await refusedAtWallet(jr, async () => (await answer(jr.link, expired, hold)).res, /PID refused: PID expired \(exp\)/, 'validity');
  const early = await issuePid(iss, hold, { nbf: Math.floor(Date.now() / 1000) + 3600 });
  jr = await journey();
  await refusedAtWallet(jr, async () => (await answer(jr.link, early, hold)).res, /PID refused: PID not yet valid \(nbf\)/, 'validity');

  jr = await journey();
  const r = (await readRequest(jr.link)).request;
  const vp = await present(pid, hold, { aud: r.client_id, nonce: r.nonce });
  const [jwt, ...rest] = vp.split('~');
  const [, body] = jwt.split('.');
  const h = JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url'));
  const none = `${Buffer.from(JSON.stringify({ ...h, alg: 'none' })).toString('base64url')}.${body}.`;
  await refusedAtWallet(jr, () => postResponse(r, { pid: [[none, ...rest].join('~')] }), /issuer signature: alg none is not ES256/, 'signature');
});

/** Posts a refused answer at the response_uri (post: () => the POST's result) and expects it
 * counted once under check in the metrics (the refusal's reason, issue 15), no other check moved. */
async function refusedAtResponseUri(post, check) {
  const checks = ['format', 'replay', 'signature', 'binding', 'disclosure'];
  const before = Object.fromEntries(await Promise.all(checks.map(async (c) => [c, await refusals(c)])));
  const res = await post();
  for (const c of checks) {
    assert.equal(await refusals(c), before[c] + (c === check ? 1 : 0),
      `refused at the response_uri (${res.status} ${res.text?.slice(0, 120)}): check="${c}"`);
  }
  return res;
}

test('refused at the response_uri: unencrypted, another journey\'s response_uri, malformed or oversized JWE; answered once; each counted under its check in the metrics', async () => {
  const j1 = await journey();
  const { request: r1 } = await readRequest(j1.link);
  const vp = await present(pid, hold, { aud: r1.client_id, nonce: r1.nonce });
  let res = await refusedAtResponseUri(() => postResponse(r1, { pid: [vp] }, { plain: true }), 'format');
  assert.equal(res.status, 400);
  assert.match(res.json.error_description, /unencrypted response/);
  const j2 = await journey();
  const { request: r2 } = await readRequest(j2.link);
  res = await refusedAtResponseUri(() => postResponse(r1, { pid: [vp] }, { responseUri: r2.response_uri }), 'replay');
  assert.equal(res.status, 400);
  assert.match(res.json.error_description, /JWE: encrypted to another request's key/);
  for (const raw of ['a.b.c', 'x'.repeat(60000), 'eyJhbGciOiJub25lIn0....']) {
    res = await refusedAtResponseUri(() => postResponse(r1, null, { rawJwe: raw }), 'format');
    assert.equal(res.status, 400, raw.slice(0, 20));
    assert.match(res.json.error_description, /JWE: /);
  }
  assert.match(hub.logs(), /wallet response refused: unencrypted response/);
  // a login that no longer waits (or never did): nothing to answer (404), and not counted (the
  // response_uri is anonymous: a made-up rid is anyone's to post, it names no login)
  const unknown = r1.response_uri.replace(/rid=[^&]+/, `rid=${'A'.repeat(43)}`);
  res = await refusedAtResponseUri(() => postResponse(r1, { pid: [vp] }, { responseUri: unknown }), null);
  assert.equal(res.status, 404);
  // the genuine answer still goes through, once
  res = await refusedAtResponseUri(() => postResponse(r1, { pid: [vp] }), null);
  assert.equal(res.status, 200);
  const again = await refusedAtResponseUri(() => postResponse(r1, { pid: [vp] }), 'replay');
  assert.equal(again.status, 400);
  assert.match(again.json.error_description, /already answered/);
  await idToken(j1, res);
});

test('a made-up rid at the response_uri: 404, in no refusal metric and no warning, whatever it posts', async () => {
  const jr = await journey();
  const { request } = await readRequest(jr.link);
  const unknown = request.response_uri.replace(/rid=[^&]+/, `rid=${'B'.repeat(43)}`);
  const warnings = () => hub.logs().split('\n').filter((l) => /wallet response refused/.test(l)).length;
  const w0 = warnings();
  for (const opts of [{ responseUri: unknown }, { responseUri: unknown, plain: true }, { responseUri: unknown, rawJwe: 'a.b.c' }]) {
    const res = await refusedAtResponseUri(() => postResponse(request, { pid: ['x'] }, opts), null);
    assert.equal(res.status, 404, JSON.stringify(Object.keys(opts)));
  }
  assert.equal(warnings(), w0, 'no "wallet response refused" line for a rid no login has');
  // the same posts for the real login are refused and counted (as in the test above)
  const res = await refusedAtResponseUri(() => postResponse(request, null, { rawJwe: 'a.b.c' }), 'format');
  assert.equal(res.status, 400);
  assert.equal(warnings(), w0 + 1);
});

test('refused POSTs to a waiting login\'s response_uri (anyone who saw its QR code may send them) never make its waiting page or status see it as gone: the genuine answer afterwards completes the login', async () => {
  const jr = await journey();
  const { request } = await readRequest(jr.link);
  const statusUrl = new URL(/data-status="([^"]+)"/.exec(jr.page.text)[1].replace(/&amp;/g, '&'), jr.page.url).href;
  const before = await refusals('format');
  const POSTS = 4 * 60; // 4 at a time, under the IdP's max_concurrent (8) with the 2 readers
  let posting = true;
  const posted = [];
  const spam = (async () => {
    try {
      for (let i = 0; i < POSTS / 4; i++)
        posted.push(...(await Promise.all(Array.from({ length: 4 }, () => postResponse(request, null, { rawJwe: 'x' })))).map((r) => r.status));
    } finally { posting = false; }
  })();
  // the waiting browser's page (its Refresh reload) and the anonymous status, read meanwhile
  const pages = [], statuses = [];
  const reader = async (read, out) => { while (posting && out.length < 2000) out.push(await read()); };
  const stranger = new Browser();
  await Promise.all([spam,
    reader(async () => (await jr.browser.get(jr.page.url, { initiator: jr.page.url })).status, pages),
    reader(async () => { const r = await stranger.get(statusUrl, { initiator: null }); return `${r.status} ${r.text}`; }, statuses)]);
  assert.ok(pages.length > 0 && statuses.length > 0);
  assert.deepEqual([...new Set(pages)], [200], `the waiting page left the login while refused answers came in (${pages.length} reads)`);
  assert.deepEqual([...new Set(statuses)], ['200 {"ready":false}'], `the status said the login was gone (${statuses.length} reads)`);
  assert.deepEqual([...new Set(posted)], [400], 'each POST refused as itself (none finds the login gone)');
  assert.equal(await refusals('format'), before + POSTS, 'each refusal for a real login is counted');
  const c = await idToken(jr, (await answer(jr.link, pid, hold)).res);
  assert.equal(c.acr, LOA_HIGH);
});

test('refused: malformed and oversized presentations (JWS)', async () => {
  for (const [vp, reason] of [
    ['not-an-sd-jwt', /PID refused: presentation: not an SD-JWT/],
    ['a.b~', /PID refused: issuer JWT: malformed/],
    [`e30.e30.${'A'.repeat(30000)}~~`, /PID refused: issuer JWT: typ is not dc\+sd-jwt/],
    [`${'x~'.repeat(100)}`, /PID refused: presentation: more than 64 disclosures/],
  ]) {
    const jr = await journey();
    const { request } = await readRequest(jr.link);
    await refusedAtWallet(jr, () => postResponse(request, { pid: [vp] }), reason);
  }
  // and a JWE that would carry more than the adapter takes is refused at the response_uri
  const jr = await journey();
  const { request } = await readRequest(jr.link);
  const res = await refusedAtResponseUri(() => postResponse(request, { pid: ['x'.repeat(50000)] }), 'format');
  assert.equal(res.status, 400);
  assert.match(res.json.error_description, /JWE: not a compact JWE/);
});

test('settings: errors at FILE:LINE (--check-config): a certificate without the client_id DNS name, a bad issuer level, an unknown link scheme', async () => {
  const base = (settings) => ({
    hub: { issuer: 'http://127.0.0.1:18091', port: 18091, state_dir: path.join(pki.dir, 'var'), adapter_dir: ADAPTER_DIR, threads: 2, demo: false },
    loa: LOAS, idps: [{ id: 'w', adapter: 'wallet', display_name: 'Wallet', max_loa: LOA_HIGH, settings }], services: [service('svc-a')],
  });
  const cases = [
    [walletSettings({ client_id_dns: 'other.example' }), 'verifier_cert', /verifier_cert: the certificate has no DNS name other\.example/],
    [walletSettings({ verifier_key: pki.file('issuer-ca.crt') }), 'verifier_key', /verifier_key: not a PEM P-256 private key/],
    [walletSettings({ issuer_levels: 'https://pid-issuer.test=7' }), 'issuer_levels', /issuer_levels: each word must be <iss>=<level>, level 1\.\.3/],
    [walletSettings({ link_scheme: 'https' }), 'link_scheme', /link_scheme/],
  ];
  for (const [settings, name, why] of cases) {
    const text = lcFile(base(settings));
    const file = path.join(pki.dir, 'bad.conf');
    await writeFile(file, text);
    const line = text.split('\n').findIndex((l) => l.trim().startsWith(`${name} =`)) + 1;
    const r = spawnSync(IDHUB_BIN, ['--check-config', file], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 1, `${name}: ${r.stderr}`);
    assert.ok(r.stderr.startsWith(`${file}:${line}: idp 'w': `), `${name}: ${r.stderr}`);
    assert.match(r.stderr, why);
  }
});

test('data minimisation: the DCQL asks for birthdate only for a service allowed it (the subject claims aside)', async () => {
  const h2 = await walletHub({}, [service('svc-p', { redirect_uris: [cb] }), service('svc-o', { redirect_uris: [cb], scopes: ['openid'] })]);
  try {
    const dcql = async (id, scope) => {
      const cfg2 = await rpConfig(h2, id);
      const req = await authRequest(cfg2, { redirectUri: cb, scope });
      const j = await login({ authorizeUrl: req.url.href, idp: 'wallet', until: 'sandbox', browser: new Browser() });
      const link = decodeEntities(/id="wallet-link" href="([^"]+)"/.exec(j.last.text)[1]);
      return (await readRequest(link)).request.dcql_query.credentials[0];
    };
    // The preferred claim set (the issuer-assigned identifier) holds exactly what the service
    // may receive; the hashed-subject fallback set always holds what the subject needs.
    const p = await dcql('svc-p', 'openid profile');
    assert.deepEqual(p.claim_sets[0].sort(), ['birthdate', 'family_name', 'given_name', 'personal_administrative_number']);
    const o = await dcql('svc-o', 'openid profile');
    assert.deepEqual(o.claim_sets[0], ['personal_administrative_number']);
    assert.deepEqual(o.claim_sets[1].sort(), ['birthdate', 'family_name', 'given_name', 'place_of_birth']);
    // allowed profile but asking for openid only: nothing beyond the subject
    const n = await dcql('svc-p', 'openid');
    assert.deepEqual(n.claim_sets[0], ['personal_administrative_number']);
  } finally {
    await h2.stopAndCheck();
  }
});

test('data minimisation, end to end: the test wallet discloses exactly what the DCQL asks, less for a service with fewer scopes', async () => {
  const h2 = await walletHub({}, [service('svc-p', { redirect_uris: [cb] }), service('svc-o', { redirect_uris: [cb], scopes: ['openid'] })]);
  const withId = await issuePid(iss, hold, { claims: { ...PID_CLAIMS, personal_administrative_number: 'DE-4711' } });
  /** A login at service id with the PID cred: what the wallet disclosed, and the ID token's claims. */
  const run = async (id, cred) => {
    const cfg2 = await rpConfig(h2, id);
    const req = await authRequest(cfg2, { redirectUri: cb, scope: 'openid profile' });
    const j = await login({ authorizeUrl: req.url.href, idp: 'wallet', until: 'sandbox', browser: new Browser() });
    const link = decodeEntities(/id="wallet-link" href="([^"]+)"/.exec(j.last.text)[1]);
    const { vp, res } = await answer(link, cred, hold);
    assert.equal(res.status, 200, res.text);
    const c = await j.browser.get(res.json.redirect_uri, { initiator: null });
    assert.ok(c.location?.startsWith(cb), `no redirect to the service: ${c.status} ${c.text?.slice(0, 200)}`);
    const tokens = await client.authorizationCodeGrant(cfg2, new URL(c.location), {
      pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true });
    return { disclosed: disclosedNames(vp), claims: tokens.claims() };
  };
  try {
    // a PID with an issuer-assigned identifier: the first claim set, nothing else
    let p = await run('svc-p', withId), o = await run('svc-o', withId);
    assert.deepEqual(p.disclosed, ['birthdate', 'family_name', 'given_name', 'personal_administrative_number']);
    assert.deepEqual(o.disclosed, ['personal_administrative_number'], 'a service without profile: the identifier alone');
    assert.equal(p.claims.given_name, 'Erika');
    assert.equal(o.claims.given_name, undefined);
    assert.equal(o.claims.acr, LOA_HIGH);
    // a PID without one: the fallback set (what the hashed subject needs), still nothing more
    p = await run('svc-p', pid), o = await run('svc-o', pid);
    assert.deepEqual(p.disclosed, ['birthdate', 'family_name', 'given_name', 'place_of_birth']);
    assert.deepEqual(o.disclosed, ['birthdate', 'family_name', 'given_name', 'place_of_birth']);
    assert.equal(o.claims.given_name, undefined, 'disclosed for the subject, not released to the service');
    assert.equal(o.claims.birthdate, undefined);
  } finally {
    await h2.stopAndCheck();
  }
});

test('the test wallet honours DCQL: it answers nothing for a PID that cannot satisfy the query, or of another vct', async () => {
  const thin = await issuePid(iss, hold, { claims: { given_name: 'Erika', family_name: 'Mustermann', birthdate: '1964-08-12' } });
  let jr = await journey();
  await assert.rejects(answer(jr.link, thin, hold), /the PID cannot satisfy the DCQL query/);
  const other = await issuePid(iss, hold, { vct: 'urn:example:not-a-pid' });
  await assert.rejects(answer(jr.link, other, hold), /no credential matches/);
  // and the same journey still completes with a PID that can
  await idToken(jr, (await answer(jr.link, pid, hold)).res);
});

test('issuer_levels: a PID from an issuer listed at substantial gives substantial, not high (a level by number or by its loa name)', async () => {
  const h2 = await walletHub({ issuer_levels: `https://other.test=${LOA_HIGH} https://pid-issuer.test=2` });
  try {
    const cfg2 = await rpConfig(h2, 'svc');
    const req = await authRequest(cfg2, { redirectUri: cb });
    const j = await login({ authorizeUrl: req.url.href, idp: 'wallet', until: 'sandbox', browser: new Browser() });
    const link = decodeEntities(/id="wallet-link" href="([^"]+)"/.exec(j.last.text)[1]);
    const { res } = await answer(link, pid, hold);
    const c = await j.browser.get(res.json.redirect_uri, { initiator: null });
    assert.ok(c.location?.startsWith(cb), `no redirect to the service: ${c.status}`);
    const tokens = await client.authorizationCodeGrant(cfg2, new URL(c.location), {
      pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true });
    assert.equal(tokens.claims().acr, LOA_SUBSTANTIAL);
  } finally {
    await h2.stopAndCheck();
  }
});

test('link_scheme: the link and the QR code use the configured scheme (haip-vp), and a wallet completes from it', async () => {
  const h2 = await walletHub({ link_scheme: 'haip-vp' });
  try {
    const cfg2 = await rpConfig(h2, 'svc');
    const req = await authRequest(cfg2, { redirectUri: cb });
    const j = await login({ authorizeUrl: req.url.href, idp: 'wallet', until: 'sandbox', browser: new Browser() });
    const link = decodeEntities(/id="wallet-link" href="([^"]+)"/.exec(j.last.text)[1]);
    assert.match(link, /^haip-vp:\/\/\?client_id=x509_san_dns%3Averifier\.idhub\.test&request_uri=/);
    const { res } = await answer(link, pid, hold);
    const c = await j.browser.get(res.json.redirect_uri, { initiator: null });
    assert.ok(c.location?.startsWith(cb), `no redirect to the service: ${c.status}`);
  } finally {
    await h2.stopAndCheck();
  }
});

test('trust_anchors: the file is reread (document service): an issuer CA added later is trusted without a restart', async () => {
  const anchors = path.join(pki.dir, 'anchors-live.pem');
  await copyFile(pki.file('rogue-ca.crt'), anchors);
  const h3 = await walletHub({ trust_anchors: anchors, trust_refresh: '1s' });
  try {
    const cfg3 = await rpConfig(h3, 'svc');
    const attempt = async () => {
      const req = await authRequest(cfg3, { redirectUri: cb });
      const j = await login({ authorizeUrl: req.url.href, idp: 'wallet', until: 'sandbox', browser: new Browser() });
      const link = decodeEntities(/id="wallet-link" href="([^"]+)"/.exec(j.last.text)[1]);
      const { res } = await answer(link, pid, hold);
      if (res.status !== 200) return res; // refused at the response_uri
      const c = await j.browser.get(res.json.redirect_uri, { initiator: null });
      return c.location?.startsWith(cb) ?? false;
    };
    const first = await attempt();
    assert.equal(first.status, 400, 'the issuer CA is not trusted yet: the answer is refused at the response_uri');
    assert.match(first.json.error_description, /x5c chain not trusted/);
    assert.match(h3.logs(), /x5c chain not trusted/);
    await writeFile(anchors, (await readFile(pki.file('rogue-ca.crt'), 'utf8')) + (await readFile(pki.file('issuer-ca.crt'), 'utf8')));
    let ok = false;
    for (let i = 0; i < 20 && !ok; i++) {
      await new Promise((r) => setTimeout(r, 300));
      ok = (await attempt()) === true;
    }
    assert.ok(ok, 'the reread trust list lets the issuer in');
  } finally {
    await h3.stopAndCheck();
  }
});

test('tests/tools/try-wallet.mjs (README: trying the wallet without one): setup makes a PKI a hub accepts, answer logs in from a link', async () => {
  const tool = path.join(REPO, 'tests/tools/try-wallet.mjs');
  const dir = path.join(pki.dir, 'try');
  const run = (...args) => spawnSync(process.execPath, [tool, ...args], { encoding: 'utf8', timeout: 30000 });
  const setup = run('setup', dir);
  assert.equal(setup.status, 0, setup.stderr);
  assert.ok(setup.stdout.includes(`verifier_cert = "${path.join(dir, 'verifier.crt')}"`), setup.stdout);
  const h2 = await startHub({
    idps: [{ id: 'wallet', adapter: 'wallet', display_name: 'Wallet', max_loa: LOA_HIGH,
      settings: { verifier_key: path.join(dir, 'verifier.key'), verifier_cert: path.join(dir, 'verifier.crt'),
        client_id_dns: 'verifier.idhub.test', trust_anchors: path.join(dir, 'issuer-ca.crt') } }],
    services: [service('svc', { redirect_uris: [cb] })],
  });
  try {
    const cfg2 = await rpConfig(h2, 'svc');
    const req = await authRequest(cfg2, { redirectUri: cb });
    const j = await login({ authorizeUrl: req.url.href, idp: 'wallet', until: 'sandbox', browser: new Browser() });
    const link = decodeEntities(/id="wallet-link" href="([^"]+)"/.exec(j.last.text)[1]);
    const ans = run('answer', dir, link);
    assert.equal(ans.status, 0, ans.stderr);
    const redirect = /^(http\S+response_code=\S+)$/m.exec(ans.stdout)?.[1];
    assert.ok(redirect, ans.stdout);
    const c = await j.browser.get(redirect, { initiator: null });
    assert.ok(c.location?.startsWith(cb), `no redirect to the service: ${c.status}`);
    assert.equal(run('answer', dir, 'https://not-a-wallet-link').status, 2);
  } finally {
    await h2.stopAndCheck();
  }
});

// ---- the way off the waiting page, and a page for a login that no longer waits (issue 13) ----

/** The waiting page's POST forms to the adapter's /cancel: [Back, "choose another way"]. */
function cancelForms(page) {
  return parseForms(page.text).map((f, i) => ({ f, i }))
    .filter(({ f }) => new URL(f.action || page.url, page.url).pathname === '/idp/wallet/cancel');
}

/** Submits the waiting page's cancel form i in the browser; the 303's target, followed. */
async function cancelAt(jr, i) {
  const { i: formIndex } = cancelForms(jr.page)[i];
  const post = await jr.browser.submitForm(jr.page.text, jr.page.url, {}, { formIndex });
  assert.equal(post.status, 303, `the cancel POST: ${post.status} ${post.text.slice(0, 200)}`);
  assert.match(post.location, /\/callback\/wallet\?state=[\w-]+&cancel=1$/);
  return jr.browser.get(post.location, { initiator: post.url });
}

/** A journey page as the citizen meets it: status, heading, message, and its actions (links and
 * forms in main, the journey's own id masked), to compare two pages. */
function pageShape(r) {
  const main = /<main[\s\S]*<\/main>/.exec(r.text)?.[0] ?? '';
  const mask = (u) => new URL(u, r.url).pathname.replace(/\/login\/[^/]+/, '/login/J');
  return { status: r.status, h1: /<h1[^>]*>([^<]*)</.exec(main)?.[1], p: /<p>([^<]*)</.exec(main)?.[1],
    links: links(main, r.url).map((l) => mask(l.href)),
    forms: parseForms(main).map((f) => `${f.method} ${mask(f.action || r.url)}`) };
}

test('the waiting page\'s Back (at the top) and "choose another way" are POST forms that end the login as a cancel at the sandbox does: the same page, the service then gets access_denied; the wallet\'s answer afterwards is refused (replay, counted) and the page leads on', async () => {
  // the sandbox's cancel, for comparison
  const sreq = await authRequest(config, { redirectUri: cb });
  const sj = await login({ authorizeUrl: sreq.url.href, idp: 'sandbox', action: 'cancel', until: 'callback', browser: new Browser() });
  const sandboxPage = pageShape(sj.steps.callback);
  assert.equal(sandboxPage.status, 400);
  assert.equal(sandboxPage.h1, 'You did not finish proving your identity');
  assert.ok(sandboxPage.links.includes('/login/J') && sandboxPage.forms.includes('post /login/J/cancel'),
    `the cancelled page's actions: ${JSON.stringify(sandboxPage)}`);

  const jr = await journey();
  const forms = cancelForms(jr.page);
  assert.equal(forms.length, 2, 'Back and "choose another way"');
  assert.ok(forms.every(({ f }) => f.method === 'post' && f.fields.some((x) => x.name === 'rid')));
  assert.match(jr.page.text, /<main[^>]*>\s*<form method="post" action="\/idp\/wallet\/cancel"[^>]*>.*?<button class="link-button back" type="submit">Back<\/button><\/form>\s*<h1>/s,
    'Back is first in main, before the heading (GOV.UK Back link)');
  assert.match(jr.page.text, /<button class="button secondary" type="submit">Choose another way to prove your identity<\/button>/);
  const { request } = await readRequest(jr.link); // the wallet has the request before the cancel
  const page = await cancelAt(jr, 0);
  assert.deepEqual(pageShape(page), sandboxPage, 'a cancel at the wallet\'s page ends as one at the sandbox');
  assert.match(hub.logs(), /wallet refused: the person cancelled at the wallet page/);
  // the cancelled page's "return to the service" (a POST) takes the service its access_denied
  const fi = parseForms(page.text).findIndex((f) => /\/login\/[^/]+\/cancel$/.test(new URL(f.action, page.url).pathname));
  const ret = await jr.browser.submitForm(page.text, page.url, {}, { formIndex: fi });
  assert.equal(ret.status, 303);
  const q = redirectParams(ret.location);
  assert.equal(q.base, cb);
  assert.equal(q.params.error, 'access_denied');
  assert.equal(q.params.state, jr.req.state);
  assert.equal(q.params.code, undefined);
  // the wallet answers late: refused, never parked, counted as replay
  const vp = await present(pid, hold, { aud: request.client_id, nonce: request.nonce });
  const late = await refusedAtResponseUri(() => postResponse(request, { pid: [vp] }), 'replay');
  assert.equal(late.status, 400);
  assert.match(late.json.error_description, /this login was cancelled/);
  await assert.rejects(readRequest(jr.link), /404/, 'no request object for a cancelled login');
  // the polling page moves on (ready), and its reload leads to the hub's page for a finished sign-in
  const statusUrl = new URL(decodeEntities(/data-status="([^"]+)"/.exec(jr.page.text)[1]), jr.page.url).href;
  assert.equal((await new Browser().get(statusUrl)).text, '{"ready":true}');
  const again = await jr.browser.get(jr.page.url, { initiator: jr.page.url });
  assert.equal(again.status, 303);
  assert.match(again.location, /\/callback\/wallet\?state=[\w-]+$/, 'no response code, no cancel');
  const ended = await jr.browser.get(again.location, { initiator: again.url });
  assert.equal(ended.status, 400);
  assert.match(ended.text, /<h1>You have already finished signing in<\/h1>/);
});

test('"choose another way" on the waiting page: the cancelled page\'s own "choose another way" goes back to the picker, and the same journey then signs in', async () => {
  const jr = await journey();
  const page = await cancelAt(jr, 1);
  assert.equal(page.status, 400);
  const another = links(page.text, page.url).find((l) => /^\/login\/[^/]+$/.test(new URL(l.href).pathname));
  assert.ok(another, 'a "choose another way" link');
  const p = await jr.browser.get(another.href, { initiator: page.url });
  assert.equal(p.status, 200);
  const pp = await jr.browser.submitForm(p.text, p.url, { idp: 'wallet' }, { form: isPickerForm });
  assert.equal(pp.status, 303);
  const w = await jr.browser.get(pp.location, { initiator: pp.url });
  assert.equal(w.status, 200);
  const link = decodeEntities(/id="wallet-link" href="([^"]+)"/.exec(w.text)[1]);
  const c = await idToken(jr, (await answer(link, pid, hold)).res);
  assert.equal(c.acr, LOA_HIGH);
});

test('a cancel from another browser, or from another site\'s form, does no harm: the login waits on and signs in', async () => {
  const jr = await journey();
  const { f } = cancelForms(jr.page)[0];
  const action = new URL(f.action, jr.page.url).href;
  const rid = f.fields.find((x) => x.name === 'rid').value;
  // another browser that learnt the login's rid (it is in the QR code): the callback's other-browser page
  const stranger = new Browser();
  const sp = await stranger.post(action, { rid }, { initiator: jr.page.url });
  assert.equal(sp.status, 303);
  const sc = await stranger.get(sp.location, { initiator: sp.url });
  assert.equal(sc.status, 403);
  assert.match(sc.text, /started in another browser/);
  // a cross-site form in the citizen's own browser (which would carry the journey's cookie)
  for (const headers of [{ origin: 'https://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site', origin: 'null' }]) {
    const x = await jr.browser.post(action, { rid }, { initiator: 'https://evil.example/page', headers });
    assert.equal(x.status, 404, `a cross-site cancel (${JSON.stringify(headers)}) goes nowhere`);
  }
  // our own page's form, as a browser sends it under Referrer-Policy no-referrer (Origin: null), is fine:
  // shown by the Back test above; here the login still waits, and the wallet completes it
  const wait = await jr.browser.get(jr.page.url, { initiator: jr.page.url });
  assert.equal(wait.status, 200, 'still waiting');
  const c = await idToken(jr, (await answer(jr.link, pid, hold)).res);
  assert.equal(c.acr, LOA_HIGH);
});

test('the wallet\'s page for a login that no longer waits leads on: to the hub\'s "already finished" page after a sign-in, and to its cancelled page (choose another way) for one that never got an answer', async () => {
  const jr = await journey();
  await idToken(jr, (await answer(jr.link, pid, hold)).res);
  const w = await jr.browser.get(jr.page.url, { initiator: jr.page.url });
  assert.equal(w.status, 303, 'the page sends the browser to the callback');
  const done = await jr.browser.get(w.location, { initiator: w.url });
  assert.equal(done.status, 400);
  assert.match(done.text, /<h1>You have already finished signing in<\/h1>/);
  // a login still waiting whose browser is sent to the callback without a response code (anyone
  // who saw the QR code knows its state): it ends, worded as left, with a way forward
  const j2 = await journey();
  const rid = /[?&]rid=([\w-]+)/.exec(j2.page.url)[1];
  const c = await j2.browser.get(`${hub.issuer}/callback/wallet?state=${rid}`, { initiator: j2.page.url });
  assert.equal(c.status, 400);
  assert.match(c.text, /<h1>You did not finish proving your identity<\/h1>/);
  assert.match(c.text, /You stopped before you finished\./, 'not worded as a time-out: the wait was not over');
  assert.ok(links(c.text, c.url).some((l) => /^\/login\/[^/]+$/.test(new URL(l.href).pathname)), 'choose another way');
  assert.match(hub.logs(), /wallet refused: the login was left before the wallet answered/);
  await assert.rejects(readRequest(j2.link), /404/, 'the login no longer waits: no request object');
});

test('a login whose wallet never answered is worded as timed out (not as a cancel), with "choose another way"', async () => {
  // response_ttl at its least (30 s): the waiting page, reloaded after it, leads to the callback
  const h2 = await walletHub({ response_ttl: '30s' });
  let c;
  try {
    const req = await authRequest(await rpConfig(h2, 'svc'), { redirectUri: cb });
    const j = await login({ authorizeUrl: req.url.href, idp: 'wallet', until: 'sandbox', browser: new Browser() });
    await sleep(31000);
    const w = await j.browser.get(j.last.url, { initiator: j.last.url });
    assert.equal(w.status, 303, 'the wait is over: the page sends the browser to the callback');
    c = await j.browser.get(w.location, { initiator: w.url });
    assert.match(h2.logs(), /wallet refused: the wallet did not answer while the login waited/);
  } finally {
    await h2.stopAndCheck();
  }
  assert.equal(c.status, 400);
  assert.match(c.text, /Your sign-in timed out before we got an answer\./);
  assert.doesNotMatch(c.text, /You stopped before you finished/, 'not the cancelled page\'s words');
  assert.ok(links(c.text, c.url).some((l) => /^\/login\/[^/]+$/.test(new URL(l.href).pathname) && /Choose another way/.test(l.text)),
    'choose another way');
  // a cancel at the wallet's page keeps the cancelled page's words
  const jc = await journey();
  const page = await cancelAt(jc, 0);
  assert.match(page.text, /You stopped before you finished\./);
});
