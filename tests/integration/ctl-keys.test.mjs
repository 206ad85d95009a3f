// idhubctl keys: a rotation under continuous logins from a service that caches the JWKS exactly as
// Cache-Control allows (never refetching on an unknown kid) sees no signature failure; the retired
// key stays published (and survives purge) while its tokens live; an emergency revocation makes
// the revoked key's tokens fail at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service } from './lib/hub.mjs';
import { loginAndRedeem, jose } from './lib/rp.mjs';
import { ctlOk, show, listKeys, auditLog, sleep, plainRpConfig } from './lib/ctl.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
const MAX_AGE = 2;
let hub;
let cfg;

before(async () => {
  hub = await startHub({
    services: [service('svc-a', { redirect_uris: [CB] })],
    hub: { jwks_max_age: MAX_AGE, id_token_ttl: 60, access_token_ttl: 60 },
  });
  cfg = await plainRpConfig(hub, 'svc-a');
});
after(async () => { await hub?.stopAndCheck(); });

/** A relying party's JWKS cache: fetched when absent or stale, kept for exactly max-age. */
class CachingRp {
  constructor(issuer) { this.issuer = issuer; this.cache = null; this.fetches = 0; }

  async jwks() {
    if (this.cache && Date.now() < this.cache.expires) return this.cache.set;
    const sent = Date.now(); // the age of a response counts from the request (RFC 9111 §4.2.3)
    const r = await fetch(`${this.issuer}/jwks`);
    const body = await r.json();
    const m = /max-age=(\d+)/.exec(r.headers.get('cache-control') || '');
    assert.ok(m, `JWKS Cache-Control: ${r.headers.get('cache-control')}`);
    this.fetches++;
    this.cache = { set: jose.createLocalJWKSet(body), kids: body.keys.map((k) => k.kid), expires: sent + Number(m[1]) * 1000 };
    return this.cache.set;
  }

  async verify(idToken) {
    return jose.jwtVerify(idToken, await this.jwks(), { issuer: this.issuer, audience: 'svc-a' });
  }
}

async function freshJwks() {
  const r = await fetch(`${hub.issuer}/jwks`);
  return r.json();
}

