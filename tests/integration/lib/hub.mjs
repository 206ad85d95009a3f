// hub.mjs — start and stop a real idhub daemon for a test: free loopback port, a libconfig file and
// a state directory in a fresh temporary directory, stderr captured, /healthz polled until it serves.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const IDHUB_BIN = process.env.IDHUB_BIN || path.join(REPO, 'build/asan/idhub');
export const ADAPTER_DIR = process.env.IDHUB_ADAPTER_DIR || path.join(REPO, 'build/asan/adapters');

export const LOA_LOW = 'http://eidas.europa.eu/LoA/low';
export const LOA_SUBSTANTIAL = 'http://eidas.europa.eu/LoA/substantial';
export const LOA_HIGH = 'http://eidas.europa.eu/LoA/high';
export const DEMO_SECRET = 'demo-secret-not-for-production'; // deploy/dev.conf's public demo secret
export const LOAS = [LOA_LOW, LOA_SUBSTANTIAL, LOA_HIGH];

/** "sha256:" + base64url(sha256(secret)), unpadded: the form of a service's secret_hash. */
export function secretHash(secret) {
  return 'sha256:' + createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** A free TCP port on 127.0.0.1 (listen on port 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// ---- libconfig writer -----------------------------------------------------------------------

/** A libconfig string literal: backslashes, double quotes and control characters escaped. */
export function lcString(s) {
  return '"' + String(s)
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')) + '"';
}

const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A JS value as a libconfig value: object → group, array of objects → list, array → array. */
export function lcValue(v, indent = '') {
  const inner = indent + '  ';
  if (typeof v === 'string') return lcString(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError('libconfig: non-finite number');
    return Number.isInteger(v) ? String(v) : String(v);
  }
  if (typeof v === 'bigint') return v.toString() + 'L';
  if (Array.isArray(v)) {
    if (v.some((x) => isPlainObject(x) || Array.isArray(x))) {
      if (v.length === 0) return '( )';
      return '(\n' + v.map((x) => inner + lcValue(x, inner)).join(',\n') + '\n' + indent + ')';
    }
    return '[ ' + v.map((x) => lcValue(x, inner)).join(', ') + ' ]';
  }
  if (isPlainObject(v)) {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return '{ }';
    return '{\n' + entries.map(([k, x]) => `${inner}${k} = ${lcValue(x, inner)};`).join('\n') + '\n' + indent + '}';
  }
  throw new TypeError(`libconfig: cannot write ${typeof v}`);
}

/** A whole config file from top-level settings (each key = value;). */
export function lcFile(settings) {
  return Object.entries(settings)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} = ${lcValue(v)};`)
    .join('\n') + '\n';
}

/** The default sandbox IdP; page_base_url on localhost makes it another site than the hub. */
export function sandboxIdp(port, overrides = {}) {
  const { settings, ...rest } = overrides;
  return {
    id: 'sandbox',
    adapter: 'sandbox',
    display_name: 'Sandbox identity provider',
    max_loa: LOA_SUBSTANTIAL,
    settings: { page_base_url: `http://localhost:${port}`, ...(settings || {}) },
    ...rest,
  };
}

/**
 * A client_secret_basic service in its own sector with an (unlistened) loopback redirect URI. Its
 * ID tokens are ES256, set explicitly: a service that names no algorithm gets RS256 (the
 * registration default), and the tests written for ES256 keep testing ES256.
 */
export function service(clientId, overrides = {}) {
  return {
    client_id: clientId,
    name: `Service ${clientId}`,
    auth_method: 'client_secret_basic',
    secret_hash: secretHash(`${clientId}-secret`),
    redirect_uris: [`http://127.0.0.1:9/${clientId}/cb`],
    sector: `sector-${clientId}`,
    scopes: ['openid', 'profile'],
    id_token_alg: 'ES256',
    ...overrides,
  };
}

/** AddressSanitizer / LeakSanitizer / UBSan reports in a log. */
export function sanitizerReports(log) {
  const out = [];
  for (const re of [/ERROR: AddressSanitizer: [^\n]*/g, /ERROR: LeakSanitizer: [^\n]*/g, /runtime error: [^\n]*/g, /SUMMARY: \w*Sanitizer: [^\n]*/g]) {
    for (const m of log.matchAll(re)) out.push(m[0]);
  }
  return [...new Set(out)];
}

