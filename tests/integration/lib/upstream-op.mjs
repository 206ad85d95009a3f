// upstream-op.mjs — upstream identity providers for the oidc adapter's tests: a real OpenID Provider
// (oidc-provider 9, with a minimal interaction endpoint that signs in a chosen account and grants
// consent, and key rotation by swapping in a provider with new keys), a fake OP whose token
// endpoint answers whatever ID token a test crafts (forged, expired, wrong nonce ...), and a journey
// driver through the hub's picker to either of them.
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';
import * as jose from 'jose';
import { freePort } from './hub.mjs';
import { Browser, parseForms, redirectParams } from './browser.mjs';

export const UPSTREAM_ACRS = ['urn:bank:loa1', 'urn:bank:loa2', 'urn:bank:loa3'];

/** A private signing JWK with kid, alg and use. */
export async function signingKey(kid, alg = 'RS256') {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, alg, use: 'sig' };
}

/** The public part of a private JWK. */
export function publicJwk(jwk) {
  const { d, p, q, dp, dq, qi, ...pub } = jwk;
  return pub;
}

function listen(handler) {
  return new Promise((resolve, reject) => {
    freePort().then((port) => {
      const server = http.createServer(handler);
      server.on('error', reject);
      server.listen(port, '127.0.0.1', () => resolve({ server, port }));
    }, reject);
  });
}

function closeServer(server) {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

/**
 * fetch over a fresh connection (node:http, no keep-alive pool). The hub binds a connection to one
 * worker thread; reusing the test's pooled connections could queue the OP's JWKS fetch behind the
 * very callback that waits for it.
 */
function plainFetch(url, { method = 'GET', headers, body, signal } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: Object.fromEntries(new Headers(headers)), agent: false, signal }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), {
        status: res.statusCode,
        headers: Object.entries(res.headers).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]])),
      })));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

// ---- the real OpenID Provider -------------------------------------------------------------------

const ACCOUNTS = {
  alice: { given_name: 'Alice', family_name: 'Upstream', name: 'Alice Upstream', birthdate: '1990-04-01', email: 'alice@bank.example', email_verified: true },
  bob: { given_name: 'Bob', family_name: 'Upstream', name: 'Bob Upstream', birthdate: '1985-11-23', email: 'bob@bank.example', email_verified: false },
};

function makeProvider(issuer, keys, clients) {
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys },
    findAccount: async (ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, ...(ACCOUNTS[id] || {}) }),
    }),
    claims: {
      acr: null, auth_time: null, iss: null, sid: null,
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'birthdate'],
      email: ['email', 'email_verified'],
    },
    acrValues: UPSTREAM_ACRS,
    features: { devInteractions: { enabled: false }, claimsParameter: { enabled: true } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['upstream-op-test-cookie-key'] },
    pkce: { required: () => true },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'PS256', 'ES256'] },
    // The hub's jwks_uri (for private_key_jwt) is on loopback: a test-only exception to
    // oidc-provider's SSRF guard, which refuses special-use addresses.
    fetch: (url, options) => plainFetch(url, options),
  });
  provider.on('server_error', (ctx, err) => { console.error('upstream OP server_error', err); });
  if (process.env.UPSTREAM_OP_DEBUG) {
    for (const ev of ['grant.error', 'authorization.error']) provider.on(ev, (ctx, err) => console.error(`upstream OP ${ev}:`, err.message, err.error_description, err.error_detail, err.cause?.error_description, err.cause?.cause?.message, err.cause?.cause?.cause));
  }
  return provider;
}

/**
 * Start oidc-provider on a free loopback port. clients: oidc-provider client metadata. Returns
 * {issuer, port, keys, nextLogin, rotate(newKeys, {keepOld}), stop(), jwksHits, tokenHits,
 * interactions (count of sign-in prompts), lastInteraction (that prompt's request parameters)}.
 * nextLogin: {account, acr} to sign in at the next interaction, or {error} to answer with an error.
 */
