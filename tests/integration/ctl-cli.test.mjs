// idhubctl's command line: usage errors are exit 2 with a message naming the problem, failures exit
// 1, success 0, and --help on every command exits 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service } from './lib/hub.mjs';
import { ctl, ctlOk, show, listKeys } from './lib/ctl.mjs';

let hub;
before(async () => {
  hub = await startHub({ services: [service('svc-conf', { redirect_uris: ['http://127.0.0.1:9/svc-conf/cb'] })] });
});
after(async () => { await hub?.stopAndCheck(); });

const ADD = ['services', 'add', '--id', 'svc-x', '--name', 'X'];

test('usage errors: exit 2 and a clear message on stderr', async () => {
  const cases = [
    [[], /usage/i],
    [['bogus'], /unknown command 'bogus'/],
    [['--bogus-option', 'keys', 'list'], /usage/i],
    [['keys'], /subcommand/],
    [['keys', 'bogus'], /bogus/],
    [['keys', 'list', '--bogus'], /option/],
    [['keys', 'generate', '--alg', 'bogus'], /--alg/],
    [['keys', 'generate', '--alg', 'none'], /--alg/],
    [['keys', 'rotate', '--now'], /--now and --revoke/],
    [['keys', 'rotate', '--revoke', 'somekid'], /--now and --revoke/],
    [['keys', 'retire'], /wrong arguments|retire/],
    [['services'], /subcommand/],
    [['services', 'bogus'], /bogus/],
    [['services', 'add'], /--id/],
    [['services', 'add', '--id', 'bad id!', '--name', 'X', '--redirect-uri', 'https://rp.example/cb'], /--id/],
    [['services', 'add', '--id', 'svc-x'], /--name/],
    [ADD, /--redirect-uri/],
    [[...ADD, '--redirect-uri', 'https://rp.example/cb#frag'], /--redirect-uri/],
    [[...ADD, '--redirect-uri', 'https://*.rp.example/cb'], /--redirect-uri/],
    [[...ADD, '--redirect-uri', 'http://rp.example/cb'], /--redirect-uri/],
    [[...ADD, '--redirect-uri', 'not a uri'], /--redirect-uri/],
    [[...ADD, '--redirect-uri', 'https://rp.example/cb', '--alg', 'bogus'], /--alg/],
    [[...ADD, '--redirect-uri', 'https://rp.example/cb', '--auth-method', 'bogus'], /--auth-method/],
    [[...ADD, '--redirect-uri', 'https://rp.example/cb', '--auth-method', 'private_key_jwt'], /--jwks/],
    [[...ADD, '--redirect-uri', 'https://rp.example/cb', '--scope', 'admin'], /--scope/],
    [[...ADD, '--redirect-uri', 'https://rp.example/cb', '--min-loa', 'urn:bogus'], /--min-loa/],
    [[...ADD, '--redirect-uri', 'https://rp.example/cb', '--idp', 'no-such-idp'], /--idp/],
    [['services', 'rotate-secret', 'svc-conf', '--grace', '-5'], /--grace/],
    [['services', 'rotate-secret', 'svc-conf', '--grace', 'abc'], /--grace/],
    [['services', 'show'], /wrong arguments|show/],
    [['idps'], /subcommand/],
    [['idps', 'bogus', 'sandbox'], /bogus/],
    [['idps', 'window', 'sandbox', 'bogus'], /HH:MM/],
    [['idps', 'window', 'sandbox', '25:00-26:00'], /HH:MM/],
    [['idps', 'window', 'sandbox', '07:00'], /HH:MM/],
    [['idps', 'window', 'sandbox'], /window|wrong arguments/],
    [['idps', 'window', 'sandbox', '07:00-08:00', '--clear'], /window|wrong arguments/],
    [['idps', 'enable'], /IdP id/],
    [['pairwise'], /subcommand/],
    [['pairwise', 'bogus'], /bogus/],
    [['pairwise', 'lookup', '--service', 'svc-conf'], /--sub/],
    [['pairwise', 'forget', '--sub', 'x'], /--service/],
    [['audit', '--limit', '0'], /--limit/],
    [['audit', 'extra'], /unexpected/],
    [['status', 'extra'], /no arguments/],
  ];
  const keysBefore = await listKeys(hub);
  for (const [args, re] of cases) {
    const r = await ctl(hub, args);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, re, `message for ${args.join(' ')}: ${show(r)}`);
    assert.doesNotMatch(r.stderr, /Sanitizer|runtime error/, show(r));
  }
  // none of them changed anything
  assert.deepEqual(await listKeys(hub), keysBefore);
  const svcs = await ctlOk(hub, ['services', 'list'], { json: true });
  assert.deepEqual(svcs.json.map((s) => s.client_id), ['svc-conf']);
});

