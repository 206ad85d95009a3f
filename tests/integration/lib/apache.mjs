// apache.mjs — Apache httpd with mod_auth_openidc as a real relying party of the hub: its own
// ServerRoot and config in a temporary directory, listening on free loopback ports, started in the
// foreground and stopped (SIGTERM, then SIGKILL) by the test.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const APACHE_BIN = process.env.APACHE_BIN || '/usr/sbin/apache2';
const MODULES = process.env.APACHE_MODULES || '/usr/lib/apache2/modules';
export const apacheAvailable = () => existsSync(APACHE_BIN) && existsSync(path.join(MODULES, 'mod_auth_openidc.so'));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * sites: [{port, host, path ('/a'), clientId, secret}] — one VirtualHost each, protecting
 * `${path}/` with mod_auth_openidc, redirect URI `${path}/redirect_uri`. The protected page's
 * response carries the ID token's sub in X-Sub. Returns {stop(), logs(), urls}.
 */
export async function startApache(issuer, sites) {
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-apache-'));
  const docroot = path.join(dir, 'htdocs');
  await chmod(dir, 0o755); // the children (www-data when started as root) read the pages
  for (const s of sites) {
    await mkdir(path.join(docroot, s.path), { recursive: true });
    await writeFile(path.join(docroot, s.path, 'index.html'), `<p>protected ${s.path}</p>\n`);
  }
  const mod = (name, file) => `LoadModule ${name} ${path.join(MODULES, file)}`;
  const vhost = (s) => `
<VirtualHost 127.0.0.1:${s.port}>
  ServerName ${s.host}:${s.port}
  DocumentRoot ${docroot}
  OIDCProviderMetadataURL ${issuer}/.well-known/openid-configuration
  OIDCSSLValidateServer Off
  OIDCClientID ${s.clientId}
  OIDCClientSecret ${s.secret}
  OIDCRedirectURI http://${s.host}:${s.port}${s.path}/redirect_uri
  OIDCCryptoPassphrase test-passphrase-${s.clientId}
  OIDCScope "openid"
  OIDCPKCEMethod S256
  OIDCCookie apache_${s.clientId}
  OIDCDefaultLoggedOutURL http://${s.host}:${s.port}/signed-out
  # node's fetch sends Sec-Fetch-Mode: cors, which mod_auth_openidc answers with 401 (not a
  # navigation); the test's browser navigates, so the header goes before authentication
  RequestHeader unset Sec-Fetch-Mode early
  RequestHeader unset Sec-Fetch-Dest early
  <Location ${s.path}/>
    AuthType openid-connect
    Require valid-user
    Header always set X-Sub "%{OIDC_CLAIM_sub}e"
  </Location>
</VirtualHost>`;
  const conf = [
    `ServerRoot ${dir}`,
    `PidFile ${dir}/httpd.pid`,
    `ErrorLog ${dir}/error.log`,
    'LogLevel warn auth_openidc:info',
    `DefaultRuntimeDir ${dir}`,
    // as root (a CI container) httpd's children must run as an ordinary user
    ...(process.getuid() === 0 ? ['User www-data', 'Group www-data'] : []),
    'ServerName 127.0.0.1',
    mod('mpm_event_module', 'mod_mpm_event.so'),
    mod('authn_core_module', 'mod_authn_core.so'),
    mod('authz_core_module', 'mod_authz_core.so'),
    mod('authz_user_module', 'mod_authz_user.so'),
    mod('headers_module', 'mod_headers.so'),
    mod('dir_module', 'mod_dir.so'),
    mod('auth_openidc_module', 'mod_auth_openidc.so'),
    'DirectoryIndex index.html',
    'StartServers 1',
    'ServerLimit 1',
    'ThreadsPerChild 8',
    'MaxRequestWorkers 8',
    `DocumentRoot ${docroot}`,
    ...sites.map((s) => `Listen 127.0.0.1:${s.port}`),
    ...sites.map(vhost),
  ].join('\n');
  const confPath = path.join(dir, 'httpd.conf');
  await writeFile(confPath, conf + '\n');
  let out = '';
  const child = spawn(APACHE_BIN, ['-d', dir, '-f', confPath, '-DFOREGROUND'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const exited = new Promise((r) => child.on('exit', r));
  const logs = async () => out + (await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => ''));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
  // up when every port answers (bounded: 10 s)
  for (let i = 0; ; i++) {
    const up = await Promise.all(sites.map((s) => fetch(`http://127.0.0.1:${s.port}/`, { redirect: 'manual' }).then(() => true, () => false)));
    if (up.every(Boolean)) break;
    if (i >= 100 || child.exitCode !== null) {
      const l = await logs();
      await stop();
      throw new Error(`apache did not start:\n${l}`);
    }
    await sleep(100);
  }
  return { stop, logs, dir };
}
