// The daemon's command line: --check-config answers "FILE: ok" (exit 0) or "FILE:LINE: message" (exit 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IDHUB_BIN, ADAPTER_DIR, lcFile, service, sandboxIdp, LOAS } from './lib/hub.mjs';

function config(dir, extraHub = {}) {
  return {
    hub: { issuer: 'http://127.0.0.1:18080', port: 18080, state_dir: path.join(dir, 'var'), adapter_dir: ADAPTER_DIR, threads: 2, demo: false, jwks_max_age: 300, ...extraHub },
    loa: LOAS,
    idps: [sandboxIdp(18080)],
    services: [service('svc-a')],
  };
}

function check(file) {
  return spawnSync(IDHUB_BIN, ['--check-config', file], { encoding: 'utf8', timeout: 20000, env: { ...process.env, ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1' } });
}

test('--check-config: a good file is "FILE: ok", exit 0', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'good.conf');
  await writeFile(file, lcFile(config(dir)));
  const r = check(file);
  assert.equal(r.status, 0, `exit ${r.status} ${r.signal || ''}\n${r.stdout}${r.stderr}`);
  assert.equal(r.stdout.trim(), `${file}: ok`);
});

test('--check-config: a bad file is "FILE:LINE: message" on stderr, exit 1', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const cases = [
    // an unknown setting in the hub group: line 2 of the written file
    { text: lcFile(config(dir, { no_such_setting: 1 })), line: null, what: 'unknown setting' },
    { text: 'hub: {\n  issuer = "http://127.0.0.1:1";\n  port = = 1;\n};\n', line: 3, what: 'syntax error' },
  ];
  for (const c of cases) {
    const file = path.join(dir, 'bad.conf');
    await writeFile(file, c.text);
    const line = c.line ?? c.text.split('\n').findIndex((l) => l.includes('no_such_setting')) + 1;
    const r = check(file);
    assert.equal(r.status, 1, `${c.what}: exit ${r.status} ${r.signal || ''}\n${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}: \\S`, 'm'), `${c.what}: ${r.stderr}`);
  }
});

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The line of the written file where the idp group with this id begins (its `id = "..."` line's group). */
const lineOf = (text, needle) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

test('--check-config loads each adapter: a missing one fails with FILE:LINE naming the idp entry', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const c = config(dir);
  c.idps.push({ id: 'bank', adapter: 'no_such_adapter', display_name: 'Bank', max_loa: LOAS[1], settings: { issuer: 'https://bank.example' } });
  const file = path.join(dir, 'missing-adapter.conf');
  const text = lcFile(c);
  await writeFile(file, text);
  const r = check(file);
  assert.equal(r.status, 1, `exit ${r.status} ${r.signal || ''}\n${r.stdout}${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^${escapeRe(file)}:\\d+: idp 'bank': cannot load adapter 'no_such_adapter'`, 'm'), r.stderr);
  // the line is the bank entry's, not the sandbox's
  const line = Number(new RegExp(`^${escapeRe(file)}:(\\d+):`, 'm').exec(r.stderr)[1]);
  assert.ok(line > lineOf(text, '"sandbox"') && line <= lineOf(text, 'no_such_adapter'), `line ${line} is not within the bank entry:\n${text}`);
  // an adapter_dir without the adapters at all: the first idp is named
  await writeFile(file, lcFile(config(dir, { adapter_dir: dir })));
  const r2 = check(file);
  assert.equal(r2.status, 1, r2.stderr);
  assert.match(r2.stderr, /idp 'sandbox': cannot load adapter 'sandbox'/);
});

test('the sandbox IdP and the demo service are refused on a non-loopback issuer unless environment = "integration"', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pub = { issuer: 'https://login.example.org', port: 18080 };
  const file = path.join(dir, 'public.conf');
  // the sandbox on a public issuer
  let text = lcFile(config(dir, pub));
  await writeFile(file, text);
  let r = check(file);
  assert.equal(r.status, 1, `sandbox on a public issuer: exit ${r.status}\n${r.stdout}${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^${escapeRe(file)}:\\d+: idp 'sandbox': the sandbox adapter is refused`, 'm'), r.stderr);
  // the demo service on a public issuer (no sandbox): refused at the demo line
  const noSandbox = config(dir, { ...pub, demo: true });
  noSandbox.idps = [];
  text = lcFile(noSandbox);
  await writeFile(file, text);
  r = check(file);
  assert.equal(r.status, 1, `demo on a public issuer: exit ${r.status}\n${r.stdout}${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^${escapeRe(file)}:${lineOf(text, 'demo = true')}: 'demo' in hub`, 'm'), r.stderr);
  // both allowed in an integration environment, and on loopback without one
  await writeFile(file, lcFile(config(dir, { ...pub, demo: true, environment: 'integration' })));
  r = check(file);
  assert.equal(r.status, 0, `integration: exit ${r.status}\n${r.stderr}`);
  await writeFile(file, lcFile(config(dir, { demo: true })));
  assert.equal(check(file).status, 0, 'loopback');
  // an unknown environment is a config error
  await writeFile(file, lcFile(config(dir, { environment: 'staging' })));
  r = check(file);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /'environment' in hub must be "production" or "integration"/);
});

test('--check-config: the SAML adapter\'s authn_contexts (one per level) and entity IDs are checked by the hub, at their own line', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'saml.conf');
  const samlConf = (settings) => {
    const c = config(dir);
    c.idps.push({ id: 'gov', adapter: 'saml', display_name: 'Gov', max_loa: LOAS[1], settings: { idp_metadata_url: 'https://idp.example/md', ...settings } });
    return lcFile(c);
  };
  const cases = [
    [{ authn_contexts: 'urn:a' }, 'authn_contexts', `one context URI (or -) per level: 1 given, ${LOAS.length} levels`],
    [{ authn_contexts: LOAS.map((l, i) => (i ? l : 'urn:<a>')).join(' ') }, 'authn_contexts', 'one context URI (or -) per level'],
    [{ sp_entity_id: 'https://sp.example/a b' }, 'sp_entity_id', 'not a valid entity ID'],
    [{ name_id_format: 'urn:x&y' }, 'name_id_format', 'not a URI'],
  ];
  for (const [settings, name, why] of cases) {
    const text = samlConf(settings);
    await writeFile(file, text);
    const r = check(file);
    assert.equal(r.status, 1, `${name}: exit ${r.status}\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^${escapeRe(file)}:${lineOf(text, `${name} =`)}: idp 'gov': ${name}: ${escapeRe(why)}$`, 'm'), `${name}:\n${r.stderr}\n${text}`);
  }
  // one word per level, "-" for a level the IdP lacks; and absent, the hub's level names
  await writeFile(file, samlConf({ authn_contexts: LOAS.map((l, i) => (i ? l : '-')).join(' '), sp_entity_id: 'https://sp.example/' }));
  let r = check(file);
  assert.equal(r.status, 0, r.stderr);
  await writeFile(file, samlConf({}));
  r = check(file);
  assert.equal(r.status, 0, r.stderr);
});
