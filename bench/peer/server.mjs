// server.mjs — the benchmark's peer: node's oidc-provider (v9, the certified OpenID Provider, pinned in
// tests/package-lock.json and installed in tests/node_modules) configured as idhub is in bench/run.sh:
// in-memory adapter, ES256 ID tokens, PKCE required, one client_secret_basic client, pairwise subjects,
// and ONE form post that completes login and consent (interactionFinished with login and a pre-made
// Grant), as a broker does when the citizen comes back from an upstream IdP.
//
//   node bench/peer/server.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
//
// Journey (what bench/loadgen drives): GET /auth?... -> 303 /interaction/<uid>; GET /interaction/<uid>
// (the login page, a form); POST /interaction/<uid>/login username=... -> 303 /auth/<uid>;
// GET /auth/<uid> -> 303 REDIRECT_URI?code=...; POST /token.
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import Provider from '../../tests/node_modules/oidc-provider/lib/index.js';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
if (!redirectUri) {
  console.error('usage: server.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const pairwiseKey = randomBytes(32);

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'ES256',
    subject_type: 'pairwise',
  }],
  jwks: { keys: [{ ...signing, alg: 'ES256', use: 'sig', kid: 'bench-es256' }] },
  subjectTypes: ['pairwise'],
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  claims: { openid: ['sub'], profile: ['given_name', 'family_name'] },
  findAccount: async (ctx, sub) => ({
    accountId: sub,
    claims: async () => ({ sub, given_name: sub, family_name: 'Tester' }),
  }),
  pairwiseIdentifier: async (ctx, accountId, client) =>
    createHmac('sha256', pairwiseKey).update(`${client.sectorIdentifier}\0${accountId}`).digest('base64url'),
  ttl: {
    AuthorizationCode: 60,
    AccessToken: 300,
    IdToken: 300,
    Interaction: 900,
    Session: 900,
    Grant: 900,
  },
});
provider.on('server_error', (ctx, err) => console.error('peer: server_error', err));

const callback = provider.callback();
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 65536) throw new Error('body too large');
  }
  return new URLSearchParams(body);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET' && !action) {
    const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body><main><h1>Sign in to ${esc(details.params.client_id)}</h1>
<form method="post" action="/interaction/${esc(uid)}/login">
<input type="hidden" name="uid" value="${esc(uid)}">
<p><label for="username">User name</label><input id="username" name="username"></p>
<button type="submit">Sign in</button></form></main></body></html>`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
    return;
  }
  if (req.method !== 'POST' || action !== 'login') {
    res.writeHead(404).end();
    return;
  }
  const form = await readForm(req);
  const accountId = `user:${form.get('username') || 'anonymous'}`;
  // one post: the upstream IdP's answer completes login, and consent is pre-granted for the service
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res,
    { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

createServer(async (req, res) => {
  const m = /^\/interaction\/([^/?]+)(?:\/([a-z]+))?/.exec(req.url);
  if (!m) return callback(req, res);
  try {
    await interaction(req, res, m[1], m[2]);
  } catch (err) {
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`interaction failed: ${err.message}\n`);
  }
}).listen(Number(port), '127.0.0.1', () => console.error(`peer: oidc-provider listening on ${issuer}`));
