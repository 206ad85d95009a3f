// idhubctl services: a service added, its secret rotated (with and without grace), its redirect URIs
// updated and the service removed take effect in the RUNNING daemon; private_key_jwt with --jwks;
// services of the config file cannot be changed; the audit log records each change without secrets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startHub, service, secretHash } from './lib/hub.mjs';
import { loginAndRedeem, getCode, tokenRequest, jose } from './lib/rp.mjs';
import { ctl, ctlOk, show, auditLog, plainRpConfig } from './lib/ctl.mjs';

const cb = (id, p = 'cb') => `http://127.0.0.1:9/${id}/${p}`;
let hub;
const secrets = []; // every secret printed, to look for in the audit log

before(async () => {
  hub = await startHub({ services: [service('svc-conf', { redirect_uris: [cb('svc-conf')] })] });
});
after(async () => { await hub?.stopAndCheck(); });

async function addService(id, extra = []) {
  const r = await ctlOk(hub, ['services', 'add', '--id', id, '--name', `Service ${id}`, '--redirect-uri', cb(id), ...extra], { json: true });
  return r;
}

/** Redeem a fresh code for svc with a basic secret by hand: the token endpoint's answer. */
async function redeemWith(id, secret, redirectUri = cb(id)) {
  const conf = await plainRpConfig(hub, id, { secret });
  const c = await getCode(conf, { redirectUri });
  return tokenRequest(hub, { grant_type: 'authorization_code', code: c.code, redirect_uri: redirectUri, code_verifier: c.req.verifier }, { basic: [id, secret] });
}

test('services add: the secret is printed once, and a login with it works without a restart', async () => {
  const r = await addService('svc-new');
  assert.equal(r.json.client_id, 'svc-new');
  const secret = r.json.client_secret;
  assert.equal(typeof secret, 'string');
  assert.ok(secret.length >= 32, `a long secret: ${secret}`);
  secrets.push(secret);
  const pid = hub.pid;
  const { tokens, claims } = await loginAndRedeem(await plainRpConfig(hub, 'svc-new', { secret }), { redirectUri: cb('svc-new') });
  assert.ok(tokens.access_token && claims.sub);
  assert.equal(hub.pid, pid);
  assert.ok(hub.running, 'the same daemon, still running');

  // the text output says the secret is shown once; show/list never print it
  const t = await ctlOk(hub, ['services', 'add', '--id', 'svc-text', '--name', 'Text', '--redirect-uri', cb('svc-text')]);
  const m = /client secret[^:]*:\s*(\S+)/.exec(t.stdout);
  assert.ok(m, show(t));
  secrets.push(m[1]);
  for (const args of [['services', 'show', 'svc-new'], ['services', 'list'], ['services', 'show', 'svc-text']]) {
    for (const json of [false, true]) {
      const s = await ctlOk(hub, args, { json });
      for (const x of secrets) {
        assert.ok(!s.stdout.includes(x), `${args.join(' ')} prints no secret`);
        assert.ok(!s.stdout.includes(secretHash(x).slice(7)), `${args.join(' ')} prints no secret hash`);
      }
    }
  }
  // a second add of the same id fails
  const dup = await ctl(hub, ['services', 'add', '--id', 'svc-new', '--name', 'Again', '--redirect-uri', cb('svc-new')]);
  assert.equal(dup.status, 1, show(dup));
});

test('services rotate-secret: old and new secrets both work during the grace period; --grace 0 ends the old one', async () => {
  const r0 = await addService('svc-rot');
  const s0 = r0.json.client_secret;
  secrets.push(s0);
  const r1 = await ctlOk(hub, ['services', 'rotate-secret', 'svc-rot', '--grace', '600'], { json: true });
  const s1 = r1.json.client_secret;
  assert.ok(s1 && s1 !== s0, show(r1));
  secrets.push(s1);
  for (const [name, s] of [['old', s0], ['new', s1]]) {
    const t = await redeemWith('svc-rot', s);
    assert.equal(t.status, 200, `the ${name} secret authenticates during the grace period: ${t.text}`);
    assert.ok(t.json.access_token);
  }
  const bad = await redeemWith('svc-rot', 'not-the-secret');
  assert.equal(bad.json?.error, 'invalid_client', bad.text);

  const r2 = await ctlOk(hub, ['services', 'rotate-secret', 'svc-rot', '--grace', '0'], { json: true });
  const s2 = r2.json.client_secret;
  assert.ok(s2 && s2 !== s1 && s2 !== s0);
  secrets.push(s2);
  const ok = await redeemWith('svc-rot', s2);
  assert.equal(ok.status, 200, `the newest secret works: ${ok.text}`);
  const old = await redeemWith('svc-rot', s1);
  assert.equal(old.json?.error, 'invalid_client', `with --grace 0 the previous secret fails: ${old.status} ${old.text}`);
  const older = await redeemWith('svc-rot', s0);
  assert.equal(older.json?.error, 'invalid_client', `the first secret fails too: ${older.status} ${older.text}`);
});

