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
