// The provable audit log (issue 12 item 3) under a running daemon: token issuances are audited
// (service, pairwise sub, IdP, level, upstream assertion ID — never the upstream subject), the
// daemon signs tree heads on its own interval and idhubctl after each change, `audit verify`
// accepts the log, `audit prove N` gives a proof that an independent checker (lib/audit-proof.mjs,
// jose + node:crypto) accepts against the hub's published JWKS, a forged proof is refused by both,
// and `audit export --since` writes JSON lines. Tampering is covered by tests/unit/test_audit_tree.c.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startHub, service } from './lib/hub.mjs';
import { loginAndRedeem } from './lib/rp.mjs';
import { ctl, ctlOk, show, auditLog, plainRpConfig, sleep } from './lib/ctl.mjs';
import { checkProof } from './lib/audit-proof.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
let hub;
let cfg;

before(async () => {
  hub = await startHub({
    services: [service('svc-a', { redirect_uris: [CB] })],
    hub: { audit_tree_head_interval: 1, audit_retention_days: 3650 },
  });
  cfg = await plainRpConfig(hub, 'svc-a');
});
after(async () => { await hub?.stopAndCheck(); });

async function head() {
  const r = await ctlOk(hub, ['audit', 'head']);
  return r.json;
}

async function jwks() {
  const res = await fetch(`${hub.issuer}/jwks`);
  assert.equal(res.status, 200);
  return res.json();
}

test("the daemon's own changes at its first start are audited: the first key and the secrets", async () => {
  const { records } = await auditLog(hub);
  const whats = records.map((r) => `${r.what} ${r.target}`);
  for (const w of [/^keys\.create /, /^secrets\.create pairwise$/, /^secrets\.create journey-seal$/]) {
    assert.ok(whats.some((x) => w.test(x)), `${w} in ${whats.join(', ')}`);
  }
  assert.equal(records[0].seq, 0, 'the log starts at 0');
});

let tokenSeq;
let sub;

test('a token issuance is audited with service, pairwise sub, IdP, level and assertion ID only', async () => {
  const { claims } = await loginAndRedeem(cfg, { redirectUri: CB });
  sub = claims.sub;
  let rec;
  // the record is group-committed within ~10 ms of the token response
  for (let i = 0; i < 50 && !rec; i++) {
    const { records } = await auditLog(hub);
    rec = records.find((r) => r.what === 'token.issue' && r.after?.sub === sub);
    if (!rec) await sleep(100);
  }
  assert.ok(rec, 'the issuance is in the audit log');
  tokenSeq = rec.seq;
  assert.equal(rec.target, sub, 'the target is the citizen, by pairwise sub (as pairwise.forget)');
  assert.equal(rec.after.service, 'svc-a');
  assert.equal(rec.after.idp, 'sandbox');
  assert.ok(Number.isInteger(rec.after.loa) && rec.after.loa >= 1, `level: ${rec.after.loa}`);
  assert.match(rec.after.assertion ?? '', /\S/, 'the upstream assertion ID');
  assert.match(rec.after.jti ?? '', /\S/, 'the access token ID');
  const { text } = await auditLog(hub);
  assert.doesNotMatch(text, /sandbox-alice|user:|"alice"|given_name|family_name|birthdate/i, 'no upstream subject or attribute');
});

test('the daemon signs heads on its interval; idhubctl signs one after a change', async () => {
  let h;
  for (let i = 0; i < 50; i++) {
    h = await head();
    if (h && h.tree_size > tokenSeq) break;
    await sleep(200);
  }
  assert.ok(h.tree_size > tokenSeq, `the daemon's head covers the issuance: ${JSON.stringify(h)}`);
  await ctlOk(hub, ['idps', 'unavailable', 'sandbox', '--note', 'audit test']);
  await ctlOk(hub, ['idps', 'available', 'sandbox']);
  const { records } = await auditLog(hub);
  const last = records[records.length - 1];
  assert.equal(last.what, 'idps.available');
  const h2 = await head();
  assert.ok(h2.tree_size > last.seq, `the change is covered at once: ${JSON.stringify(h2)} ${last.seq}`);
  // sequence numbers are dense and ordered
  records.forEach((r, i) => assert.equal(r.seq, records[0].seq + i));
  const v = await ctlOk(hub, ['audit', 'verify']);
  assert.match(v.stdout, /^ok: the log matches the signed head/);
});

test('audit prove N: an independent checker accepts the proof against the published JWKS', async () => {
  const r = await ctlOk(hub, ['audit', 'prove', String(tokenSeq)]);
  const proof = r.json;
  assert.equal(proof.leaf_index, tokenSeq);
  const published = await checkProof(proof, await jwks());
  assert.equal(published.iss, hub.issuer);
  assert.equal(JSON.parse(proof.record).after.sub, sub, 'the proof is of the issuance');
  const file = path.join(hub.dir, 'proof.json');
  await writeFile(file, JSON.stringify(proof));
  const ok = await ctlOk(hub, ['audit', 'check-proof', file]);
  assert.match(ok.stdout, /^ok:/);

  // forged: a path hash, the record, the index — each refused by both checkers
  const forgeries = [
    { ...proof, audit_path: proof.audit_path.map((h, i) => (i === 0 ? h.replace(/^./, (c) => (c === '0' ? '1' : '0')) : h)) },
    { ...proof, record: proof.record.replace('svc-a', 'svc-b') },
    { ...proof, leaf_index: proof.leaf_index ^ 1 },
  ];
  for (const f of forgeries) {
    await assert.rejects(checkProof(f, await jwks()), 'the independent checker refuses a forgery');
    await writeFile(file, JSON.stringify(f));
    const bad = await ctl(hub, ['audit', 'check-proof', file]);
    assert.equal(bad.status, 1, show(bad));
    assert.match(bad.stderr, /BAD proof/);
  }
  // a head signed by a key that is not the hub's
  const jose = await import('jose');
  const { privateKey } = await jose.generateKeyPair('ES256');
  const hdr = JSON.parse(Buffer.from(proof.tree_head.split('.')[0], 'base64url'));
  const payload = Buffer.from(proof.tree_head.split('.')[1], 'base64url');
  const fake = await new jose.CompactSign(payload).setProtectedHeader(hdr).sign(privateKey);
  await assert.rejects(checkProof({ ...proof, tree_head: fake }, await jwks()));
  await writeFile(file, JSON.stringify({ ...proof, tree_head: fake }));
  const bad = await ctl(hub, ['audit', 'check-proof', file]);
  assert.equal(bad.status, 1, show(bad));
});