test('services update: the old redirect URI is refused at /authorize (400 page), the new one works', async () => {
  const r = await addService('svc-upd');
  const secret = r.json.client_secret;
  secrets.push(secret);
  const conf = await plainRpConfig(hub, 'svc-upd', { secret });
  await loginAndRedeem(conf, { redirectUri: cb('svc-upd') });
  await ctlOk(hub, ['services', 'update', 'svc-upd', '--redirect-uri', cb('svc-upd', 'cb2')]);
  const { authRequest } = await import('./lib/rp.mjs');
  const req = await authRequest(conf, { redirectUri: cb('svc-upd') });
  const res = await fetch(req.url, { redirect: 'manual' });
  const body = await res.text();
  assert.equal(res.status, 400, `the removed redirect URI: ${res.status} ${res.headers.get('location')}`);
  assert.equal(res.headers.get('location'), null, 'never a redirect');
  assert.match(res.headers.get('content-type') || '', /html/);
  assert.ok(body.length > 0);
  const { claims } = await loginAndRedeem(conf, { redirectUri: cb('svc-upd', 'cb2') });
  assert.ok(claims.sub);
  const shown = await ctlOk(hub, ['services', 'show', 'svc-upd'], { json: true });
  assert.ok(JSON.stringify(shown.json).includes(cb('svc-upd', 'cb2')));
  assert.ok(!JSON.stringify(shown.json).includes(`"${cb('svc-upd')}"`));
});

test('services remove: the service\'s next token request is invalid_client', async () => {
  const r = await addService('svc-rm');
  const secret = r.json.client_secret;
  secrets.push(secret);
  const conf = await plainRpConfig(hub, 'svc-rm', { secret });
  const c = await getCode(conf, { redirectUri: cb('svc-rm') });
  await ctlOk(hub, ['services', 'remove', 'svc-rm']);
  const t = await tokenRequest(hub, { grant_type: 'authorization_code', code: c.code, redirect_uri: cb('svc-rm'), code_verifier: c.req.verifier }, { basic: ['svc-rm', secret] });
  assert.equal(t.json?.error, 'invalid_client', `${t.status} ${t.text}`);
  const again = await ctl(hub, ['services', 'remove', 'svc-rm']);
  assert.equal(again.status, 1, `removing it again fails: ${show(again)}`);
  const show1 = await ctl(hub, ['services', 'show', 'svc-rm']);
  assert.equal(show1.status, 1, show(show1));
});

test('services add --auth-method private_key_jwt --jwks FILE: a login with the key works', async () => {
  const key = await jose.generateKeyPair('ES256', { extractable: true });
  const kid = 'svc-pkj-1';
  const pub = { ...(await jose.exportJWK(key.publicKey)), kid, alg: 'ES256', use: 'sig' };
  const file = path.join(hub.dir, 'svc-pkj.jwks.json');
  await writeFile(file, JSON.stringify({ keys: [pub] }));
  const r = await addService('svc-pkj', ['--auth-method', 'private_key_jwt', '--jwks', file]);
  assert.equal(r.json.client_secret, undefined, `no secret for private_key_jwt: ${show(r)}`);
  const conf = await plainRpConfig(hub, 'svc-pkj', { auth: { privateKey: key.privateKey, kid } });
  const { tokens } = await loginAndRedeem(conf, { redirectUri: cb('svc-pkj') });
  assert.ok(tokens.access_token);
  // a file with a private key is refused
  const priv = path.join(hub.dir, 'priv.jwks.json');
  await writeFile(priv, JSON.stringify({ keys: [{ ...(await jose.exportJWK(key.privateKey)), kid }] }));
  const bad = await ctl(hub, ['services', 'add', '--id', 'svc-pkj2', '--name', 'P', '--redirect-uri', cb('svc-pkj2'), '--auth-method', 'private_key_jwt', '--jwks', priv]);
  assert.equal(bad.status, 2, show(bad));
  const noSecret = await ctl(hub, ['services', 'rotate-secret', 'svc-pkj']);
  assert.equal(noSecret.status, 1, show(noSecret));
});