// ---- the daemon ------------------------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start idhub. Options:
 *   services: list of service groups (JS objects, written as libconfig), or (port, issuer) => list
 *   idps: list of IdP groups, or a function (port) => list; default: the sandbox on localhost
 *   hub: overrides of the hub group; loa: the LoA list; extra: more top-level settings (or a function of port and issuer giving them)
 *   env: extra environment variables
 *   dir + port: reuse a directory (and port) from an earlier hub (then stop() keeps the directory;
 *     call removeDir() yourself)
 *   keepDir: do not remove the temporary directory on stop()
 * Returns { issuer, port, metricsUrl, dir, stateDir, configPath, config, stop(), logs(), exitCode, removeDir() }.
 */
export async function startHub(opts = {}) {
  const port = opts.port ?? (await freePort());
  const ownDir = !opts.dir;
  const dir = opts.dir ?? (await mkdtemp(path.join(tmpdir(), 'idhub-test-')));
  const stateDir = path.join(dir, 'var');
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const issuer = `http://127.0.0.1:${port}`;
  // /metrics has a listener of its own: a free port of its own, so hubs can run side by side
  const metricsPort = await freePort();
  const idps = typeof opts.idps === 'function' ? opts.idps(port) : (opts.idps ?? [sandboxIdp(port)]);
  const config = {
    hub: {
      issuer,
      port,
      state_dir: stateDir,
      adapter_dir: ADAPTER_DIR,
      threads: 2,
      demo: false,
      jwks_max_age: 300,
      metrics_listen: `127.0.0.1:${metricsPort}`,
      ...(opts.hub || {}),
    },
    loa: opts.loa ?? LOAS,
    idps,
    services: (typeof opts.services === 'function' ? opts.services(port, issuer) : opts.services) ?? [],
    ...((typeof opts.extra === 'function' ? opts.extra(port, issuer) : opts.extra) || {}),
  };
  const configPath = path.join(dir, 'idhub.conf');
  await writeFile(configPath, lcFile(config), { mode: 0o600 });

  let log = '';
  const child = spawn(IDHUB_BIN, ['--config', configPath], {
    cwd: dir,
    env: {
      ...process.env,
      ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=1:abort_on_error=0:halt_on_error=1',
      UBSAN_OPTIONS: process.env.UBSAN_OPTIONS ?? 'print_stacktrace=1:halt_on_error=1',
      ...(opts.env || {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  let spawnError = null;
  child.on('error', (e) => { spawnError = e; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let exitInfo = null;
  exited.then((x) => { exitInfo = x; });

  const hub = {
    issuer,
    port,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    dir,
    stateDir,
    configPath,
    config,
    pid: child.pid,
    logs: () => log,
    get exitCode() { return exitInfo ? exitInfo.code : undefined; },
    get exitSignal() { return exitInfo ? exitInfo.signal : undefined; },
    get running() { return exitInfo === null && !spawnError; },
    stopped: false,
    async stop() {
      if (hub.stopped) return exitInfo;
      hub.stopped = true;
      if (exitInfo === null && !spawnError) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => { if (exitInfo === null) child.kill('SIGKILL'); }, 5000);
        await exited;
        clearTimeout(killer);
      }
      if (ownDir && !opts.keepDir) await hub.removeDir();
      return exitInfo;
    },
    /** stop(), then throw if the exit was not clean (exit 0 after SIGTERM) or a sanitizer spoke. */
    async stopAndCheck() {
      const wasRunning = exitInfo === null;
      const x = await hub.stop();
      const problems = sanitizerReports(log);
      if (wasRunning && x && (x.code !== 0 || x.signal)) problems.unshift(`SIGTERM did not exit 0 (exit ${x.code} ${x.signal || ''})`);
      if (!wasRunning) problems.unshift(`the daemon had already exited (${x?.code} ${x?.signal || ''}) before the test ended`);
      if (problems.length) throw new Error(`${problems.join('; ')}\nlog (last 6000 chars):\n${log.slice(-6000)}`);
      return x;
    },
    async removeDir() {
      await rm(dir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + 20000;
  let lastErr = null;
  for (;;) {
    if (spawnError || exitInfo) {
      await hub.stop();
      throw new Error(`idhub did not start (${spawnError ? spawnError.message : `exit ${exitInfo.code} ${exitInfo.signal || ''}`}); `
        + `binary ${IDHUB_BIN}; config:\n${lcFile(config)}\nlog:\n${log}`);
    }
    try {
      const r = await fetch(`${issuer}/healthz`, { signal: AbortSignal.timeout(2000) });
      await r.text();
      if (r.status === 200) break;
      lastErr = new Error(`/healthz answered ${r.status}`);
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      await hub.stop();
      throw new Error(`idhub did not answer /healthz 200 within 20 s (${lastErr?.message}); log:\n${log}`);
    }
    await sleep(50);
  }
  return hub;
}
