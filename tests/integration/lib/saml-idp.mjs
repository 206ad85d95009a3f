// saml-idp.mjs — a real SAML 2.0 IdP for the tests: SimpleSAMLphp (Debian's simplesamlphp) served by
// `php -S` on a free loopback port from a config directory written here, with an IdP key pair made
// by openssl, one SP (the hub) and a test user. Also: test key pairs, and reading a redirect's
// AuthnRequest. Everything lives in a temporary directory removed by stop().
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { freePort } from './hub.mjs';

export const SSP_ROOT = process.env.SIMPLESAMLPHP_ROOT || '/usr/share/simplesamlphp';
export const TEST_USER = { username: 'alice', password: 'alice-test-password' };

/** A throwaway RSA key and self-signed certificate (TEST KEYS ONLY): {key, cert, certB64}. */
export async function testKeyPair(dir, name, cn = name) {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-subj', `/CN=${cn}`, '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const certPem = await readFile(cert, 'utf8');
  return { keyFile: key, certFile: cert, key: await readFile(key, 'utf8'), cert: certPem, certB64: pemBody(certPem) };
}

export function pemBody(pem) {
  return pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
}

const php = (v) => `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The AuthnRequest (XML) and RelayState carried by an HTTP-Redirect binding URL. */
export function readRedirect(url) {
  const u = new URL(url);
  const xml = inflateRawSync(Buffer.from(u.searchParams.get('SAMLRequest'), 'base64')).toString('utf8');
  const id = /\sID="([^"]+)"/.exec(xml)?.[1];
  return { xml, id, relayState: u.searchParams.get('RelayState'), sigAlg: u.searchParams.get('SigAlg'),
    signature: u.searchParams.get('Signature'), params: u.searchParams };
}

/**
 * Start SimpleSAMLphp as an IdP. opts: {sp: {entityId, acs, certB64, slo?}, authnContextClassRef,
 * encryptAssertion}. Returns {base, entityId, metadataUrl, dir, stop(), logs()}.
 */
export async function startSimpleSamlIdp(opts) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'idhub-ssp-'));
  for (const d of ['config', 'metadata', 'cert', 'log', 'data', 'tmp', 'sessions']) await mkdir(path.join(dir, d));
  const idpKeys = await testKeyPair(path.join(dir, 'cert'), 'idp', 'simplesamlphp test idp');
  const entityId = `${base}/saml2/idp/metadata.php`;
  await writeFile(path.join(dir, 'config', 'config.php'), `<?php
$config = [
  'baseurlpath' => ${php(base + '/')},
  'certdir' => ${php(path.join(dir, 'cert') + '/')},
  'loggingdir' => ${php(path.join(dir, 'log') + '/')},
  'datadir' => ${php(path.join(dir, 'data') + '/')},
  'tempdir' => ${php(path.join(dir, 'tmp'))},
  'metadatadir' => ${php(path.join(dir, 'metadata') + '/')},
  'metadata.sources' => [['type' => 'flatfile', 'directory' => ${php(path.join(dir, 'metadata'))}]],
  'technicalcontact_name' => 'Test', 'technicalcontact_email' => 'test@example.org',
  'secretsalt' => 'idhub-test-salt-not-secret',
  'auth.adminpassword' => 'idhub-test-admin-not-used',
  'admin.protectindexpage' => true, 'admin.protectmetadata' => false,
  'timezone' => 'UTC',
  'enable.saml20-idp' => true,
  'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
  'store.type' => 'phpsession',
  'session.phpsession.savepath' => ${php(path.join(dir, 'sessions'))},
  'session.cookie.secure' => false,
  'session.cookie.samesite' => null,
  'logging.handler' => 'file', 'logging.logfile' => 'simplesamlphp.log',
  'logging.level' => SimpleSAML\\Logger::INFO,
  'language.available' => ['en'], 'language.default' => 'en',
  'showerrors' => true, 'errorreporting' => false,
  'debug' => ['saml' => false, 'backtraces' => true, 'validatexml' => false],
];
`);
  await writeFile(path.join(dir, 'config', 'authsources.php'), `<?php
$config = [
  'admin' => ['core:AdminPassword'],
  'example-userpass' => [
    'exampleauth:UserPass',
    ${php(`${TEST_USER.username}:${TEST_USER.password}`)} => [
      'uid' => ['alice-ssp-0001'],
      'givenName' => ['Alice'],
      'sn' => ['Smith'],
      'mail' => ['alice@example.org'],
    ],
  ],
];
`);
  await writeFile(path.join(dir, 'metadata', 'saml20-idp-hosted.php'), `<?php
$metadata['__DYNAMIC:1__'] = [
  'host' => '__DEFAULT__',
  'privatekey' => 'idp.key',
  'certificate' => 'idp.crt',
  'auth' => 'example-userpass',
  'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'authproc' => [
    10 => ['class' => 'saml:AuthnContextClassRef', 'AuthnContextClassRef' => ${php(opts.authnContextClassRef)}],
  ],
];
`);
  await writeFile(path.join(dir, 'metadata', 'saml20-sp-remote.php'), `<?php
$metadata[${php(opts.sp.entityId)}] = [
  'AssertionConsumerService' => [['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'Location' => ${php(opts.sp.acs)}, 'index' => 0]],
${opts.sp.slo ? `  'SingleLogoutService' => [['Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', 'Location' => ${php(opts.sp.slo)}]],
` : ''}  'certData' => ${php(opts.sp.certB64)},
  'validate.authnrequest' => true,
  'sign.logout' => true,
  'saml20.sign.assertion' => true,
  'saml20.sign.response' => true,
  'assertion.encryption' => ${opts.encryptAssertion ? 'true' : 'false'},
  'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  'simplesaml.nameidattribute' => 'uid',
  'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
];
`);
  let log = '';
  const child = spawn('php', ['-S', `127.0.0.1:${port}`, '-t', path.join(SSP_ROOT, 'www')], {
    env: { ...process.env, SIMPLESAMLPHP_CONFIG_DIR: path.join(dir, 'config') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((r) => child.on('exit', r));
  const metadataUrl = `${base}/saml2/idp/metadata.php`;
  const stop = async () => {
    if (child.exitCode === null) { child.kill('SIGTERM'); await exited; }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      const r = await fetch(metadataUrl, { signal: AbortSignal.timeout(3000) });
      const t = await r.text();
      if (r.status === 200 && t.includes('IDPSSODescriptor')) break;
      if (Date.now() > deadline) {
        const plain = t.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
        throw new Error(`metadata answered ${r.status}: ${plain.slice(plain.indexOf('Debug information'), plain.indexOf('Debug information') + 1500)}`);
      }
    } catch (e) {
      if (Date.now() > deadline) { await stop(); throw new Error(`SimpleSAMLphp did not start: ${e.message}\n${log.slice(-1000)}`); }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { base, entityId, metadataUrl, dir, idpKeys, stop, logs: () => log };
}