test('rotation under continuous logins: zero verification failures, the kid changes, old tokens stay verifiable', async () => {
  const rp = new CachingRp(hub.issuer);
  const results = []; // {kid, at, ok, error}
  let stop = false;
  const first = await loginAndRedeem(cfg, { redirectUri: CB });
  const oldToken = first.tokens.id_token;
  const oldKid = jose.decodeProtectedHeader(oldToken).kid;
  await rp.verify(oldToken);

  // logins run continuously (bounded: 100 logins or 20 s, 100 ms apart) while the operator rotates
  const started = Date.now();
  let loopError = null;
  const loop = (async () => {
    while (!stop && !loopError && results.length < 100 && Date.now() - started < 20000) {
      let tokens;
      try {
        ({ tokens } = await loginAndRedeem(cfg, { redirectUri: CB }));
      } catch (e) {
        loopError = e;
        break;
      }
      const kid = jose.decodeProtectedHeader(tokens.id_token).kid;
      try {
        await rp.verify(tokens.id_token);
        results.push({ kid, at: Date.now(), ok: true });
      } catch (e) {
        results.push({ kid, at: Date.now(), ok: false, error: `${e.code || ''} ${e.message}`, cachedKids: rp.cache?.kids });
      }
      await sleep(100);
    }
  })();
  try {
    while (!loopError && results.length < 3 && Date.now() - started < 10000) await sleep(50);

    // 1. publish a next key, just before the service's cached copy expires: its refetch comes right
    // after the publication (the worst moment: the service must still never see an unknown kid)
    while (!loopError && rp.cache && rp.cache.expires - Date.now() > 150) await sleep(10);
    const r1 = await ctlOk(hub, ['keys', 'rotate']);
    let keys = await listKeys(hub);
    const next = keys.filter((k) => k.state === 'next');
    assert.equal(next.length, 1, `one next key after the first rotate: ${JSON.stringify(keys)}\n${show(r1)}`);
    assert.equal(keys.find((k) => k.kid === oldKid)?.state, 'current', 'the first rotate changes nothing else');
    const newKid = next[0].kid;

    // 2. once it has been published for longer than max-age, promote it (retrying while the hub says
    // it is not yet eligible)
    await sleep(MAX_AGE * 1000 + 200);
    let promoted = false;
    for (let i = 0; i < 20 && !promoted; i++) {
      await ctlOk(hub, ['keys', 'rotate']);
      keys = await listKeys(hub);
      promoted = keys.find((k) => k.kid === newKid)?.state === 'current';
      if (!promoted) await sleep(250);
    }
    assert.ok(promoted, `the next key was promoted: ${JSON.stringify(keys)}`);
    assert.equal(keys.find((k) => k.kid === oldKid)?.state, 'retired', 'the old current key is retired');
    const promotedAt = Date.now();

    // 3. keep logging in until the new key has signed a few logins (or the loop's bound)
    while (!loopError && Date.now() - promotedAt < 8000 && results.filter((x) => x.kid === newKid).length < 5 && results.length < 100) await sleep(100);
  } finally {
    stop = true;
    await loop;
  }
  assert.equal(loopError, null, `a login failed during the rotation: ${loopError?.stack}`);
  const failures = results.filter((x) => !x.ok);
  assert.deepEqual(failures, [], `signature verification failures at the caching service (${rp.fetches} JWKS fetches, ${results.length} logins)`);
  const kids = [...new Set(results.map((x) => x.kid))];
  assert.ok(kids.length >= 2, `the signing kid changed during the logins: ${kids}`);
  assert.equal(results.at(-1).kid, kids.at(-1));
  assert.notEqual(results.at(-1).kid, oldKid, 'the last logins are signed with the new key');
  assert.ok(rp.fetches >= 2, 'the service refetched the JWKS as its cache expired');

  // the ID token issued before the rotation still verifies against a freshly fetched JWKS
  let jwks = await freshJwks();
  assert.ok(jwks.keys.some((k) => k.kid === oldKid), 'the retired key is still published');
  await jose.jwtVerify(oldToken, jose.createLocalJWKSet(jwks), { issuer: hub.issuer, audience: 'svc-a' });

  // purge keeps the retired key while its tokens are unexpired
  const p = await ctlOk(hub, ['keys', 'purge']);
  const keys = await listKeys(hub);
  assert.equal(keys.find((k) => k.kid === oldKid)?.state, 'retired', `purge kept the retired key\n${show(p)}`);
  jwks = await freshJwks();
  assert.ok(jwks.keys.some((k) => k.kid === oldKid), 'still published after purge');
  await jose.jwtVerify(oldToken, jose.createLocalJWKSet(jwks), { issuer: hub.issuer, audience: 'svc-a' });
  const exp = await ctlOk(hub, ['keys', 'export-public'], { json: true });
  assert.ok(exp.json.keys.some((k) => k.kid === oldKid), 'export-public lists the retired key');
  assert.ok(exp.json.keys.every((k) => k.d === undefined), 'export-public has no private members');
});

test('worst case: a service that fetches the JWKS right after the next key is published never gets a token it cannot verify', async (t) => {
  // its own hub: one current key, no next key yet
  const h = await startHub({ services: [service('svc-a', { redirect_uris: [CB] })], hub: { jwks_max_age: MAX_AGE, id_token_ttl: 60 } });
  t.after(() => h.stopAndCheck());
  const conf = await plainRpConfig(h, 'svc-a');
  await loginAndRedeem(conf, { redirectUri: CB });
  await (await fetch(`${h.issuer}/jwks`)).text();
  await ctlOk(h, ['keys', 'rotate']); // publishes the next key
  const next = (await listKeys(h)).find((k) => k.state === 'next')?.kid;
  assert.ok(next);
  // the service's cache is filled now, just after the publication, for max-age
  const rp = new CachingRp(h.issuer);
  await rp.jwks();
  // the operator promotes as soon as the hub lets it
  let promoted = false;
  for (let i = 0; i < 100 && !promoted; i++) {
    await ctlOk(h, ['keys', 'rotate']);
    promoted = (await listKeys(h)).find((k) => k.kid === next)?.state === 'current';
    if (!promoted) await sleep(50);
  }
  assert.ok(promoted, "promoted within 5 s");
  // logins while the service's cached copy is still fresh
  const failures = [];
  let n = 0;
  while (Date.now() < rp.cache.expires - 100 && n < 20) {
    const { tokens } = await loginAndRedeem(conf, { redirectUri: CB });
    n++;
    const kid = jose.decodeProtectedHeader(tokens.id_token).kid;
    try {
      await rp.verify(tokens.id_token);
    } catch (e) {
      failures.push({ kid, msToCacheExpiry: rp.cache.expires - Date.now(), cachedKids: rp.cache.kids, error: e.code || e.message });
    }
  }
  assert.deepEqual(failures, [], `the hub signed with key ${next} while a service's JWKS copy fetched after its publication, `
    + 'and still within max-age, did not have it');
});

