// The adapter host (ABI v2, broker/idp/) through the test adapters of tests/adapters/: a login
// through the example adapter (its page, the journey's scratch record, finish taking the parked
// answer), its declared settings parsed by the hub with FILE:LINE errors (--check-config too), an
// adapter of another ABI refused, and a network-bound adapter's own page run under its IdP's gate.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { startHub, service, lcFile, IDHUB_BIN, ADAPTER_DIR, LOAS, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { Browser, login } from './lib/browser.mjs';
import { rpConfig, authRequest, client } from './lib/rp.mjs';

const cb = 'http://127.0.0.1:9/svc/cb';
const exampleIdp = (settings = {}) => ({ id: 'ex', adapter: 'example', display_name: 'Example', max_loa: LOA_SUBSTANTIAL, settings });
const dirs = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

test('a login through the example adapter: its page parks the answer, finish takes it once', async () => {
  const hub = await startHub({ idps: [exampleIdp({ level: 2, answer_ttl: '90s' })], services: [service('svc', { redirect_uris: [cb] })] });
  try {
    const config = await rpConfig(hub, 'svc');
    const req = await authRequest(config, { redirectUri: cb });
    const j = await login({ authorizeUrl: req.url.href, idp: 'ex', persona: 'carol', browser: new Browser() });
    assert.ok(j.params?.code, `no code: ${j.location}`);
    const tokens = await client.authorizationCodeGrant(config, new URL(j.location), {
      pkceCodeVerifier: req.verifier, expectedState: req.state, expectedNonce: req.nonce, idTokenExpected: true });
    assert.equal(tokens.claims().acr, LOAS[1], 'the level the declared setting "level" names');
    // the answer was taken: the same callback again finds no journey and no parked answer
    const again = await j.browser.submitForm(j.steps.autopost.text, j.steps.autopost.url, {}, { form: (f) => /\/callback\//.test(f.action) });
    assert.notEqual(again.status, 303, 'a replayed callback must not log in');
    // without the page's answer the callback is refused: the scratch record still says pending
    const req2 = await authRequest(config, { redirectUri: cb });
    const j2 = await login({ authorizeUrl: req2.url.href, idp: 'ex', until: 'sandbox', browser: new Browser() });
    const rid = new URL(j2.last.url).searchParams.get('rid');
    const direct = await j2.browser.post(`${hub.issuer}/callback/ex`, { state: rid });
    assert.equal(direct.location, null, 'no code without an answer');
    assert.match(hub.logs(), /no answer for this login/);
  } finally {
    await hub.stopAndCheck();
  }
});

function check(file) {
  return spawnSync(IDHUB_BIN, ['--check-config', file], { encoding: 'utf8', timeout: 20000 });
}

test('declared settings: bad values fail with FILE:LINE of the setting, in --check-config and at start', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-host-'));
  dirs.push(dir);
  const base = (settings) => ({
    hub: { issuer: 'http://127.0.0.1:18081', port: 18081, state_dir: path.join(dir, 'var'), adapter_dir: ADAPTER_DIR, threads: 2, demo: false },
    loa: LOAS, idps: [exampleIdp(settings)], services: [service('svc-a')],
  });
  const cases = [
    [{ level: 7 }, 'level', /level: must be a whole number from 1 to 3/],
    [{ level: 'two' }, 'level', /level: must be a whole number from 1 to 3/],
    [{ answer_ttl: '1h' }, 'answer_ttl', /answer_ttl: must be a whole number of seconds from 10 to 600/],
    [{ answer_ttl: '5x' }, 'answer_ttl', /answer_ttl: must be a whole number of seconds/],
    [{ colour: 'red' }, 'colour', /colour: unknown setting for the example adapter/],
  ];
  for (const [settings, name, why] of cases) {
    const text = lcFile(base(settings));
    const file = path.join(dir, 'bad.conf');
    await writeFile(file, text);
    const line = text.split('\n').findIndex((l) => l.trim().startsWith(`${name} =`)) + 1;
    const r = check(file);
    assert.equal(r.status, 1, `${name}: exit ${r.status}\n${r.stdout}${r.stderr}`);
    assert.ok(r.stderr.startsWith(`${file}:${line}: idp 'ex': `), `${name}: ${r.stderr}`);
    assert.match(r.stderr, why);
  }
  const good = path.join(dir, 'good.conf');
  await writeFile(good, lcFile(base({ level: 3, answer_ttl: '10m' })));
  const r = check(good);
  assert.equal(r.status, 0, r.stderr);
});

test('an adapter of another ABI version is refused with FILE:LINE, never called', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-host-'));
  dirs.push(dir);
  const conf = {
    hub: { issuer: 'http://127.0.0.1:18082', port: 18082, state_dir: path.join(dir, 'var'), adapter_dir: ADAPTER_DIR, threads: 2, demo: false },
    loa: LOAS, idps: [{ id: 'old', adapter: 'abi1', display_name: 'Old', max_loa: LOA_SUBSTANTIAL }], services: [service('svc-a')],
  };
  const text = lcFile(conf);
  const file = path.join(dir, 'abi.conf');
  await writeFile(file, text);
  const r = check(file);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^\S+abi\.conf:\d+: idp 'old': \S+idhub-adapter-abi1\.so is not an idhub adapter of ABI version 2 to 2/);
  assert.doesNotMatch(r.stderr, /must never be called/);
});