test('failures: exit 1 with a message', async () => {
  const [cur] = (await listKeys(hub)).filter((k) => k.state === 'current');
  assert.ok(cur, 'the daemon made a current key');
  const cases = [
    [['keys', 'retire', cur.kid], /only current/],
    [['keys', 'retire', 'no-such-kid'], /no key/],
    [['keys', 'rotate', '--now', '--revoke', 'no-such-kid'], /no key/],
    [['services', 'remove', 'no-such-service'], /no service/],
    [['services', 'update', 'no-such-service', '--name', 'Y'], /no service/],
    [['services', 'update', 'svc-conf', '--name', 'Y'], /config/],
    [['services', 'remove', 'svc-conf'], /config/],
    [['idps', 'disable', 'no-such-idp'], /no IdP/],
    [['pairwise', 'forget', '--service', 'svc-conf', '--sub', 'no-such-sub'], /no sub/],
    [['pairwise', 'lookup', '--service', 'no-such-service', '--sub', 'x'], /no service/],
  ];
  for (const [args, re] of cases) {
    const r = await ctl(hub, args);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stdout + r.stderr, re, `message for ${args.join(' ')}: ${show(r)}`);
  }
  assert.equal((await listKeys(hub)).find((k) => k.kid === cur.kid)?.state, 'current', 'the refused retire changed nothing');
  // an unreadable config is a failure, not a usage error
  const nocfg = await ctl('/nonexistent/idhub.conf', ['keys', 'list']);
  assert.equal(nocfg.status, 1, show(nocfg));
});

test('--help on each command exits 0 with its usage; successes exit 0', async () => {
  const top = await ctl(hub, ['--help']);
  assert.equal(top.status, 0, show(top));
  assert.match(top.stdout, /usage: idhubctl/);
  for (const cmd of ['keys', 'services', 'idps', 'pairwise', 'backup', 'restore', 'status', 'audit']) {
    for (const h of ['--help', '-h']) {
      const r = await ctl(hub, [cmd, h]);
      assert.equal(r.status, 0, show(r));
      assert.match(r.stdout, new RegExp(`usage: idhubctl ${cmd}`), show(r));
    }
  }
  const sub = await ctl(hub, ['keys', 'rotate', '--help']);
  assert.equal(sub.status, 0, show(sub));
  assert.match(sub.stdout, /--revoke/);
  for (const args of [['keys', 'list'], ['keys', 'export-public'], ['services', 'list'], ['idps', 'list'], ['idps', 'show', 'sandbox'],
    ['services', 'show', 'svc-conf'], ['audit'], ['status']]) {
    await ctlOk(hub, args);
    await ctlOk(hub, args, { json: true });
  }
  const status = await ctlOk(hub, ['status'], { json: true });
  assert.equal(status.json.daemon_up, true);
  const gen = await ctlOk(hub, ['keys', 'generate', '--alg', 'RS256']);
  assert.match(gen.stdout, /RS256 \S+: \(new\) -> next/);
});
