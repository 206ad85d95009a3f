// Apache httpd with mod_auth_openidc (Debian's libapache2-mod-auth-openidc) as two real relying
// parties of the hub, two protected locations registered as two services in two sectors: single
// sign-on from the first to the second, RP-initiated logout from the first, and the second's
// session ended by back-channel logout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, secretHash, freePort } from './lib/hub.mjs';
import { Browser, login } from './lib/browser.mjs';
import { startApache, apacheAvailable } from './lib/apache.mjs';

const skip = apacheAvailable() ? false : 'apache2 with mod_auth_openidc is not installed (deploy/deps/sso.test)';
let hub;
let apache;
const A = { host: '127.0.0.1', path: '/a', clientId: 'apache-a', secret: 'apache-a-secret-0123456789' };
const B = { host: 'localhost', path: '/b', clientId: 'apache-b', secret: 'apache-b-secret-0123456789' };
const base = (s) => `http://${s.host}:${s.port}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  if (skip) return;
  A.port = await freePort();
  B.port = await freePort();
  const svc = (s, sector, extra) => service(s.clientId, {
    sector, secret_hash: secretHash(s.secret), redirect_uris: [`${base(s)}${s.path}/redirect_uri`],
    scopes: ['openid'], id_token_alg: 'RS256', ...extra,
  });
  hub = await startHub({
    services: [
      svc(A, 'sector-apache-a', { post_logout_redirect_uris: [`${base(A)}/signed-out`] }),
      svc(B, 'sector-apache-b', { backchannel_logout_uri: `${base(B)}${B.path}/redirect_uri?logout=backchannel` }),
    ],
  });
  apache = await startApache(hub.issuer, [A, B]);
});
after(async () => {
  await apache?.stop();
  await hub?.stopAndCheck();
});

/** GET a protected page; when mod_auth_openidc sends the browser to the hub, follow the journey
 * (or the single sign-on redirect) back to it. Returns {page, picker}. */
async function visit(ua, s) {
  const first = await ua.get(`${base(s)}${s.path}/`);
  if (first.status === 200) return { page: first, picker: false };
  assert.equal(first.status, 302, `${first.status} ${first.text.slice(0, 500)}\n${await apache.logs()}`);
  assert.ok(first.location.startsWith(`${hub.issuer}/authorize`), first.location);
  const a = await ua.get(first.location, { initiator: base(s) });
  let cb = a.location;
  const picker = !cb.startsWith(`${base(s)}${s.path}/redirect_uri`);
  if (picker) cb = (await login({ authorizeUrl: first.location, browser: ua, rpPage: base(s) })).location;
  const back = await ua.get(cb, { initiator: hub.issuer });
  assert.equal(back.status, 302, `${back.status} ${back.text.slice(0, 500)}\n${(await apache.logs()).slice(-3000)}`);
  const page = await ua.get(back.location.startsWith('http') ? back.location : `${base(s)}${back.location}`);
  return { page, picker };
}

test('single sign-on from the first Apache service to the second, other sub; RP-initiated logout; back-channel logout', { skip }, async () => {
  const ua = new Browser();
  const a = await visit(ua, A);
  assert.equal(a.page.status, 200);
  assert.ok(a.picker, 'the first service goes through the picker');
  const b = await visit(ua, B);
  assert.equal(b.page.status, 200);
  assert.equal(b.picker, false, 'single sign-on: no picker for the second');
  const subA = a.page.headers.get('x-sub'), subB = b.page.headers.get('x-sub');
  assert.ok(subA && subB && subA !== subB, `pairwise subs per sector: ${subA} ${subB}`);

  // RP-initiated logout from A: mod_auth_openidc sends the browser to the hub's end_session_endpoint
  const lo = await ua.get(`${base(A)}${A.path}/redirect_uri?logout=${encodeURIComponent(`${base(A)}/signed-out`)}`);
  assert.equal(lo.status, 302, `${lo.status}\n${(await apache.logs()).slice(-2000)}`);
  assert.ok(lo.location.startsWith(`${hub.issuer}/logout?`), lo.location);
  assert.ok(new URL(lo.location).searchParams.get('id_token_hint'), 'with id_token_hint');
  const end = await ua.get(lo.location, { initiator: base(A) });
  assert.equal(end.status, 303, end.text.slice(0, 500));
  assert.equal(end.location.split('?')[0], `${base(A)}/signed-out`);

  // B's Apache session was ended by the hub's back-channel logout token
  let again;
  for (let i = 0; i < 50; i++) {
    again = await ua.get(`${base(B)}${B.path}/`);
    if (again.status !== 200) break;
    await sleep(100);
  }
  assert.equal(again.status, 302, `B signed out by back-channel logout\n${(await apache.logs()).slice(-3000)}\n${hub.logs().slice(-2000)}`);
  assert.ok(again.location.startsWith(`${hub.issuer}/authorize`));
  const hubAgain = await ua.get(again.location);
  assert.match(new URL(hubAgain.location).pathname, /^\/login\//, 'the hub session is gone too: back to the picker');
});
