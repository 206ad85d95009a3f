// idhubctl idps and pairwise under a running daemon: an IdP made unavailable, disabled or outside
// its daily window is not offered (the service gets unmet_authentication_requirements) and comes
// back when the switch is undone; pairwise lookup never shows the upstream subject, and forget makes
// the citizen's next login get a new, unlinkable sub.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service } from './lib/hub.mjs';
import { Browser, redirectParams } from './lib/browser.mjs';
import { loginAndRedeem, authRequest } from './lib/rp.mjs';
import { ctl, ctlOk, show, auditLog, plainRpConfig } from './lib/ctl.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
let hub;
let cfg;

before(async () => {
  hub = await startHub({ services: [service('svc-a', { redirect_uris: [CB] })] });
  cfg = await plainRpConfig(hub, 'svc-a');
});
after(async () => { await hub?.stopAndCheck(); });

/** authorize (and the picker, if the hub gets that far): the error the service receives, or null. */
async function errorAtService() {
  const req = await authRequest(cfg, { redirectUri: CB });
  const ua = new Browser();
  let res = await ua.get(req.url.href, { initiator: CB });
  for (let i = 0; i < 3 && res.location && !res.location.startsWith(CB); i++) res = await ua.get(res.location, { initiator: CB });
  if (res.location && res.location.startsWith(CB)) {
    const { params } = redirectParams(res.location);
    assert.equal(params.state, req.state);
    return params.error ?? null;
  }
  assert.equal(res.status, 200, `the picker: ${res.status} ${res.text.slice(0, 300)}`);
  return null;
}

async function assertOffered(what) {
  assert.equal(await errorAtService(), null, `${what}: the sandbox is offered`);
  const { claims } = await loginAndRedeem(cfg, { redirectUri: CB });
  assert.ok(claims.sub, `${what}: a login works`);
}

async function assertNotOffered(what) {
  assert.equal(await errorAtService(), 'unmet_authentication_requirements', `${what}: the service gets unmet_authentication_requirements`);
}

async function offeredNow() {
  const r = await ctlOk(hub, ['idps', 'show', 'sandbox'], { json: true });
  return r.json.offered_now;
}

test('idps unavailable / available', async () => {
  await assertOffered('at first');
  const r = await ctlOk(hub, ['idps', 'unavailable', 'sandbox', '--note', 'planned maintenance']);
  assert.match(r.stdout, /unavailable/);
  await assertNotOffered('unavailable');
  assert.equal(await offeredNow(), false);
  await ctlOk(hub, ['idps', 'available', 'sandbox']);
  await assertOffered('available again');
  assert.equal(await offeredNow(), true);
});

test('idps disable / enable', async () => {
  await ctlOk(hub, ['idps', 'disable', 'sandbox']);
  await assertNotOffered('disabled');
  await ctlOk(hub, ['idps', 'enable', 'sandbox']);
  await assertOffered('enabled');
});

test('idps window: a daily window that excludes now makes it unavailable; --clear brings it back', async () => {
  const d = new Date();
  const now = d.getUTCHours() * 60 + d.getUTCMinutes();
  const hhmm = (m) => `${String(Math.floor(((m + 1440) % 1440) / 60)).padStart(2, '0')}:${String(((m + 1440) % 1440) % 60).padStart(2, '0')}`;
  // two hours from now for an hour, or, when that would wrap past midnight, three hours ago for an hour
  let from = now + 120;
  let to = now + 180;
  if (from % 1440 > to % 1440) { from = now - 180; to = now - 120; }
  const window = `${hhmm(from)}-${hhmm(to)}`;
  const r = await ctlOk(hub, ['idps', 'window', 'sandbox', window], { json: true });
  assert.equal(r.json.offered_now, false, show(r));
  await assertNotOffered(`window ${window} at ${hhmm(now)} UTC`);
  await ctlOk(hub, ['idps', 'window', 'sandbox', '--clear']);
  await assertOffered('window cleared');
  // a window that includes now keeps it offered
  if (now >= 60 && now + 60 <= 1439) {
    const around = `${hhmm(now - 60)}-${hhmm(now + 60)}`;
    await ctlOk(hub, ['idps', 'window', 'sandbox', around]);
    await assertOffered(`window ${around}`);
    await ctlOk(hub, ['idps', 'window', 'sandbox', '--clear']);
  }
});

function assertNoUpstreamSubject(r) {
  for (const out of [r.stdout, r.stderr]) {
    assert.doesNotMatch(out, /sandbox-alice|user:|alice/i, `no upstream subject in the output: ${show(r)}`);
  }
}