test('a service defined in the config file cannot be changed with idhubctl (exit 1), but can be shown', async () => {
  const cases = [
    ['services', 'update', 'svc-conf', '--name', 'Changed'],
    ['services', 'remove', 'svc-conf'],
    ['services', 'rotate-secret', 'svc-conf'],
    ['services', 'add', '--id', 'svc-conf', '--name', 'Shadow', '--redirect-uri', cb('svc-conf')],
  ];
  for (const args of cases) {
    const r = await ctl(hub, args);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /config/i, `says why: ${show(r)}`);
    assert.equal(r.stdout.match(/client secret/i), null, 'no secret printed');
  }
  const s = await ctlOk(hub, ['services', 'show', 'svc-conf'], { json: true });
  assert.equal(s.json.client_id, 'svc-conf');
  assert.equal(s.json.source, 'config');
  assert.equal(s.json.secret_hash, undefined);
  // the config service still works with its own secret
  const { tokens } = await loginAndRedeem(await plainRpConfig(hub, 'svc-conf'), { redirectUri: cb('svc-conf') });
  assert.ok(tokens.access_token);
});

test('the audit log has every service change with who/what/target, and no secret or secret hash', async () => {
  const { records, text } = await auditLog(hub);
  const has = (what, target) => records.find((r) => r.what === what && r.target === target);
  for (const [what, target] of [
    ['services.add', 'svc-new'], ['services.add', 'svc-rot'], ['services.rotate-secret', 'svc-rot'],
    ['services.update', 'svc-upd'], ['services.remove', 'svc-rm'], ['services.add', 'svc-pkj'],
  ]) {
    const rec = has(what, target);
    assert.ok(rec, `audit has ${what} ${target}: ${records.map((r) => `${r.what} ${r.target}`).join(', ')}`);
    assert.equal(typeof rec.who, 'string');
    assert.ok(rec.who.length > 0);
  }
  assert.equal(records.filter((r) => r.what === 'services.rotate-secret' && r.target === 'svc-rot').length, 2);
  assert.ok(secrets.length >= 6);
  for (const s of secrets) {
    assert.ok(!text.includes(s), 'no secret in the audit log');
    const h = secretHash(s);
    assert.ok(!text.includes(h.slice(7)), 'no secret hash (base64url) in the audit log');
    assert.ok(!text.includes(Buffer.from(h.slice(7), 'base64url').toString('hex')), 'no secret hash (hex) in the audit log');
    assert.ok(!text.includes(Buffer.from(h.slice(7), 'base64url').toString('base64')), 'no secret hash (base64) in the audit log');
  }
  assert.doesNotMatch(text, /secret_hash|"sha256:/);
  // failed attempts changed nothing and are not recorded as changes
  assert.equal(records.filter((r) => r.target === 'svc-conf').length, 0, 'refused changes of a config service are not audited as changes');
  // the text form is readable too
  const t = await ctlOk(hub, ['audit']);
  assert.match(t.stdout, /services\.add\s+svc-new/);
});

test('services add/update: refresh tokens, introspection and logout URIs, validated, used by the running daemon', async () => {
  const bad = await ctl(hub, ['services', 'add', '--id', 'svc-lc-bad', '--name', 'x', '--redirect-uri', cb('svc-lc-bad'), '--offline-access', 'true']);
  assert.equal(bad.status, 2, 'offline_access needs refresh tokens');
  const badUri = await ctl(hub, ['services', 'add', '--id', 'svc-lc-bad', '--name', 'x', '--redirect-uri', cb('svc-lc-bad'), '--backchannel-logout-uri', 'http://example.com/bc']);
  assert.equal(badUri.status, 2, 'http only on loopback');
  const r = await addService('svc-lc', ['--refresh-tokens', 'true', '--introspection', 'true',
    '--backchannel-logout-uri', cb('svc-lc', 'bc'), '--post-logout-redirect-uri', cb('svc-lc', 'out')]);
  const secret = r.json.client_secret;
  const s = await ctlOk(hub, ['services', 'show', 'svc-lc'], { json: true });
  assert.equal(s.json.refresh_tokens, true);
  assert.equal(s.json.introspection, true);
  assert.equal(s.json.offline_access, false);
  assert.equal(s.json.backchannel_logout_uri, cb('svc-lc', 'bc'));
  assert.deepEqual(s.json.post_logout_redirect_uris, [cb('svc-lc', 'out')]);
  const { tokens } = await loginAndRedeem(await plainRpConfig(hub, 'svc-lc', { secret }), { redirectUri: cb('svc-lc') });
  assert.ok(tokens.refresh_token, 'the running daemon gives the registered service a refresh token');
  await ctlOk(hub, ['services', 'update', 'svc-lc', '--refresh-tokens', 'false', '--backchannel-logout-uri', '']);
  const u = await ctlOk(hub, ['services', 'show', 'svc-lc'], { json: true });
  assert.equal(u.json.refresh_tokens, false);
  assert.equal(u.json.backchannel_logout_uri, undefined);
});
