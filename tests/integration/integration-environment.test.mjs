// An https issuer and hub.environment: the browser cookie takes the __Host- prefix (Secure, Path=/,
// no Domain) on https; with environment = "integration" the sandbox IdP and the demo service run on a
// public issuer and every page (picker, error page, sandbox IdP page, demo) carries the banner; a
// production hub's pages do not.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, sandboxIdp, freePort } from './lib/hub.mjs';

const PUBLIC = 'https://login.example.org';
const CB = 'http://127.0.0.1:9/svc-a/cb';
const BANNER = /<div class="env-banner"[^>]*>Integration environment: this is not the real service/;
const hubs = [];
after(async () => { for (const h of hubs) await h.stopAndCheck(); });

function authorizeUrl(base) {
  const q = new URLSearchParams({
    response_type: 'code', client_id: 'svc-a', redirect_uri: CB, scope: 'openid', state: 'st-1', nonce: 'n-1',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGwSt9-cM0', code_challenge_method: 'S256',
  });
  return `${base}/authorize?${q}`;
}

/** /authorize then the picker, over the loopback listener (the issuer names the public host). */
async function toPicker(hub, issuer) {
  const a = await fetch(authorizeUrl(hub.issuer), { redirect: 'manual' });
  await a.text();
  assert.equal(a.status, 303);
  const setCookie = a.headers.getSetCookie();
  const loc = new URL(a.headers.get('location'));
  assert.equal(loc.origin, new URL(issuer).origin, 'the picker URL is on the issuer');
  const cookie = setCookie.map((c) => c.split(';')[0]).join('; ');
  const p = await fetch(`${hub.issuer}${loc.pathname}`, { headers: { cookie } });
  return { setCookie, picker: { status: p.status, text: await p.text() } };
}

test('https issuer: the browser cookie is __Host-idhub_browser with Secure, Path=/ and no Domain, and binds the journey', async () => {
  const port = await freePort();
  const hub = await startHub({
    port, hub: { issuer: PUBLIC, environment: 'integration' },
    idps: [sandboxIdp(port)], services: [service('svc-a', { redirect_uris: [CB] })],
  });
  hubs.push(hub);
  const { setCookie, picker } = await toPicker(hub, PUBLIC);
  const c = setCookie.find((x) => /^__Host-idhub_browser=/.test(x));
  assert.ok(c, `no __Host- cookie: ${setCookie}`);
  assert.match(c, /;\s*Secure/i);
  assert.match(c, /;\s*Path=\/(;|$)/i);
  assert.doesNotMatch(c, /Domain=/i);
  assert.ok(!setCookie.some((x) => /^idhub_browser=/.test(x)), 'no unprefixed cookie as well');
  assert.equal(picker.status, 200, `the prefixed cookie binds the journey: ${picker.text.slice(0, 300)}`);
});

test('environment = "integration": sandbox and demo run on a public issuer, and every page carries the banner', async () => {
  const port = await freePort();
  const hub = await startHub({
    port, hub: { issuer: PUBLIC, environment: 'integration', demo: true },
    idps: [sandboxIdp(port)], services: [service('svc-a', { redirect_uris: [CB] })],
  });
  hubs.push(hub);
  const { picker } = await toPicker(hub, PUBLIC);
  assert.equal(picker.status, 200);
  assert.match(picker.text, BANNER, 'the picker');
  const gone = await fetch(`${hub.issuer}/login/no-such-journey`);
  assert.match(await gone.text(), BANNER, 'an error page');
  const demo = await fetch(`${hub.issuer}/demo`);
  assert.match(await demo.text(), BANNER, 'the demo service');
  const idpPage = await fetch(`${hub.issuer}/idp/sandbox/login?req=not-a-request`);
  const idpText = await idpPage.text();
  assert.match(idpText, BANNER, `the sandbox IdP page (${idpPage.status})`);
});

test('a production (default) hub on loopback shows no banner', async () => {
  const hub = await startHub({ services: [service('svc-a', { redirect_uris: [CB] })] });
  hubs.push(hub);
  const { setCookie, picker } = await toPicker(hub, hub.issuer);
  assert.equal(picker.status, 200);
  assert.doesNotMatch(picker.text, /env-banner/);
  assert.ok(setCookie.some((x) => /^idhub_browser=/.test(x)), 'http issuer: the plain cookie name');
});