test('pairwise lookup shows the record without the upstream subject; forget gives the next login a new sub, twice', async () => {
  const before = Math.floor(Date.now() / 1000);
  const a1 = await loginAndRedeem(cfg, { redirectUri: CB });
  const sub1 = a1.claims.sub;
  const lj = await ctlOk(hub, ['pairwise', 'lookup', '--service', 'svc-a', '--sub', sub1], { json: true });
  assertNoUpstreamSubject(lj);
  assert.equal(lj.json.exists, true, show(lj));
  assert.equal(lj.json.idp, 'sandbox');
  assert.equal(lj.json.sub, sub1);
  assert.ok(Number.isInteger(lj.json.first_seen) && lj.json.first_seen >= before - 5, `first_seen ${lj.json.first_seen}`);
  assert.ok(Number.isInteger(lj.json.last_seen) && lj.json.last_seen >= lj.json.first_seen);
  const lt = await ctlOk(hub, ['pairwise', 'lookup', '--service', 'svc-a', '--sub', sub1]);
  assertNoUpstreamSubject(lt);
  assert.match(lt.stdout, /exists/);
  assert.match(lt.stdout, /sandbox/);
  assert.match(lt.stdout, /first seen \d+/);
  assert.match(lt.stdout, /last seen \d+/);

  const f1 = await ctlOk(hub, ['pairwise', 'forget', '--service', 'svc-a', '--sub', sub1]);
  assertNoUpstreamSubject(f1);
  const gone = await ctlOk(hub, ['pairwise', 'lookup', '--service', 'svc-a', '--sub', sub1], { json: true });
  assert.equal(gone.json.exists, false, show(gone));
  const goneText = await ctlOk(hub, ['pairwise', 'lookup', '--service', 'svc-a', '--sub', sub1]);
  assert.match(goneText.stdout, /does not exist/);
  const again = await ctl(hub, ['pairwise', 'forget', '--service', 'svc-a', '--sub', sub1]);
  assert.equal(again.status, 1, `forgetting it again fails: ${show(again)}`);

  const a2 = await loginAndRedeem(cfg, { redirectUri: CB });
  const sub2 = a2.claims.sub;
  assert.notEqual(sub2, sub1, 'after forget, the same person gets a different sub');
  const a2b = await loginAndRedeem(cfg, { redirectUri: CB, browser: new Browser() });
  assert.equal(a2b.claims.sub, sub2, 'and keeps it');
  const l2 = await ctlOk(hub, ['pairwise', 'lookup', '--service', 'svc-a', '--sub', sub2], { json: true });
  assert.equal(l2.json.exists, true);

  await ctlOk(hub, ['pairwise', 'forget', '--service', 'svc-a', '--sub', sub2]);
  const a3 = await loginAndRedeem(cfg, { redirectUri: CB });
  const sub3 = a3.claims.sub;
  assert.notEqual(sub3, sub2, 'a second forget: another sub again');
  assert.notEqual(sub3, sub1);
  // someone else is not affected
  const carol1 = await loginAndRedeem(cfg, { redirectUri: CB, persona: 'other', username: 'carol', loa: 'http://eidas.europa.eu/LoA/substantial' });
  const carol2 = await loginAndRedeem(cfg, { redirectUri: CB, persona: 'other', username: 'carol', loa: 'http://eidas.europa.eu/LoA/substantial' });
  assert.equal(carol1.claims.sub, carol2.claims.sub);
  const lc = await ctlOk(hub, ['pairwise', 'lookup', '--service', 'svc-a', '--sub', carol1.claims.sub], { json: true });
  assert.doesNotMatch(lc.stdout + lc.stderr, /carol|user:/i, 'no upstream subject for another persona either');
  // unknown service
  const nosvc = await ctl(hub, ['pairwise', 'lookup', '--service', 'no-such-svc', '--sub', sub3]);
  assert.equal(nosvc.status, 1, show(nosvc));
});

test('the audit log has every idps and pairwise change with who/what/target, and no upstream subject', async () => {
  const { records, text } = await auditLog(hub);
  for (const what of ['idps.unavailable', 'idps.available', 'idps.disable', 'idps.enable', 'idps.window']) {
    const rec = records.find((r) => r.what === what);
    assert.ok(rec, `audit has ${what}: ${records.map((r) => r.what).join(', ')}`);
    assert.equal(rec.target, 'sandbox');
    assert.ok(rec.who);
  }
  const forgets = records.filter((r) => r.what === 'pairwise.forget');
  assert.ok(forgets.length >= 2, 'both forgets are audited');
  for (const r of forgets) assert.ok(r.who && r.target);
  assert.doesNotMatch(text, /sandbox-alice|user:|alice|carol/i, 'no upstream subject in the audit log');
});
