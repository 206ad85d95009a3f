// rp.mjs — the relying party side: openid-client v6 configurations for the hub's services, an
// authorization request builder, a full login + code redemption, and independent checks with jose.
import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import * as jose from 'jose';
import { login, Browser } from './browser.mjs';

export { client, jose };

/**
 * An openid-client Configuration for a service of the hub. auth: 'basic' | 'post' | 'none' |
 * {privateKey, kid, alg}; metadata: extra client metadata (e.g. id_token_signed_response_alg).
 */
export async function rpConfig(hub, clientId, { secret = `${clientId}-secret`, auth = 'basic', metadata = {} } = {}) {
  let clientAuth;
  if (auth === 'basic') clientAuth = client.ClientSecretBasic(secret);
  else if (auth === 'post') clientAuth = client.ClientSecretPost(secret);
  else if (auth === 'none') clientAuth = client.None();
  else clientAuth = client.PrivateKeyJwt({ key: auth.privateKey, kid: auth.kid });
  const config = await client.discovery(new URL(hub.issuer), clientId, { ...metadata }, clientAuth, {
    execute: [client.allowInsecureRequests],
  });
  client.enableNonRepudiationChecks(config);
  return config;
}

/** A fresh authorization request: {url, state, nonce, verifier, challenge, redirectUri}. */
export async function authRequest(config, { redirectUri, scope = 'openid profile', extra = {} } = {}) {
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const params = { redirect_uri: redirectUri, scope, code_challenge: challenge, code_challenge_method: 'S256', state, nonce, ...extra };
  for (const k of Object.keys(params)) if (params[k] === null || params[k] === undefined) delete params[k];
  const url = client.buildAuthorizationUrl(config, params);
  return { url, state, nonce, verifier, challenge, redirectUri };
}

/** Log in through the journey and redeem the code with openid-client. */
export async function loginAndRedeem(config, { redirectUri, persona = 'alice', username, loa, browser, extra, scope, idp } = {}) {
  const req = await authRequest(config, { redirectUri, extra, scope });
  const journey = await login({ authorizeUrl: req.url.href, persona, username, loa, idp, browser: browser || new Browser() });
  if (!journey.location || !journey.params.code) {
    throw new Error(`no code: ${journey.location} ${JSON.stringify(journey.params)}`);
  }
  const tokens = await client.authorizationCodeGrant(config, new URL(journey.location), {
    pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true,
  });
  return { req, journey, tokens, claims: tokens.claims() };
}

/** Left half of the hash of an access token, base64url: at_hash for the JWS alg (EdDSA: SHA-512). */
export function atHash(accessToken, alg, crv) {
  let h;
  if (/^(RS|PS|ES|HS)256$/.test(alg)) h = 'sha256';
  else if (/^(RS|PS|ES|HS)384$/.test(alg)) h = 'sha384';
  else if (/^(RS|PS|ES|HS)512$/.test(alg)) h = 'sha512';
  else if (alg === 'EdDSA' || alg === 'Ed25519') h = crv === 'Ed448' ? 'shake256' : 'sha512';
  else throw new Error(`at_hash: unknown alg ${alg}`);
  const d = h === 'shake256' ? createHash(h, { outputLength: 114 }).update(accessToken).digest()
    : createHash(h).update(accessToken).digest();
  return d.subarray(0, d.length / 2).toString('base64url');
}

const jwksCache = new Map();
export function remoteJwks(hub) {
  const key = `${hub.issuer}#${hub.pid}`;
  if (!jwksCache.has(key)) jwksCache.set(key, jose.createRemoteJWKSet(new URL(`${hub.issuer}/jwks`), { cacheMaxAge: 0, cooldownDuration: 0 }));
  return jwksCache.get(key);
}

/** Verify an ID token independently of openid-client. */
export async function verifyIdToken(hub, idToken, audience, algorithms) {
  return jose.jwtVerify(idToken, remoteJwks(hub), { issuer: hub.issuer, audience, algorithms });
}

/** POST a form to the token endpoint by hand: {status, headers, json, text}. */
export async function tokenRequest(hub, params, { basic, headers = {}, rawBody } = {}) {
  const h = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers };
  if (basic) h.authorization = 'Basic ' + Buffer.from(`${encodeURIComponent(basic[0])}:${encodeURIComponent(basic[1])}`).toString('base64');
  const body = rawBody ?? new URLSearchParams(params).toString();
  const res = await fetch(`${hub.issuer}/token`, { method: 'POST', headers: h, body, redirect: 'manual' });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, json, text };
}

/** Journey to a code without redeeming it: {req, code, params, journey}. */
export async function getCode(config, opts = {}) {
  const req = await authRequest(config, opts);
  const journey = await login({ authorizeUrl: req.url.href, persona: opts.persona ?? 'alice', browser: opts.browser || new Browser() });
  if (!journey.params?.code) throw new Error(`no code: ${journey.location}`);
  return { req, code: journey.params.code, params: journey.params, journey };
}
