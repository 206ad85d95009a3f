// /authorize refusals: before the client and redirect URI are trusted a 400 HTML page, never a redirect;
// afterwards a 303 to the registered redirect URI with error, error_description, state and iss.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, LOA_HIGH } from './lib/hub.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
let hub;

before(async () => {
  hub = await startHub({ services: [service('svc-a', { redirect_uris: [CB] }), service('svc-b', { redirect_uris: ['http://127.0.0.1:9/svc-b/cb'] })] });
});
after(async () => { await hub?.stopAndCheck(); });

const BASE = () => [
  ['response_type', 'code'], ['client_id', 'svc-a'], ['redirect_uri', CB], ['scope', 'openid profile'],
  ['state', 'st-123'], ['nonce', 'n-456'], ['code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGwSt9-cM0'],
  ['code_challenge_method', 'S256'],
];

/** BASE with edits: {name: value} replaces (null removes); add: extra pairs appended (duplicates). */
function params(edits = {}, add = []) {
  let p = BASE();
  for (const [k, v] of Object.entries(edits)) {
    const i = p.findIndex(([n]) => n === k);
    if (v === null) { if (i >= 0) p.splice(i, 1); } else if (i >= 0) p[i] = [k, v]; else p.push([k, v]);
  }
  return [...p, ...add];
}

async function authorize(pairs) {
  const url = `${hub.issuer}/authorize?${new URLSearchParams(pairs)}`;
  const res = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
  return { status: res.status, location: res.headers.get('location'), headers: res.headers, text: await res.text(), url };
}

function assertPage400(r, what) {
  assert.equal(r.status, 400, `${what}: expected 400, got ${r.status} ${r.location || ''}`);
  assert.equal(r.location, null, `${what}: never a redirect`);
  assert.match(r.headers.get('content-type') || '', /text\/html/, `${what}: an HTML page`);
  assert.doesNotMatch(r.text, /code=/, `${what}: no code`);
}

function assertErrorRedirect(r, error, what, { state = 'st-123' } = {}) {
  assert.equal(r.status, 303, `${what}: expected 303 with error=${error}, got ${r.status} ${r.location || ''} ${r.text.slice(0, 300)}`);
  assert.ok(r.location, `${what}: Location`);
  const u = new URL(r.location, hub.issuer);
  const q = u.searchParams;
  assert.equal(`${u.origin}${u.pathname}`, CB, `${what}: to the registered redirect URI`);
  assert.equal(q.get('error'), error, `${what}: error (${r.location})`);
  assert.ok(q.get('error_description'), `${what}: error_description`);
  assert.equal(q.get('iss'), hub.issuer, `${what}: iss`);
  if (state === null) assert.equal(q.has('state'), false, `${what}: no state when none was sent`);
  else assert.equal(q.get('state'), state, `${what}: state`);
  assert.equal(q.has('code'), false, `${what}: no code`);
  for (const k of ['error', 'state', 'iss', 'code']) assert.ok(q.getAll(k).length <= 1, `${what}: ${k} once`);
}

function assertRefused(r, what) {
  // over a limit: a 400 (or other 4xx) page, or an invalid_request redirect
  if (r.status === 303) assertErrorRedirect(r, 'invalid_request', what);
  else {
    assert.ok(r.status >= 400 && r.status < 500, `${what}: expected 4xx or invalid_request, got ${r.status} ${r.location || ''}`);
    assert.equal(r.location, null, `${what}: no Location on a 4xx`);
  }
}

test('a valid request is a 303 to ISSUER/login/<journey id>', async () => {
  const r = await authorize(params());
  assert.equal(r.status, 303, r.text.slice(0, 500));
  assert.match(r.location, new RegExp(`^(${hub.issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})?/login/[^/?#]+$`));
});

test('unknown or missing client_id: 400 page, no redirect', async () => {
  assertPage400(await authorize(params({ client_id: 'nobody' })), 'unknown client');
  assertPage400(await authorize(params({ client_id: null })), 'missing client_id');
  assertPage400(await authorize(params({ client_id: '' })), 'empty client_id');
});