test('a network-bound adapter\'s own page runs on the blocking pool, under its IdP\'s max_concurrent', async () => {
  const slow = { id: 'slow', adapter: 'slowpage', display_name: 'Slow', max_loa: LOA_SUBSTANTIAL, max_concurrent: 1 };
  const hub = await startHub({ idps: [slow], services: [service('svc', { redirect_uris: [cb] })] });
  const waiting = path.join(hub.stateDir, 'slow-waiting');
  try {
    const first = fetch(`${hub.issuer}/idp/slow/wait`);
    let seen = false;
    for (let i = 0; i < 200 && !seen; i++) {
      seen = await access(waiting).then(() => true, () => false);
      if (!seen) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(seen, 'the first page call did not start');
    // the IdP's one place is taken: a second call is refused at once, not queued behind the first
    const second = await fetch(`${hub.issuer}/idp/slow/wait`);
    assert.equal(second.status, 503);
    assert.match(await second.text(), /Slow is not available just now/);
    await writeFile(path.join(hub.stateDir, 'slow-go'), '');
    const r = await first;
    assert.equal(r.status, 200);
    assert.equal(await r.text(), 'done');
  } finally {
    await hub.stopAndCheck();
  }
});

test('the hub\'s HTTP client sends an adapter\'s request headers and JSON body', async () => {
  let got = null;
  const peer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      got = { method: req.method, type: req.headers['content-type'], test: req.headers['x-idhub-test'], body };
      res.writeHead(201, { 'content-type': 'text/plain' }).end('made');
    });
  });
  await new Promise((r) => peer.listen(0, '127.0.0.1', r));
  const slow = { id: 'slow', adapter: 'slowpage', display_name: 'Slow', max_loa: LOA_SUBSTANTIAL };
  const hub = await startHub({ idps: [slow], services: [service('svc', { redirect_uris: [cb] })] });
  try {
    const url = `http://127.0.0.1:${peer.address().port}/api`;
    const r = await fetch(`${hub.issuer}/idp/slow/http?url=${encodeURIComponent(url)}`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '201 made');
    assert.equal(got.method, 'POST');
    assert.match(got.type, /^application\/json/);
    assert.equal(got.test, 'yes');
    assert.deepEqual(JSON.parse(got.body), { hello: 'hub' });
  } finally {
    await hub.stopAndCheck();
    await new Promise((r) => peer.close(r));
  }
});
