// A slow identity provider cannot hold up the others. Twenty logins wait at IdP X (its token
// endpoint answers after 5 s) while a login at IdP Y completes in under a second: X may hold at
// most idp.max_concurrent (default 8) threads of the upstream pool (hub.upstream_threads), and
// its logins beyond that fail at once with a 503 "not available" page that offers another way.
// Today's main ran all upstream calls on 16 shared threads, so 20 logins at X held up Y by seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, LOA_SUBSTANTIAL } from '../integration/lib/hub.mjs';
import { rpConfig, authRequest } from '../integration/lib/rp.mjs';
import { startFakeOp, upstreamLogin, isRefusalPage } from '../integration/lib/upstream-op.mjs';
import { Browser, parseForms } from '../integration/lib/browser.mjs';

const cb = 'http://127.0.0.1:9/svc/cb';
const STUCK = 20;
const MAX_CONCURRENT = 8; // the default of idp.max_concurrent
let hub;
let opX;
let opY;
let cfg;

const idp = (id, op) => ({
  id, adapter: 'oidc', display_name: `IdP ${id.toUpperCase()}`, max_loa: LOA_SUBSTANTIAL,
  settings: {
    issuer: op.issuer, client_id: `idhub-${id}`, client_secret: `${id}-secret`,
    acr_map: 'urn:fake:high=2', timeout: 10,
  },
});

before(async () => {
  opX = await startFakeOp({ clientId: 'idhub-x', clientSecret: 'x-secret' });
  opY = await startFakeOp({ clientId: 'idhub-y', clientSecret: 'y-secret' });
  hub = await startHub({
    idps: [idp('x', opX), idp('y', opY)],
    services: [service('svc', { redirect_uris: [cb] })],
  });
  cfg = await rpConfig(hub, 'svc');
});

after(async () => {
  await opX?.stop();
  await opY?.stop();
  await hub?.stopAndCheck();
});

async function timed(p) {
  const t0 = Date.now();
  const r = await p;
  return { ...r, ms: Date.now() - t0 };
}

test(`${STUCK} logins stuck at IdP X; a login at IdP Y completes in under 1 s; X's next login fails fast`, async (t) => {
  // warm both IdPs (discovery, JWKS) while they are fast, then bring 20 journeys to X's callback
  for (const [id, op] of [['x', opX], ['y', opY]]) {
    const j = await upstreamLogin({ authorizeUrl: (await authRequest(cfg, { redirectUri: cb })).url.href, idp: id });
    assert.ok(j.params?.code, `warm-up login at ${id}: ${j.final.status} ${j.final.text?.slice(0, 200)}`);
    assert.ok(op.tokenHits >= 1);
  }
  const journeys = [];
  for (let i = 0; i < STUCK; i++) {
    const req = await authRequest(cfg, { redirectUri: cb });
    const j = await upstreamLogin({ authorizeUrl: req.url.href, idp: 'x', stopAtCallback: true });
    assert.ok(j.callbackUrl, 'the journey reached the callback');
    journeys.push(j);
  }
  opX.tokenDelayMs = 5000;
  let stuck = [];
  try {
    stuck = journeys.map((j) => timed(j.browser.get(j.callbackUrl, { initiator: opX.issuer + '/authorize' })));
    await new Promise((r) => setTimeout(r, 500)); // the callbacks are now waiting on X

    // Y is not held up: a whole login, picker to code, in under a second
    const reqY = await authRequest(cfg, { redirectUri: cb });
    const y = await timed(upstreamLogin({ authorizeUrl: reqY.url.href, idp: 'y' }));
    assert.ok(y.params?.code, `login at Y: ${y.final.status} ${y.final.text?.slice(0, 300)}`);
    assert.ok(y.ms < 1000, `the login at Y took ${y.ms} ms while X was slow`);
    t.diagnostic(`login at Y while ${STUCK} logins waited on X: ${y.ms} ms`);

    // the 21st login at X is refused at once, with a way forward
    const reqX = await authRequest(cfg, { redirectUri: cb });
    const b = new Browser();
    let res = await b.get(reqX.url.href, { initiator: cb });
    res = await b.get(res.location, { initiator: cb });
    const picker = res.url;
    const x = await timed(b.submitForm(res.text, res.url, { idp: 'x' }, { form: (f) => f.fields.some((k) => k.name === 'idp') }));
    assert.equal(x.status, 503, x.text?.slice(0, 300));
    assert.ok(isRefusalPage(x), 'a refusal page');
    assert.match(x.text, /IdP X is not available just now/);
    assert.ok(x.ms < 1000, `the refusal took ${x.ms} ms`);
    t.diagnostic(`the next login at X was refused in ${x.ms} ms`);
    // the way forward is a link (a GET: nothing changes); "return to the service" is the
    // page's other action
    const back = /href="([^"]+)"[^>]*>Choose another way/.exec(x.text);
    assert.ok(back && new URL(back[1], picker).href === picker, 'the page links back to the picker');
    // ...and that way works: Y from the same journey
    res = await b.get(picker);
    const viaY = await b.submitForm(res.text, res.url, { idp: 'y' }, { form: (f) => f.fields.some((k) => k.name === 'idp') });
    assert.equal(viaY.status, 303, 'the picker sends the citizen to Y');
    assert.ok(viaY.location.startsWith(opY.issuer), viaY.location);
  } finally {
    await Promise.all(stuck); // no process is left waiting, whatever failed
    opX.tokenDelayMs = 0;
  }
  // at most max_concurrent waited for X and got their code; the others were refused at once
  const done = await Promise.all(stuck);
  const waited = done.filter((r) => r.status === 303);
  const refused = done.filter((r) => r.status === 503);
  assert.equal(waited.length + refused.length, STUCK, done.map((r) => r.status).join(' '));
  assert.ok(waited.length <= MAX_CONCURRENT, `${waited.length} callbacks waited on X`);
  for (const r of refused) {
    assert.ok(r.ms < 1000, `a refusal took ${r.ms} ms`);
    assert.match(r.text, /IdP X is not available just now/);
  }
  for (const r of waited) assert.ok(r.location.startsWith(cb + '?code='), r.location);
  t.diagnostic(`${waited.length} callbacks waited on X, ${refused.length} refused in at most ${Math.max(...refused.map((r) => r.ms))} ms`);
  // a citizen refused on the way back finishes by reloading the page once X has room again
  const i = done.findIndex((r) => r.status === 503);
  const again = await journeys[i].browser.get(journeys[i].callbackUrl, { initiator: opX.issuer + '/authorize' });
  assert.equal(again.status, 303, again.text?.slice(0, 300));
  assert.ok(again.location.startsWith(cb + '?code='), again.location);
});

test('the refusals were logged once per interval, not once each', () => {
  const lines = hub.logs().split('\n').filter((l) => /idp x: logins over its max_concurrent/.test(l));
  assert.ok(lines.length >= 1 && lines.length <= 2, lines.join('\n'));
});
