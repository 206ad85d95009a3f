// ctl.mjs — run the operator CLI idhubctl against a test hub's config file (asynchronously, so a
// test can keep logins running while a command runs), and small helpers around it.
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO, lcFile } from './hub.mjs';

export const IDHUBCTL_BIN = process.env.IDHUBCTL_BIN || path.join(REPO, 'build/asan/idhubctl');

/**
 * Run idhubctl. target: a hub from startHub (its configPath is used) or a config file path.
 * opts: {json (adds --json), timeout (ms), env}. Returns {status, signal, stdout, stderr, json, args}.
 * json is the parsed stdout when it parses, else null.
 */
export function ctl(target, args, { json = false, timeout = 20000, env = {} } = {}) {
  const configPath = typeof target === 'string' ? target : target?.configPath;
  const argv = [...(configPath ? ['--config', configPath] : []), ...(json ? ['--json'] : []), ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(IDHUBCTL_BIN, argv, {
      env: {
        ...process.env,
        ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1:abort_on_error=0:halt_on_error=1',
        UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? 'print_stacktrace=1:halt_on_error=1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      let parsed = null;
      try { parsed = JSON.parse(stdout); } catch { /* not JSON */ }
      resolve({ status, signal, stdout, stderr, json: parsed, args: argv });
    });
  });
}

/** A one-line description of a result, for assertion messages. */
export function show(r) {
  return `idhubctl ${r.args.join(' ')} → exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\nstdout: ${r.stdout.slice(0, 2000)}\nstderr: ${r.stderr.slice(0, 2000)}`;
}

/** Run idhubctl and require an exit code (default 0). */
export async function ctlOk(target, args, opts = {}) {
  const want = opts.status ?? 0;
  const r = await ctl(target, args, opts);
  if (r.status !== want) throw new Error(`expected exit ${want}: ${show(r)}`);
  if (/ERROR: (Address|Leak)Sanitizer|runtime error:/.test(r.stderr)) throw new Error(`sanitizer report: ${show(r)}`);
  return r;
}

/** The keys as `keys list --json` reports them: [{kid, alg, state, created, activates, retires}]. */
export async function listKeys(target) {
  const r = await ctlOk(target, ['keys', 'list'], { json: true });
  if (!Array.isArray(r.json)) throw new Error(`keys list --json is not an array: ${show(r)}`);
  return r.json;
}

/** The audit log as `--json audit` gives it (parsed), and its raw text. */
export async function auditLog(target, limit = 10000) {
  const r = await ctlOk(target, ['audit', '--limit', String(limit)], { json: true });
  if (!Array.isArray(r.json)) throw new Error(`audit --json is not an array: ${show(r)}`);
  return { records: r.json, text: r.stdout };
}

/**
 * Write a config file for another state directory (e.g. to restore a backup into), from a hub's
 * config object with overrides of its hub group. Creates stateDir (0700). Returns the file path.
 */
export async function writeConfigFor(config, dir, hubOverrides = {}) {
  const stateDir = hubOverrides.state_dir ?? path.join(dir, 'var');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, 'idhub.conf');
  await writeFile(file, lcFile({ ...config, hub: { ...config.hub, state_dir: stateDir, ...hubOverrides } }), { mode: 0o600 });
  return file;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * An openid-client configuration for a service WITHOUT openid-client's own ID token signature
 * checks (its JWKS cache ignores Cache-Control), for tests that verify signatures themselves with
 * their own JWKS cache. auth as rpConfig's: 'basic' | 'post' | {privateKey, kid}.
 */
export async function plainRpConfig(hub, clientId, { secret = `${clientId}-secret`, auth = 'basic' } = {}) {
  const client = await import('openid-client');
  let clientAuth;
  if (auth === 'basic') clientAuth = client.ClientSecretBasic(secret);
  else if (auth === 'post') clientAuth = client.ClientSecretPost(secret);
  else clientAuth = client.PrivateKeyJwt({ key: auth.privateKey, kid: auth.kid });
  return client.discovery(new URL(hub.issuer), clientId, {}, clientAuth, { execute: [client.allowInsecureRequests] });
}