export async function startUpstreamOp({ clients }) {
  const op = { nextLogin: { account: 'alice', acr: 'urn:bank:loa2' }, jwksHits: 0, tokenHits: 0, interactions: 0, lastInteraction: null };
  let provider = null;
  let handler = null;
  const { server, port } = await listen(async (req, res) => {
    try {
      const url = new URL(req.url, op.issuer);
      if (url.pathname === '/jwks') op.jwksHits++;
      if (url.pathname === '/token') op.tokenHits++;
      if (url.pathname.startsWith('/interaction/')) {
        const p = provider;
        const details = await p.interactionDetails(req, res);
        op.interactions++; // the OP had to ask the person (no session of its own, or prompt=login)
        op.lastInteraction = details.params; // the authorization request's parameters (login_hint …)
        const who = op.nextLogin;
        if (who.error) {
          await p.interactionFinished(req, res, { error: who.error, error_description: 'refused by the test' }, { mergeWithLastSubmission: false });
          return;
        }
        const { params } = details;
        const grant = new p.Grant({ accountId: who.account, clientId: params.client_id });
        grant.addOIDCScope(params.scope);
        const wanted = params.claims ? Object.keys(JSON.parse(params.claims).id_token || {}) : [];
        if (wanted.length) grant.addOIDCClaims(wanted);
        const grantId = await grant.save();
        await p.interactionFinished(req, res, {
          login: { accountId: who.account, acr: who.acr, amr: ['pwd'] },
          consent: { grantId },
        }, { mergeWithLastSubmission: false });
        return;
      }
      handler(req, res);
    } catch (e) {
      res.statusCode = 500;
      res.end(String(e));
    }
  });
  op.port = port;
  op.issuer = `http://127.0.0.1:${port}`;
  op.keys = [await signingKey('op-key-1')];
  provider = makeProvider(op.issuer, op.keys, clients);
  handler = provider.callback();
  /** Swap in a provider signing with new keys (the first of the list signs). */
  op.rotate = async (keys) => {
    op.keys = keys;
    provider = makeProvider(op.issuer, keys, clients);
    handler = provider.callback();
  };
  op.stop = () => closeServer(server);
  return op;
}

// ---- the fake OP -------------------------------------------------------------------------------

const b64j = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');

/**
 * A minimal OP that plays the protocol honestly up to the ID token: discovery, JWKS (counted), an
 * authorization endpoint that answers at once with a code (or an error), and a token endpoint that
 * checks client_secret_basic, the code's single use and PKCE, then answers test.idToken(ctx), where
 * ctx = {claims (a correct claim set), sign(claims, opts), key, issuer, clientId}.
 * Outages and moves on demand: discoveryFail / jwksFail = an HTTP status to answer (e.g. 500) or
 * 'drop' (the connection is closed without an answer), null = serve; tokenPath = where the token
 * endpoint is (and what discovery announces). discoveryHits, jwksHits and tokenHitsByPath count
 * requests, failed ones included.
 */
