// Discovery metadata, the JWKS and its caching, security headers on HTML pages, the browser cookie.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, LOAS } from './lib/hub.mjs';
import { Browser, login } from './lib/browser.mjs';
import { rpConfig, authRequest } from './lib/rp.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
let hub;
let cfg;

before(async () => {
  hub = await startHub({ hub: { jwks_max_age: 123 }, services: [service('svc-a', { redirect_uris: [CB] })] });
  cfg = await rpConfig(hub, 'svc-a');
});
after(async () => { await hub?.stopAndCheck(); });

test('discovery document', async () => {
  const res = await fetch(`${hub.issuer}/.well-known/openid-configuration`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /^application\/json/);
  const d = await res.json();
  assert.equal(d.issuer, hub.issuer);
  assert.equal(d.authorization_endpoint, `${hub.issuer}/authorize`);
  assert.equal(d.token_endpoint, `${hub.issuer}/token`);
  assert.equal(d.userinfo_endpoint, `${hub.issuer}/userinfo`);
  assert.equal(d.jwks_uri, `${hub.issuer}/jwks`);
  assert.deepEqual(d.response_types_supported, ['code']);
  assert.deepEqual(d.subject_types_supported, ['pairwise']);
  assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
  assert.equal(d.authorization_response_iss_parameter_supported, true);
  assert.ok(Array.isArray(d.id_token_signing_alg_values_supported) && d.id_token_signing_alg_values_supported.length > 0);
  assert.ok(!d.id_token_signing_alg_values_supported.includes('none'), 'alg none is never offered');
  assert.ok(d.scopes_supported?.includes('openid'), 'scopes_supported includes openid');
  if (d.grant_types_supported) assert.deepEqual(d.grant_types_supported, ['authorization_code', 'refresh_token']);
  if (d.response_modes_supported) assert.ok(d.response_modes_supported.includes('query'));
  for (const m of ['client_secret_basic', 'client_secret_post', 'private_key_jwt']) {
    assert.ok(d.token_endpoint_auth_methods_supported?.includes(m), `token_endpoint_auth_methods_supported has ${m}`);
  }
  if (d.token_endpoint_auth_methods_supported.includes('private_key_jwt')) {
    assert.ok(d.token_endpoint_auth_signing_alg_values_supported?.length > 0, 'token_endpoint_auth_signing_alg_values_supported');
  }
  if (d.acr_values_supported) assert.deepEqual(d.acr_values_supported, LOAS);
  if (d.request_parameter_supported !== undefined) assert.equal(d.request_parameter_supported, false);
  if (d.request_uri_parameter_supported !== undefined) assert.equal(d.request_uri_parameter_supported, false);
  // openid-client accepted it (the discovery in before() validated issuer equality)
  assert.equal(cfg.serverMetadata().issuer, hub.issuer);
});

test('JWKS: public keys only, Cache-Control public, max-age = hub.jwks_max_age', async () => {
  const res = await fetch(`${hub.issuer}/jwks`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /^application\/(jwk-set\+)?json/);
  const cc = (res.headers.get('cache-control') || '').toLowerCase();
  assert.match(cc, /\bpublic\b/, `Cache-Control: ${cc}`);
  assert.match(cc, /\bmax-age=123\b/, `Cache-Control: ${cc}`);
  const jwks = await res.json();
  assert.ok(Array.isArray(jwks.keys) && jwks.keys.length > 0);
  for (const k of jwks.keys) {
    assert.ok(k.kid && k.kty);
    for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.equal(k[priv], undefined, `no ${priv}`);
    if (k.use) assert.equal(k.use, 'sig');
  }
});

function assertSecurityHeaders(res, what) {
  const h = res.headers;
  const csp = h.get('content-security-policy') || '';
  assert.ok(csp, `${what}: Content-Security-Policy`);
  assert.equal((h.get('x-content-type-options') || '').toLowerCase(), 'nosniff', `${what}: X-Content-Type-Options`);
  const xfo = (h.get('x-frame-options') || '').toUpperCase();
  assert.ok(/frame-ancestors\s+('none'|'self')/.test(csp) || xfo === 'DENY' || xfo === 'SAMEORIGIN', `${what}: frame-ancestors or X-Frame-Options (CSP: ${csp})`);
  const dirs = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map(([n, ...v]) => [n.toLowerCase(), v]));
  const scripts = dirs['script-src'] || dirs['default-src'] || [];
  if (scripts.includes("'unsafe-inline'")) {
    assert.ok(scripts.some((v) => /^'(nonce|sha256|sha384|sha512)-/.test(v)), `${what}: 'unsafe-inline' scripts without a nonce or hash (CSP: ${csp})`);
  }
  assert.match(h.get('content-type') || '', /text\/html/, `${what}: text/html`);
}

test('security headers on the hub\'s HTML pages (picker, error pages, auto-POST)', async () => {
  const req = await authRequest(cfg, { redirectUri: CB });
  const j = await login({ authorizeUrl: req.url.href });
  assertSecurityHeaders(j.steps.picker, 'picker');
  // the re-post page (served only when the store cannot park a cross-site POST): prg.test.mjs
  const ua = new Browser();
  assertSecurityHeaders(await ua.get(`${hub.issuer}/authorize?client_id=nobody`), 'authorize 400 page');
  assertSecurityHeaders(await ua.get(`${hub.issuer}/login/unknown-journey`), 'unknown journey page');
  // the sandbox pages are HTML served by the hub too
  assertSecurityHeaders(j.steps.sandbox, 'sandbox IdP page');
  assertSecurityHeaders(j.steps.autopost, 'auto-POST page');
});

test('the idhub_browser cookie: HttpOnly, SameSite=Lax, not Secure on http', async () => {
  const req = await authRequest(cfg, { redirectUri: CB });
  const ua = new Browser();
  const res = await ua.get(req.url.href);
  assert.equal(res.status, 303);
  const raw = res.setCookies.find((c) => /^\s*idhub_browser=/.test(c));
  assert.ok(raw, `Set-Cookie idhub_browser on /authorize: ${JSON.stringify(res.setCookies)}`);
  const attrs = raw.split(';').slice(1).map((a) => a.trim().toLowerCase());
  assert.ok(attrs.includes('httponly'), `HttpOnly: ${raw}`);
  assert.ok(attrs.includes('samesite=lax'), `SameSite=Lax: ${raw}`);
  assert.ok(!attrs.includes('secure'), `no Secure over http: ${raw}`);
  assert.ok(!attrs.some((a) => a.startsWith('domain=')), `host-only (no Domain): ${raw}`);
  const value = raw.split(';')[0].split('=').slice(1).join('=');
  assert.ok(value.length >= 22, 'the cookie value carries at least 128 bits');
  const path = attrs.find((a) => a.startsWith('path='));
  assert.ok(!path || path === 'path=/', `Path=/ (the cookie must reach /login and /callback): ${raw}`);
});

test('unknown paths are 404; /healthz answers ok', async () => {
  const r = await fetch(`${hub.issuer}/no-such-path`);
  await r.text();
  assert.equal(r.status, 404);
  const h = await fetch(`${hub.issuer}/healthz`);
  assert.equal(h.status, 200);
  assert.match(await h.text(), /^ok\s*$/);
});
