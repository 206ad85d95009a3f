// The token lifecycle (issue 11 items 3-5): refresh tokens (only where configured, opaque,
// rotated, reuse revokes the family, bound to the client, same sub/auth_time/level), RFC 7009
// revocation of refresh and access tokens, RFC 7662 introspection for a client with the right.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service } from './lib/hub.mjs';
import { Browser } from './lib/browser.mjs';
import { rpConfig, loginAndRedeem, client, tokenRequest } from './lib/rp.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
let hub;
const cfg = {};
const basic = (id) => [id, `${id}-secret`];

before(async () => {
  hub = await startHub({
    services: [
      service('svc-r', { sector: 'sector-r', redirect_uris: [cb('svc-r')], refresh_tokens: true, offline_access: true }),
      service('svc-r2', { sector: 'sector-r', redirect_uris: [cb('svc-r2')], refresh_tokens: true }),
      service('svc-plain', { redirect_uris: [cb('svc-plain')] }),
      service('rs', { redirect_uris: [cb('rs')], introspection: true }),
    ],
  });
  for (const id of ['svc-r', 'svc-r2', 'svc-plain']) cfg[id] = await rpConfig(hub, id);
});
after(async () => { await hub?.stopAndCheck(); });

const post = async (path, params, id) => {
  const res = await fetch(`${hub.issuer}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Basic ' + Buffer.from(basic(id).join(':')).toString('base64'),
    },
    body: new URLSearchParams(params).toString(),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* empty */ }
  return { status: res.status, json, text };
};
const introspect = (token) => post('/introspect', { token }, 'rs');
const refresh = (id, token, extra = {}) => tokenRequest(hub, { grant_type: 'refresh_token', refresh_token: token, ...extra }, { basic: basic(id) });

test('a service without refresh_tokens gets none; one with them gets an opaque token', async () => {
  const plain = await loginAndRedeem(cfg['svc-plain'], { redirectUri: cb('svc-plain') });
  assert.equal(plain.tokens.refresh_token, undefined);
  const r = await loginAndRedeem(cfg['svc-r'], { redirectUri: cb('svc-r') });
  assert.match(r.tokens.refresh_token, /^[A-Za-z0-9_-]{43}$/, 'opaque, not a JWT');
});

test('refresh rotates; the new ID token keeps sub, auth_time and acr, and carries sid', async () => {
  const r = await loginAndRedeem(cfg['svc-r'], { redirectUri: cb('svc-r') });
  const t = await client.refreshTokenGrant(cfg['svc-r'], r.tokens.refresh_token);
  assert.ok(t.refresh_token && t.refresh_token !== r.tokens.refresh_token, 'rotated');
  const c = t.claims();
  assert.equal(c.sub, r.claims.sub);
  assert.equal(c.auth_time, r.claims.auth_time);
  assert.equal(c.acr, r.claims.acr);
  assert.equal(c.sid, r.claims.sid);
  assert.equal(c.nonce, undefined, 'no nonce in a refreshed ID token');
  const ui = await client.fetchUserInfo(cfg['svc-r'], t.access_token, c.sub);
  assert.equal(ui.sub, c.sub);
  const t2 = await client.refreshTokenGrant(cfg['svc-r'], t.refresh_token);
  assert.ok(t2.access_token);
});

test('reuse of a used refresh token revokes the whole family', async () => {
  const r = await loginAndRedeem(cfg['svc-r'], { redirectUri: cb('svc-r') });
  const first = await refresh('svc-r', r.tokens.refresh_token);
  assert.equal(first.status, 200, first.text);
  const reuse = await refresh('svc-r', r.tokens.refresh_token);
  assert.equal(reuse.status, 400);
  assert.equal(reuse.json.error, 'invalid_grant');
  const next = await refresh('svc-r', first.json.refresh_token);
  assert.equal(next.json?.error, 'invalid_grant', 'the rotated token died with its family');
});

test('a refresh token is bound to its client; unknown and malformed tokens are invalid_grant', async () => {
  const r = await loginAndRedeem(cfg['svc-r'], { redirectUri: cb('svc-r') });
  const foreign = await refresh('svc-r2', r.tokens.refresh_token);
  assert.equal(foreign.json?.error, 'invalid_grant');
  const stillOk = await refresh('svc-r', r.tokens.refresh_token);
  assert.equal(stillOk.status, 200, 'another client presenting it revoked nothing');
  assert.equal((await refresh('svc-r', 'A'.repeat(43))).json?.error, 'invalid_grant');
  assert.equal((await refresh('svc-r', 'x')).json?.error, 'invalid_grant');
  const wrongSecret = await tokenRequest(hub, { grant_type: 'refresh_token', refresh_token: stillOk.json.refresh_token }, { basic: ['svc-r', 'wrong'] });
  assert.equal(wrongSecret.status, 401);
  const plain = await refresh('svc-plain', stillOk.json.refresh_token);
  assert.equal(plain.json?.error, 'unauthorized_client');
  const scope = await refresh('svc-r', stillOk.json.refresh_token, { scope: 'openid email phone' });
  assert.equal(scope.json?.error, 'invalid_scope');
});

test('revocation (RFC 7009): a refresh token and its family; an access token for userinfo and introspection', async () => {
  const r = await loginAndRedeem(cfg['svc-r'], { redirectUri: cb('svc-r') });
  assert.equal((await introspect(r.tokens.access_token)).json.active, true);
  const rv = await post('/revoke', { token: r.tokens.access_token, token_type_hint: 'access_token' }, 'svc-r');
  assert.equal(rv.status, 200);
  assert.deepEqual((await introspect(r.tokens.access_token)).json, { active: false });
  await assert.rejects(client.fetchUserInfo(cfg['svc-r'], r.tokens.access_token, r.claims.sub));
  assert.equal((await post('/revoke', { token: r.tokens.refresh_token }, 'svc-r')).status, 200);
  assert.equal((await refresh('svc-r', r.tokens.refresh_token)).json?.error, 'invalid_grant');
  // another client's token, or garbage: 200 and nothing revoked
  const other = await loginAndRedeem(cfg['svc-r'], { redirectUri: cb('svc-r') });
  assert.equal((await post('/revoke', { token: other.tokens.refresh_token }, 'svc-r2')).status, 200);
  assert.equal((await post('/revoke', { token: other.tokens.access_token }, 'svc-r2')).status, 200);
  assert.equal((await introspect(other.tokens.access_token)).json.active, true);
  assert.equal((await refresh('svc-r', other.tokens.refresh_token)).status, 200);
  assert.equal((await post('/revoke', { token: 'garbage' }, 'svc-r')).status, 200);
  assert.equal((await post('/revoke', {}, 'svc-r')).json?.error, 'invalid_request');
});

test('introspection (RFC 7662): only with the right; foreign, malformed and forged tokens are inactive', async () => {
  const r = await loginAndRedeem(cfg['svc-r'], { redirectUri: cb('svc-r') });
  const ok = await introspect(r.tokens.access_token);
  assert.equal(ok.json.active, true);
  assert.equal(ok.json.sub, r.claims.sub);
  assert.equal(ok.json.client_id, 'svc-r');
  assert.ok(ok.json.exp > Date.now() / 1000);
  const denied = await post('/introspect', { token: r.tokens.access_token }, 'svc-r');
  assert.equal(denied.status, 403);
  for (const token of ['garbage', 'a.b.c', r.tokens.access_token.slice(0, -4) + 'AAAA', r.tokens.id_token, r.tokens.refresh_token]) {
    assert.deepEqual((await introspect(token)).json, { active: false }, `inactive: ${token.slice(0, 20)}`);
  }
  const unauth = await fetch(`${hub.issuer}/introspect`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${r.tokens.access_token}` });
  assert.equal(unauth.status, 401);
});

test('offline_access only where allowed: an offline family is marked so', async () => {
  const r = await loginAndRedeem(cfg['svc-r2'], { redirectUri: cb('svc-r2'), scope: 'openid offline_access' });
  assert.ok(!r.tokens.scope.includes('offline_access'), 'svc-r2 may not have offline_access');
  const o = await loginAndRedeem(cfg['svc-r'], { redirectUri: cb('svc-r'), scope: 'openid offline_access' });
  assert.ok(o.tokens.scope.includes('offline_access'));
  assert.ok(o.tokens.refresh_token);
});