export async function startFakeOp({ clientId, clientSecret }) {
  const op = {
    jwksHits: 0, tokenHits: 0, authorizeError: null, tokenDelayMs: 0, tokenHold: null,
    idToken: null, codes: new Map(), lastAuthorize: null,
    discoveryHits: 0, discoveryFail: null, jwksFail: null, tokenPath: '/token', tokenHitsByPath: {},
  };
  const fail = (how, res) => {
    if (how === 'drop') return res.socket.destroy();
    res.writeHead(how, { 'content-type': 'text/plain' });
    return res.end('unavailable');
  };
  const sockets = new Set();
  const { server, port } = await listen(async (req, res) => {
    const url = new URL(req.url, op.issuer);
    const json = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      op.discoveryHits++;
      if (op.discoveryFail) return fail(op.discoveryFail, res);
      return json(200, {
        issuer: op.issuer,
        authorization_endpoint: `${op.issuer}/authorize`,
        token_endpoint: `${op.issuer}${op.tokenPath}`,
        jwks_uri: `${op.issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      });
    }
    if (url.pathname === '/jwks') {
      op.jwksHits++;
      if (op.jwksFail) return fail(op.jwksFail, res);
      return json(200, { keys: op.published.map(publicJwk) });
    }
    if (url.pathname === '/authorize') {
      const q = Object.fromEntries(url.searchParams);
      op.lastAuthorize = q;
      const back = new URL(q.redirect_uri);
      back.searchParams.set('state', q.state);
      back.searchParams.set('iss', op.issuer);
      if (op.authorizeError) {
        back.searchParams.set('error', op.authorizeError);
      } else {
        const code = randomBytes(16).toString('base64url');
        op.codes.set(code, q);
        back.searchParams.set('code', code);
      }
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (url.pathname === op.tokenPath && req.method === 'POST') {
      op.tokenHits++;
      op.tokenHitsByPath[url.pathname] = (op.tokenHitsByPath[url.pathname] || 0) + 1;
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = Object.fromEntries(new URLSearchParams(body));
      const auth = Buffer.from((req.headers.authorization || '').replace(/^Basic /, ''), 'base64').toString();
      if (op.tokenDelayMs) await new Promise((r) => setTimeout(r, op.tokenDelayMs));
      if (op.tokenHold) await op.tokenHold; // a test holds the answer until it resolves this promise
      if (res.destroyed) return undefined;
      if (auth !== `${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`) return json(401, { error: 'invalid_client' });
      const q = op.codes.get(form.code);
      op.codes.delete(form.code);
      const challenge = form.code_verifier ? createHash('sha256').update(form.code_verifier).digest('base64url') : null;
      if (!q || q.redirect_uri !== form.redirect_uri || q.code_challenge !== challenge || q.code_challenge_method !== 'S256') {
        return json(400, { error: 'invalid_grant' });
      }
      const now = Math.floor(Date.now() / 1000);
      const claims = { iss: op.issuer, aud: clientId, sub: 'fake-user-1', nonce: q.nonce, iat: now, exp: now + 300, auth_time: now, acr: 'urn:fake:high', given_name: 'Fay' };
      const ctx = { claims, sign: op.sign, key: op.key, issuer: op.issuer, clientId, authorize: q };
      const idToken = op.idToken ? await op.idToken(ctx) : await op.sign(claims);
      return json(200, { access_token: 'at-' + randomBytes(8).toString('hex'), token_type: 'Bearer', expires_in: 60, id_token: idToken });
    }
    res.writeHead(404);
    return res.end();
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  op.port = port;
  op.issuer = `http://127.0.0.1:${port}`;
  op.key = await signingKey('fake-key-1');
  op.published = [op.key];
  /** Sign claims as a JWS: opts {key (private JWK), alg, kid, header (extra header)}. */
  op.sign = async (claims, opts = {}) => {
    const key = opts.key || op.key;
    const alg = opts.alg || key.alg;
    const header = { alg, kid: opts.kid === undefined ? key.kid : opts.kid, typ: 'JWT', ...(opts.header || {}) };
    if (header.kid === null) delete header.kid;
    return new jose.SignJWT(claims).setProtectedHeader(header).sign(await jose.importJWK(key, alg));
  };
  /** An unsigned token: alg none, empty signature. */
  op.unsigned = (claims) => `${b64j({ alg: 'none', typ: 'JWT' })}.${b64j(claims)}.`;
  /** HS256 "signed" with the given secret bytes (e.g. the public key, the classic confusion). */
  op.hmac = async (claims, secret, kid = op.key.kid) => new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid, typ: 'JWT' }).sign(new Uint8Array(Buffer.from(secret)));
  op.stop = async () => {
    for (const s of sockets) s.destroy();
    await closeServer(server);
  };
  return op;
}

// ---- the journey through the hub to an upstream OP ----------------------------------------------

/**
 * authorize at the hub → picker → choose idp → follow the redirects through the upstream OP and back
 * to the hub's callback, until the hub redirects to the service (location, params) or answers a page
 * (final). Returns {browser, location, params, final, responses, callbackUrl}.
 */
export async function upstreamLogin({ authorizeUrl, idp, browser = new Browser(), stopAtCallback = false }) {
  const redirectUri = new URL(authorizeUrl).searchParams.get('redirect_uri');
  const isRp = (loc) => loc && (loc === redirectUri || loc.startsWith(redirectUri + '?'));
  const responses = [];
  const out = (res, extra = {}) => ({
    browser, responses, final: res, location: isRp(res.location) ? res.location : null,
    params: isRp(res.location) ? redirectParams(res.location).params : null, ...extra,
  });
  let res = await browser.get(authorizeUrl, { initiator: redirectUri });
  responses.push(res);
  if (isRp(res.location)) return out(res);
  res = await browser.get(res.location, { initiator: redirectUri });
  responses.push(res);
  if (res.status !== 200) throw new Error(`picker answered ${res.status}: ${res.text.slice(0, 500)}`);
  res = await browser.submitForm(res.text, res.url, { idp }, { form: (f) => f.fields.some((x) => x.name === 'idp') });
  responses.push(res);
  let callbackUrl = null;
  for (let i = 0; i < 20 && res.status >= 300 && res.status < 400 && res.location && !isRp(res.location); i++) {
    if (/\/callback\//.test(new URL(res.location).pathname)) {
      callbackUrl = res.location;
      if (stopAtCallback) return out(res, { callbackUrl });
    }
    res = await browser.get(res.location, { initiator: res.url });
    responses.push(res);
  }
  return out(res, { callbackUrl });
}

/** Is this a refusal page: 4xx/5xx HTML with an <h1>, no redirect? */
export function isRefusalPage(res) {
  return res.status >= 400 && res.status < 600 && !res.location && /<h1[\s>]/i.test(res.text || '');
}

export { parseForms };