test('redirect_uri missing or not registered (exact match only): 400 page, never a redirect', async () => {
  const cases = {
    missing: null,
    other: 'http://127.0.0.1:9/evil/cb',
    'another client\'s': 'http://127.0.0.1:9/svc-b/cb',
    'trailing slash': CB + '/',
    'path case': CB.replace('/cb', '/CB'),
    'added query': CB + '?x=1',
    'added fragment': CB + '#f',
    'other port': CB.replace(':9/', ':10/'),
    'https': CB.replace('http:', 'https:'),
    'localhost host': CB.replace('127.0.0.1', 'localhost'),
    'dot segment': 'http://127.0.0.1:9/svc-a/x/../cb',
    'percent-encoded path': 'http://127.0.0.1:9/svc-a/%63b',
  };
  for (const [what, v] of Object.entries(cases)) assertPage400(await authorize(params({ redirect_uri: v })), `redirect_uri ${what}`);
});

test('duplicated redirect_uri or client_id: 400 page', async () => {
  assertPage400(await authorize(params({}, [['redirect_uri', CB]])), 'duplicated redirect_uri (same value)');
  assertPage400(await authorize(params({}, [['redirect_uri', 'http://127.0.0.1:9/evil']])), 'duplicated redirect_uri');
  assertPage400(await authorize(params({}, [['client_id', 'svc-a']])), 'duplicated client_id (same value)');
  assertPage400(await authorize(params({}, [['client_id', 'svc-b']])), 'duplicated client_id');
});

test('an empty duplicate counts as repeated: client_id=&client_id=x is a 400 page, state=&state=x an error redirect', async () => {
  // RFC 6749 §3.1: a lone empty parameter is omitted, but next to another it is a repetition
  const emptyFirst = (name) => { const p = BASE(); const i = p.findIndex(([n]) => n === name); p.splice(i, 0, [name, '']); return p; };
  assertPage400(await authorize(emptyFirst('client_id')), 'client_id=&client_id=svc-a');
  assertPage400(await authorize(emptyFirst('redirect_uri')), 'redirect_uri=&redirect_uri=CB');
  assertPage400(await authorize(params({}, [['client_id', '']])), 'client_id=svc-a&client_id=');
  assertErrorRedirect(await authorize(emptyFirst('nonce')), 'invalid_request', 'nonce=&nonce=n-456');
});

test('response_type missing, duplicated or empty: invalid_request redirect', async () => {
  assertErrorRedirect(await authorize(params({ response_type: null })), 'invalid_request', 'missing response_type');
  assertErrorRedirect(await authorize(params({}, [['response_type', 'code']])), 'invalid_request', 'duplicated response_type');
  assertErrorRedirect(await authorize(params({ response_type: '' })), 'invalid_request', 'empty response_type');
});

test('other duplicated parameters: invalid_request', async () => {
  for (const [k, v] of [['scope', 'openid'], ['nonce', 'n2'], ['code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGwSt9-cM0'], ['code_challenge_method', 'S256'], ['acr_values', 'x'], ['prompt', 'login']]) {
    const extra = BASE().some(([n]) => n === k) ? [[k, v]] : [[k, v], [k, v]];
    assertErrorRedirect(await authorize(params({}, extra)), 'invalid_request', `duplicated ${k}`);
  }
});

test('response_type token or code id_token: unsupported_response_type', async () => {
  assertErrorRedirect(await authorize(params({ response_type: 'token' })), 'unsupported_response_type', 'token');
  assertErrorRedirect(await authorize(params({ response_type: 'code id_token' })), 'unsupported_response_type', 'code id_token');
});