test('logins and idhubctl changes at once: dense, ordered numbers and a log that verifies', async () => {
  const before = (await auditLog(hub)).records.length;
  const logins = Array.from({ length: 12 }, () => loginAndRedeem(cfg, { redirectUri: CB }));
  const changes = (async () => {
    for (let i = 0; i < 4; i++) {
      await ctlOk(hub, ['idps', 'unavailable', 'sandbox', '--note', `n${i}`]);
      await ctlOk(hub, ['idps', 'available', 'sandbox']);
    }
  })();
  // a login refused while the IdP is switched off is fine: only the records matter here
  await Promise.allSettled([...logins, changes]);
  await changes;
  const issued = (await Promise.allSettled(logins)).filter((x) => x.status === 'fulfilled').length;
  let records;
  for (let i = 0; i < 50; i++) {
    records = (await auditLog(hub)).records;
    if (records.filter((r) => r.what === 'token.issue').length >= issued + 1) break;
    await sleep(100);
  }
  assert.equal(records.length, before + 8 + issued, 'every change and issuance is recorded once');
  records.forEach((r, i) => assert.equal(r.seq, i, 'dense and ordered from 0'));
  await ctlOk(hub, ['idps', 'show', 'sandbox']); // an idhubctl command: a head covers all
  const v = await ctlOk(hub, ['audit', 'verify']);
  assert.match(v.stdout, /^ok:/);
});

test('verify and prove against a head published earlier (--head FILE)', async () => {
  const published = path.join(hub.dir, 'published-head.json');
  const h = await head();
  await writeFile(published, JSON.stringify(h));
  await ctlOk(hub, ['idps', 'unavailable', 'sandbox']);
  await ctlOk(hub, ['idps', 'available', 'sandbox']);
  assert.ok((await head()).tree_size > h.tree_size, 'newer heads since');
  const v = await ctlOk(hub, ['audit', 'verify', '--head', published]);
  assert.match(v.stdout, new RegExp(`^ok: the log matches the signed head \\(tree size ${h.tree_size},`));
  const p = await ctlOk(hub, ['audit', 'prove', String(tokenSeq), '--head', published]);
  assert.equal(p.json.tree_size, h.tree_size);
  assert.equal(p.json.tree_head, h.tree_head);
  await checkProof(p.json, await jwks());
  // the bare JWS works too; something else is refused
  await writeFile(published, h.tree_head + '\n');
  await ctlOk(hub, ['audit', 'verify', '--head', published]);
  await writeFile(published, '{"tree_head": "x.y.z"}');
  const bad = await ctl(hub, ['audit', 'verify', '--head', published]);
  assert.equal(bad.status, 1, show(bad));
  assert.match(bad.stderr, /does not check/);
});

test('audit prove refuses a record the head does not cover', async () => {
  const r = await ctl(hub, ['audit', 'prove', '999999']);
  assert.equal(r.status, 1, show(r));
  assert.match(r.stderr, /does not cover/);
});

test('audit export --since writes JSON lines for a SIEM', async () => {
  const r = await ctlOk(hub, ['audit', 'export', '--since', '2000-01-01']);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.some((l) => l.what === 'token.issue' && l.seq === tokenSeq));
  for (const l of lines) assert.match(l.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const none = await ctlOk(hub, ['audit', 'export', '--since', '2999-01-01']);
  assert.equal(none.stdout, '');
  const bad = await ctl(hub, ['audit', 'export', '--since', 'yesterday']);
  assert.equal(bad.status, 2, show(bad));
});

test('issuance records batched when the daemon stops are written at its shutdown', async () => {
  const h = await startHub({ services: [service('svc-a', { redirect_uris: [CB] })], hub: { audit_tree_head_interval: 3600 }, keepDir: true });
  try {
    const { claims } = await loginAndRedeem(await plainRpConfig(h, 'svc-a'), { redirectUri: CB });
    const x = await h.stop(); // at once: the batch (due after a second) is not written yet
    assert.equal(x.code, 0);
    const { records } = await auditLog(h.configPath);
    assert.ok(records.some((r) => r.what === 'token.issue' && r.after?.sub === claims.sub), 'the issuance survived the stop');
    const v = await ctlOk(h.configPath, ['audit', 'verify']);
    assert.match(v.stdout, /^ok:/);
  } finally {
    await h.stop();
    await rm(h.dir, { recursive: true, force: true });
  }
});
