// The Debian package end to end: `make deb` builds build/idhub_<version>_amd64.deb (lintian: no
// error), `dpkg -i` installs the binaries, adapters, man pages, the conffile, the idhub user, the
// state directory and the unit; `idhub --check-config` accepts the shipped config; the packaged
// daemon, run as idhub (setpriv, no new privileges, and the kernel's memory-deny-write-execute as
// the unit's MemoryDenyWriteExecute= asks, when the kernel has it), loads the installed adapters
// and signs a citizen in through the sandbox IdP; `dpkg --purge` removes the package's files and
// keeps the state directory (keys, pairwise secrets), as documented in debian/idhub.postrm.
//
// It needs root (dpkg -i): as another user it is skipped, saying why. It is skipped too when idhub
// is already installed, or /var/lib/idhub exists, on this machine: it would replace and purge them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO, freePort, lcFile, sandboxIdp, service, LOAS } from '../integration/lib/hub.mjs';
import { rpConfig, loginAndRedeem, verifyIdToken } from '../integration/lib/rp.mjs';

const run = promisify(execFile);
const sh = (cmd, args, opts = {}) => run(cmd, args, { maxBuffer: 64 << 20, ...opts });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const installed = () => spawnSync('dpkg-query', ['-W', '-f=${Status}', 'idhub'], { encoding: 'utf8' }).stdout.includes('install ok installed');
const isRoot = process.getuid?.() === 0;
const skip = !isRoot ? 'needs root: it installs and purges the package with dpkg (run make check as root)'
  : installed() ? 'the idhub package is already installed here: the test would replace and purge it'
    : existsSync('/var/lib/idhub') ? '/var/lib/idhub exists here: the test would take it over'
      : false;

const VERSION = /^idhub \(([^)]+)\)/.exec(spawnSync('head', ['-1', path.join(REPO, 'debian/changelog')], { encoding: 'utf8' }).stdout)?.[1];
const ARCH = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout.trim();
const DEB = path.join(REPO, `build/idhub_${VERSION}_${ARCH}.deb`);
let daemon = null;
let tmp = null;
let weInstalled = false;

after(async () => {
  if (daemon && daemon.exitCode === null) daemon.kill('SIGKILL');
  if (tmp) await rm(tmp, { recursive: true, force: true });
  if (skip) return;
  if (weInstalled && installed()) spawnSync('dpkg', ['--purge', 'idhub'], { stdio: 'ignore' });
  if (weInstalled) await rm('/var/lib/idhub', { recursive: true, force: true });
});

test('make deb builds the package and lintian reports no error', { skip, timeout: 300000 }, async (t) => {
  const { stdout } = await sh('make', ['--no-print-directory', 'deb'], { cwd: REPO, timeout: 290000 });
  assert.ok(existsSync(DEB), `${DEB} was built`);
  const tags = stdout.split('\n').filter((l) => /^[EWIPX]: idhub/.test(l));
  for (const l of tags) t.diagnostic(`lintian ${l}`);
  assert.deepEqual(tags.filter((l) => l.startsWith('E:')), [], 'lintian errors');
});

const mode = (p) => statSync(p).mode & 0o7777;
const owner = (p) => { const s = statSync(p); return `${s.uid}:${s.gid}`; };
let uid;
let gid;

