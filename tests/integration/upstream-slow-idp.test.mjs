// A slow upstream IdP must not stall anyone else: the hub runs calls to an upstream IdP (the OIDC
// adapter's token request) on a pool of its own while the connection waits, so its event-loop
// thread keeps serving other citizens and services. The hub runs with ONE event-loop thread here,
// so before that design every other request would wait for the slow IdP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { rpConfig, authRequest } from './lib/rp.mjs';
import { startFakeOp, upstreamLogin } from './lib/upstream-op.mjs';

const cb = 'http://127.0.0.1:9/svc/cb';
let hub;
let op;
let cfg;

before(async () => {
  op = await startFakeOp({ clientId: 'idhub-slow', clientSecret: 'slow-secret' });
  hub = await startHub({
    hub: { threads: 1 },
    idps: [{
      id: 'slow', adapter: 'oidc', display_name: 'Slow OP', max_loa: LOA_SUBSTANTIAL,
      settings: {
        issuer: op.issuer, client_id: 'idhub-slow', client_secret: 'slow-secret',
        acr_map: 'urn:fake:high=2', timeout: 10,
      },
    }],
    services: [service('svc', { redirect_uris: [cb] })],
  });
  cfg = await rpConfig(hub, 'svc');
});

after(async () => {
  await op?.stop();
  await hub?.stopAndCheck();
});

async function timed(url) {
  const t0 = Date.now();
  const r = await fetch(url, { headers: { connection: 'close' } });
  await r.text();
  return { status: r.status, ms: Date.now() - t0 };
}

test('while one login waits 2.5 s on a slow IdP, other requests are answered at once', async () => {
  const req = await authRequest(cfg, { redirectUri: cb });
  const j = await upstreamLogin({ authorizeUrl: req.url.href, idp: 'slow', stopAtCallback: true });
  assert.ok(j.callbackUrl, 'the journey reached the callback');
  op.tokenDelayMs = 2500;
  try {
    const t0 = Date.now();
    const pending = j.browser.get(j.callbackUrl, { initiator: op.issuer + '/authorize' });
    await new Promise((r) => setTimeout(r, 300)); // the callback is now waiting on the IdP
    for (const path of ['/healthz', '/jwks', '/.well-known/openid-configuration']) {
      const { status, ms } = await timed(hub.issuer + path);
      assert.equal(status, 200);
      assert.ok(ms < 1000, `${path} took ${ms} ms while the IdP was slow`);
    }
    // another citizen can start a journey meanwhile
    const other = await authRequest(cfg, { redirectUri: cb });
    const { ms } = await timed(other.url.href);
    assert.ok(ms < 1000, `/authorize took ${ms} ms while the IdP was slow`);
    // and the slow login itself still completes, with a code for the service
    const res = await pending;
    assert.ok(Date.now() - t0 >= 2400, 'the IdP really was slow');
    assert.equal(res.status, 303);
    assert.ok(res.location.startsWith(cb + '?code='), `no code: ${res.status} ${res.text?.slice(0, 300)}`);
  } finally {
    op.tokenDelayMs = 0;
  }
});
