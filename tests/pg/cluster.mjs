// cluster.mjs — a private PostgreSQL 15 cluster for the node tests (tests/pg/cluster.sh: a temporary
// directory, a Unix socket in it, no TCP port; run as nobody when the tests run as root), and
// HAProxy in front of several daemons (round robin, no stickiness, on loopback).
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from '../integration/lib/hub.mjs';

const SCRIPT = path.join(REPO, 'tests/pg/cluster.sh');

function sh(args) {
  return new Promise((resolve) => {
    execFile('sh', [SCRIPT, ...args], { timeout: 60000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Why the node tests cannot run here, or null: PostgreSQL 15 and HAProxy must be installed. */
export async function unavailable() {
  try { await access('/usr/lib/postgresql/15/bin/initdb'); } catch { return 'PostgreSQL 15 is not installed (deploy/install-deps.sh --with-tests)'; }
  try { await access('/usr/sbin/haproxy'); } catch { return 'HAProxy is not installed (deploy/install-deps.sh --with-tests)'; }
  return null;
}

/** Starts a cluster: {conninfo, dir, crash(), kill(), start(), stop()}. */
export async function startCluster() {
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-pg-'));
  const r = await sh(['start', dir]);
  if (r.code !== 0) throw new Error(`cannot start PostgreSQL: ${r.stderr}`);
  const run = async (cmd) => {
    const x = await sh([cmd, dir]);
    if (x.code !== 0) throw new Error(`cluster.sh ${cmd}: ${x.stderr}`);
  };
  return {
    dir,
    conninfo: r.stdout.trim(),
    crash: () => run('crash'),
    kill: () => run('kill'),
    start: () => run('start'),
    async stop() {
      await sh(['stop', dir]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * HAProxy on 127.0.0.1:port in front of the given backend ports: round robin per request, no
 * stickiness, health checks on /healthz every 200 ms, and a request whose connection is refused
 * (a killed node) retried on another node. Each response names its node in X-Idhub-Node.
 */
export async function startHaproxy(port, backends) {
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-haproxy-'));
  const cfg = [
    'global', '  maxconn 256', '',
    'defaults', '  mode http', '  timeout connect 2s', '  timeout client 30s', '  timeout server 30s',
    '  retries 3', '  option redispatch 1', '  retry-on conn-failure empty-response', '',
    'frontend hub', `  bind 127.0.0.1:${port}`, '  default_backend nodes', '',
    'backend nodes', '  balance roundrobin', '  option httpchk GET /healthz',
    '  http-response set-header X-Idhub-Node %s',
    ...backends.map((p, i) => `  server node${i + 1} 127.0.0.1:${p} check inter 200ms fall 1 rise 2`),
    '',
  ].join('\n');
  const file = path.join(dir, 'haproxy.cfg');
  await writeFile(file, cfg);
  let log = '';
  const child = spawn('/usr/sbin/haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      await r.text();
      if (r.status === 200) break;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    logs: () => log,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