test('dpkg -i installs the files, the idhub user, the state directory and the unit', { skip }, async () => {
  assert.ok(existsSync(DEB), 'the package was built');
  weInstalled = true;
  await sh('dpkg', ['-i', DEB], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const pw = spawnSync('getent', ['passwd', 'idhub'], { encoding: 'utf8' }).stdout.trim().split(':');
  assert.equal(pw[0], 'idhub', 'the idhub user exists');
  [uid, gid] = [Number(pw[2]), Number(pw[3])];
  assert.ok(uid > 0 && uid < 1000, `a system uid (${uid})`);
  assert.equal(pw[6], '/usr/sbin/nologin', 'no login shell');
  const files = {
    '/usr/sbin/idhub': [0o755, '0:0'],
    '/usr/bin/idhubctl': [0o755, '0:0'],
    '/usr/lib/idhub/adapters/idhub-adapter-sandbox.so': [0o644, '0:0'],
    '/usr/lib/idhub/adapters/idhub-adapter-oidc.so': [0o644, '0:0'],
    '/usr/lib/idhub/adapters/idhub-adapter-saml.so': [0o644, '0:0'],
    '/usr/share/man/man8/idhub.8.gz': [0o644, '0:0'],
    '/usr/share/man/man1/idhubctl.1.gz': [0o644, '0:0'],
    '/lib/systemd/system/idhub.service': [0o644, '0:0'],
    '/usr/share/doc/idhub/examples/idhub.conf.example': [0o644, '0:0'],
    '/etc/idhub/idhub.conf': [0o640, `0:${gid}`],
    '/var/lib/idhub': [0o700, `${uid}:${gid}`],
  };
  for (const [f, [m, o]] of Object.entries(files)) {
    assert.ok(existsSync(f), `${f} installed`);
    assert.equal(mode(f).toString(8), m.toString(8), `mode of ${f}`);
    assert.equal(owner(f), o, `owner of ${f}`);
  }
  const conffiles = spawnSync('dpkg-query', ['-W', '-f=${Conffiles}', 'idhub'], { encoding: 'utf8' }).stdout;
  assert.match(conffiles, /\/etc\/idhub\/idhub\.conf [0-9a-f]{32}/, 'the config is a conffile');
  const { stdout: ver } = await sh('/usr/sbin/idhub', ['--version']);
  assert.equal(ver.trim(), `idhub ${VERSION}`);
});

test('idhub --check-config accepts the shipped /etc/idhub/idhub.conf, read as the idhub user', { skip }, async () => {
  const { stdout } = await sh('runuser', ['-u', 'idhub', '--', '/usr/sbin/idhub', '--check-config', '/etc/idhub/idhub.conf']);
  assert.equal(stdout.trim(), '/etc/idhub/idhub.conf: ok');
});

test('systemd-analyze security scores the installed unit', { skip }, async (t) => {
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', '/lib/systemd/system/idhub.service'], { encoding: 'utf8' });
  const m = /Overall exposure level for idhub\.service: ([\d.]+) (\w+)/.exec(r.stdout || '');
  if (!m && /offline/.test(r.stderr || '')) { t.skip(`this systemd-analyze has no --offline: ${r.stderr.trim()}`); return; }
  assert.ok(m, `a score: ${r.stdout}${r.stderr}`);
  t.diagnostic(`systemd-analyze security: ${m[1]} ${m[2]}`);
  // the hardening documented in the unit scores 1.1; anything above 2 means a protection was lost
  assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]} ${m[2]}`);
  const u = spawnSync('systemd-analyze', ['verify', '/lib/systemd/system/idhub.service'], { encoding: 'utf8' });
  assert.equal(u.status, 0, `systemd-analyze verify: ${u.stderr}`);
});

/** An argv that runs cmd with the kernel's memory-deny-write-execute set (inherited by exec). */
function mdweArgv(argv) {
  const probe = spawnSync('python3', ['-c', 'import ctypes; exit(0 if ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) == 0 else 1)']);
  if (probe.status !== 0) return { argv, mdwe: false };
  const py = 'import ctypes, os, sys\nassert ctypes.CDLL(None).prctl(65, 1, 0, 0, 0) == 0\nos.execv(sys.argv[1], sys.argv[1:])';
  return { argv: ['python3', '-c', py, ...argv], mdwe: true };
}

test('the packaged daemon runs as idhub, loads the installed adapters and signs a citizen in', { skip, timeout: 60000 }, async (t) => {
  tmp = await mkdtemp(path.join(tmpdir(), 'idhub-deb-'));
  await chmod(tmp, 0o755);
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const cb = 'http://127.0.0.1:9/svc-deb/cb';
  // no adapter_dir: the packaged build's own, /usr/lib/idhub/adapters; the package's state dir
  const config = {
    hub: { issuer, port, state_dir: '/var/lib/idhub', threads: 2, log_format: 'json', metrics_listen: `127.0.0.1:${await freePort()}` },
    loa: LOAS,
    idps: [sandboxIdp(port)],
    services: [service('svc-deb', { redirect_uris: [cb] })],
  };
  const configPath = path.join(tmp, 'idhub.conf');
  await writeFile(configPath, lcFile(config), { mode: 0o644 });
  const { argv, mdwe } = mdweArgv(['/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups',
    '--no-new-privs', '--inh-caps=-all', '/usr/sbin/idhub', '--config', configPath]);
  t.diagnostic(mdwe ? 'running under the kernel\'s memory-deny-write-execute (PR_SET_MDWE)' : 'this kernel has no PR_SET_MDWE: run without it');
  let log = '';
  daemon = spawn(argv[0], argv.slice(1), { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
  daemon.stdout.on('data', (d) => { log += d; });
  daemon.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => daemon.on('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + 15000;
  for (;;) {
    assert.equal(daemon.exitCode, null, `the daemon exited: ${log}`);
    const ok = await fetch(`${issuer}/healthz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    assert.ok(Date.now() < deadline, `no /healthz within 15 s: ${log}`);
    await sleep(50);
  }
  const status = spawnSync('cat', [`/proc/${daemon.pid}/status`], { encoding: 'utf8' }).stdout;
  assert.match(status, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'), 'the daemon runs as idhub');
  assert.match(status, /^NoNewPrivs:\s+1$/m);

  const rp = await rpConfig({ issuer }, 'svc-deb');
  const { tokens } = await loginAndRedeem(rp, { redirectUri: cb });
  const { payload } = await verifyIdToken({ issuer }, tokens.id_token, 'svc-deb');
  assert.equal(payload.iss, issuer);
  assert.ok(payload.sub);
  for (const f of readdirSync('/var/lib/idhub')) assert.equal(owner(path.join('/var/lib/idhub', f)), `${uid}:${gid}`, `${f} belongs to idhub`);
  const ctl = await sh('runuser', ['-u', 'idhub', '--', '/usr/bin/idhubctl', '--config', configPath, 'keys', 'list']);
  assert.match(ctl.stdout, /current/, 'idhubctl works on the store as idhub');

  daemon.kill('SIGTERM');
  const x = await exited;
  assert.equal(x.code, 0, `SIGTERM exits 0: ${log.slice(-2000)}`);
  assert.match(log, /"msg":"idp sandbox: adapter sandbox loaded"/, 'the installed adapter was loaded');
});

test('dpkg --purge removes the package\'s files; the state directory (keys, secrets) is kept', { skip }, async () => {
  assert.ok(installed());
  const { stderr } = await sh('dpkg', ['--purge', 'idhub']);
  assert.ok(!installed());
  for (const f of ['/usr/sbin/idhub', '/usr/bin/idhubctl', '/usr/lib/idhub', '/usr/share/man/man8/idhub.8.gz',
    '/usr/share/man/man1/idhubctl.1.gz', '/lib/systemd/system/idhub.service', '/usr/share/doc/idhub', '/etc/idhub']) {
    assert.ok(!existsSync(f), `${f} removed`);
  }
  assert.ok(existsSync('/var/lib/idhub') && readdirSync('/var/lib/idhub').length > 0, 'the non-empty state directory stays');
  assert.match(stderr, /\/var\/lib\/idhub .*kept/, 'purge says it kept the state directory');
  await rm('/var/lib/idhub', { recursive: true, force: true });
});