test('emergency revocation: the revoked key\'s tokens fail, userinfo refuses them, new logins use a new key', async () => {
  const before = await loginAndRedeem(cfg, { redirectUri: CB });
  const kid = jose.decodeProtectedHeader(before.tokens.id_token).kid;
  assert.equal(jose.decodeProtectedHeader(before.tokens.access_token).kid, kid);
  const ui0 = await fetch(`${hub.issuer}/userinfo`, { headers: { authorization: `Bearer ${before.tokens.access_token}` } });
  assert.equal(ui0.status, 200, 'userinfo accepts the token before the revocation');
  await ui0.text();

  const r = await ctlOk(hub, ['keys', 'rotate', '--now', '--revoke', kid]);
  assert.match(r.stdout, new RegExp(kid.replace(/[-]/g, '\\-')), show(r));
  assert.match(r.stdout, /token/i, `says what happens to tokens: ${show(r)}`);
  assert.match(r.stdout, /session/i, `says what happens to sessions: ${show(r)}`);
  const revokedAt = Date.now();

  // a fresh JWKS no longer has it (the daemon rereads its keys at most once a second): the token
  // signed by it fails
  let jwks = await freshJwks();
  while (jwks.keys.some((k) => k.kid === kid) && Date.now() - revokedAt < 5000) {
    await sleep(100);
    jwks = await freshJwks();
  }
  const unpublishedAfter = Date.now() - revokedAt;
  assert.ok(!jwks.keys.some((k) => k.kid === kid), 'the revoked key is not published');
  assert.ok(unpublishedAfter <= 1600, `unpublished within ~1.5 s (took ${unpublishedAfter} ms)`);
  await assert.rejects(jose.jwtVerify(before.tokens.id_token, jose.createLocalJWKSet(jwks), { issuer: hub.issuer, audience: 'svc-a' }));
  assert.ok(!(await listKeys(hub)).some((k) => k.kid === kid), 'keys list no longer has it');

  // the hub's userinfo refuses an access token signed by it within ~1.5 s
  let status = 0;
  let hdr = null;
  while (Date.now() - revokedAt < 5000) {
    const ui = await fetch(`${hub.issuer}/userinfo`, { headers: { authorization: `Bearer ${before.tokens.access_token}` } });
    await ui.text();
    status = ui.status;
    hdr = ui.headers.get('www-authenticate');
    if (status === 401) break;
    await sleep(100);
  }
  const took = Date.now() - revokedAt;
  assert.equal(status, 401, 'userinfo refuses the revoked key\'s access token');
  assert.ok(took <= 1600, `refused within ~1.5 s (took ${took} ms)`);
  assert.match(hdr || '', /invalid_token/, 'WWW-Authenticate: Bearer error="invalid_token"');

  // new logins work, with another key, verifiable against the published JWKS
  const after = await loginAndRedeem(cfg, { redirectUri: CB });
  const newKid = jose.decodeProtectedHeader(after.tokens.id_token).kid;
  assert.notEqual(newKid, kid);
  await jose.jwtVerify(after.tokens.id_token, jose.createLocalJWKSet(await freshJwks()), { issuer: hub.issuer, audience: 'svc-a' });
  const ui = await fetch(`${hub.issuer}/userinfo`, { headers: { authorization: `Bearer ${after.tokens.access_token}` } });
  assert.equal(ui.status, 200);
  await ui.text();
});

test('every key change is in the audit log with who, what and target', async () => {
  const { records, text } = await auditLog(hub);
  const whats = records.map((r) => r.what);
  for (const w of ['keys.rotate', 'keys.revoke']) assert.ok(whats.includes(w), `audit has ${w}: ${whats}`);
  for (const r of records.filter((x) => String(x.what).startsWith('keys.'))) {
    assert.ok(r.who, `who: ${JSON.stringify(r)}`);
    assert.ok(r.at, `at: ${JSON.stringify(r)}`);
  }
  const rev = records.find((r) => r.what === 'keys.revoke');
  assert.ok(rev.target, 'the revocation names its kid');
  assert.doesNotMatch(text, /BEGIN|PRIVATE KEY|"pem"|"d":/, 'no private key material in the audit log');
});