test('PKCE: no code_challenge, method plain or missing: invalid_request', async () => {
  assertErrorRedirect(await authorize(params({ code_challenge: null })), 'invalid_request', 'no code_challenge');
  assertErrorRedirect(await authorize(params({ code_challenge_method: 'plain' })), 'invalid_request', 'plain');
  assertErrorRedirect(await authorize(params({ code_challenge_method: null })), 'invalid_request', 'no method (defaults to plain)');
  assertErrorRedirect(await authorize(params({ code_challenge: 'short' })), 'invalid_request', 'a challenge that is not 43 base64url chars');
});

test('scope without openid: invalid_scope', async () => {
  assertErrorRedirect(await authorize(params({ scope: 'profile' })), 'invalid_scope', 'no openid');
  assertErrorRedirect(await authorize(params({ scope: 'openidx profile' })), 'invalid_scope', 'openidx is not openid');
});

test('missing nonce: invalid_request; missing state: invalid_request with no state in the redirect', async () => {
  assertErrorRedirect(await authorize(params({ nonce: null })), 'invalid_request', 'missing nonce');
  assertErrorRedirect(await authorize(params({ state: null })), 'invalid_request', 'missing state', { state: null });
});

test('acr_values only above the sandbox maximum: unmet_authentication_requirements', async () => {
  assertErrorRedirect(await authorize(params({ acr_values: LOA_HIGH })), 'unmet_authentication_requirements', 'acr high');
});

test('prompt=none: login_required', async () => {
  assertErrorRedirect(await authorize(params({ prompt: 'none' })), 'login_required', 'prompt none');
});

test('request objects are not supported: request_not_supported / request_uri_not_supported', async () => {
  const jwt = 'eyJhbGciOiJub25lIn0.eyJjbGllbnRfaWQiOiJzdmMtYSJ9.';
  assertErrorRedirect(await authorize(params({ request: jwt })), 'request_not_supported', 'request');
  assertErrorRedirect(await authorize(params({ request_uri: 'https://rp.example/req.jwt' })), 'request_uri_not_supported', 'request_uri');
});

test('limits: a value over 4096 bytes, more than 64 parameters, a URL over 8 KiB are refused', async () => {
  assertRefused(await authorize(params({ nonce: 'n'.repeat(4097) })), 'nonce of 4097 bytes');
  assertRefused(await authorize(params({ login_hint: 'h'.repeat(5000) })), 'login_hint of 5000 bytes');
  const many = Array.from({ length: 60 }, (_, i) => [`x${i}`, 'y']); // 8 + 60 = 68 parameters
  assertRefused(await authorize(params({}, many)), '68 parameters');
  const big = Array.from({ length: 9 }, (_, i) => [`pad${i}`, 'p'.repeat(1000)]); // ~9.3 KiB URL, no value over 4096
  const r = await authorize(params({}, big));
  assert.ok(r.url.length > 8192);
  assertRefused(r, 'URL over 8 KiB');
  // a value of exactly 4096 bytes is within the limit
  const ok = await authorize(params({ login_hint: 'h'.repeat(4096) }));
  assert.equal(ok.status, 303);
  assert.match(ok.location, /\/login\//, 'login_hint of 4096 bytes accepted');
});

test('malformed requests: bad percent-encoding, NUL bytes, non-UTF-8 do not crash the daemon', async () => {
  for (const q of ['client_id=%ZZ', 'client_id=svc-a%00x', 'client_id=%ff%fe', '%%%', '=&=&', 'a=b=c&&&']) {
    const res = await fetch(`${hub.issuer}/authorize?${q}`, { redirect: 'manual' });
    await res.text();
    assert.equal(res.status, 400, q);
    assert.equal(res.headers.get('location'), null, q);
  }
  const post = await fetch(`${hub.issuer}/authorize`, { method: 'POST', redirect: 'manual', body: 'x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  await post.text();
  assert.ok(post.status >= 400 && post.status < 500 || post.status === 303, `POST /authorize: ${post.status}`);
});

test('the daemon still answers /healthz after all of it', async () => {
  const r = await fetch(`${hub.issuer}/healthz`);
  assert.equal(r.status, 200);
  await r.text();
  assert.ok(hub.running, 'still running');
});
