// max_age and prompt=login through an upstream OIDC IdP (a fake OP): both are passed up, the IdP's
// auth_time is checked against them (too old, or missing with max_age: refused), and the hub's ID
// token carries the upstream auth_time. And the journey's spent marker as a compare-and-swap: a cancel
// that lands while the callback waits on a slow IdP leaves no code behind it, and a re-pick that sends
// a second callback of the same journey in flight cannot make two codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, LOA_SUBSTANTIAL } from './lib/hub.mjs';
import { rpConfig, authRequest, client, jose } from './lib/rp.mjs';
import { startFakeOp, upstreamLogin, isRefusalPage } from './lib/upstream-op.mjs';

const CB = 'http://127.0.0.1:9/svc/cb';
const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let hub;
let op;
let cfg;

before(async () => {
  op = await startFakeOp({ clientId: 'idhub-fake', clientSecret: 'fake-secret' });
  hub = await startHub({
    idps: [{
      id: 'fake', adapter: 'oidc', display_name: 'Fake OP', max_loa: LOA_SUBSTANTIAL,
      settings: {
        issuer: op.issuer, client_id: 'idhub-fake', client_secret: 'fake-secret', acr_map: 'urn:fake:high=2',
        timeout: 10, clock_leeway: 5,
      },
    }],
    services: [service('svc', { redirect_uris: [CB] })],
  });
  cfg = await rpConfig(hub, 'svc');
});

after(async () => {
  await op?.stop();
  await hub?.stopAndCheck();
});

async function journey(extra, idToken = null) {
  op.idToken = idToken;
  try {
    const req = await authRequest(cfg, { redirectUri: CB, extra });
    const before = hub.logs().length;
    const j = await upstreamLogin({ authorizeUrl: req.url.href, idp: 'fake' });
    return { req, j, log: () => hub.logs().slice(before) };
  } finally {
    op.idToken = null;
  }
}

function assertRefused(r, why, what) {
  assert.equal(r.j.location, null, `${what}: a code reached the service`);
  assert.ok(isRefusalPage(r.j.final), `${what}: not a refusal page: ${r.j.final.status}`);
  assert.match(r.log(), why, `${what}: refused for another reason:\n${r.log()}`);
}

test('max_age and prompt=login are passed to the IdP; without them neither is sent', async () => {
  const r = await journey({ max_age: '60', prompt: 'login' });
  assert.ok(r.j.params?.code, r.log());
  assert.equal(op.lastAuthorize.max_age, '60');
  assert.equal(op.lastAuthorize.prompt, 'login');
  const plain = await journey({});
  assert.ok(plain.j.params?.code);
  assert.equal(op.lastAuthorize.max_age, undefined);
  assert.equal(op.lastAuthorize.prompt, undefined);
});

test('max_age: an upstream auth_time older than it, or none at all, is refused', async () => {
  assertRefused(await journey({ max_age: '60' }, ({ claims, sign }) => sign({ ...claims, auth_time: now() - 3600 })),
    /older than max_age/, 'auth_time an hour ago');
  assertRefused(await journey({ max_age: '60' }, ({ claims, sign }) => sign({ ...claims, auth_time: undefined })),
    /max_age was sent and the ID token has no auth_time/, 'no auth_time');
  // without max_age the same old authentication is accepted (there is no demand to check)
  const r = await journey({}, ({ claims, sign }) => sign({ ...claims, auth_time: now() - 3600 }));
  assert.ok(r.j.params?.code, r.log());
});

test('prompt=login: an upstream authentication from before the login began is refused', async () => {
  assertRefused(await journey({ prompt: 'login' }, ({ claims, sign }) => sign({ ...claims, auth_time: now() - 600 })),
    /predates the login/, 'auth_time before the login');
});

test('the hub\'s ID token carries the upstream auth_time', async () => {
  const at = now() - 20;
  const r = await journey({ max_age: '300' }, ({ claims, sign }) => sign({ ...claims, auth_time: at }));
  assert.ok(r.j.params?.code, r.log());
  const tokens = await client.authorizationCodeGrant(cfg, new URL(r.j.location), {
    pkceCodeVerifier: r.req.verifier, expectedState: r.req.state, expectedNonce: r.req.nonce, idTokenExpected: true, maxAge: 300,
  });
  assert.equal(jose.decodeJwt(tokens.id_token).auth_time, at);
});

test('a cancel while the callback waits on a slow IdP: access_denied, and the callback then yields no code', async () => {
  let release;
  op.tokenHold = new Promise((r) => { release = r; });
  try {
    const req = await authRequest(cfg, { redirectUri: CB });
    const j = await upstreamLogin({ authorizeUrl: req.url.href, idp: 'fake', stopAtCallback: true });
    assert.ok(j.callbackUrl, 'stopped at the callback');
    const pickerUrl = j.responses[1].url;
    const hits = op.tokenHits;
    const callback = j.browser.get(j.callbackUrl, { initiator: `${op.issuer}/authorize` });
    // wait (bounded) until the hub is inside the adapter's finish: the IdP has the token request
    for (let i = 0; i < 250 && op.tokenHits === hits; i++) await sleep(20);
    assert.equal(op.tokenHits, hits + 1, 'the callback reached the IdP\'s token endpoint');
// cancelling is a POST with the journey's csrf (from the picker's cancel form)
    const picker = j.responses[1];
    const csrf = /name="csrf" value="([^"]+)"/.exec(picker.text)[1];
    const cancel = await j.browser.post(`${pickerUrl}/cancel`, { csrf }, { initiator: pickerUrl });
    release();
    const cb = await callback;
    const cancelled = cancel.location && new URL(cancel.location).searchParams.get('error') === 'access_denied';
    const code = cb.location && new URL(cb.location, hub.issuer).searchParams.get('code');
    assert.ok(cancelled, `the cancel answered ${cancel.status} ${cancel.location || ''}`);
    assert.ok(!code, `a code after the cancel: ${cb.location}`);
    assert.ok(isRefusalPage(cb), `the late callback: ${cb.status} ${cb.location || ''}`);
  } finally {
    op.tokenHold = null;
    release?.();
  }
});

test('a re-pick while the first callback waits on a slow IdP: two callbacks of one journey in flight yield one code at most', async () => {
  let release;
  op.tokenHold = new Promise((r) => { release = r; });
  try {
    const req = await authRequest(cfg, { redirectUri: CB });
    const j = await upstreamLogin({ authorizeUrl: req.url.href, idp: 'fake', stopAtCallback: true });
    const ua = j.browser;
    const pickerUrl = j.responses[1].url;
    const hits = op.tokenHits;
    const first = ua.get(j.callbackUrl, { initiator: `${op.issuer}/authorize` });
    for (let i = 0; i < 250 && op.tokenHits < hits + 1; i++) await sleep(20);
    assert.equal(op.tokenHits, hits + 1, 'the first callback reached the IdP');
    // the citizen goes back to the picker and chooses again: a second upstream attempt
    const picker = await ua.get(pickerUrl, { initiator: pickerUrl });
    assert.equal(picker.status, 200, `the picker again: ${picker.status}`);
    const pick = await ua.submitForm(picker.text, picker.url, { idp: 'fake' }, { form: (f) => f.fields.some((x) => x.name === 'idp') });
    assert.equal(pick.status, 303, `the second choice: ${pick.status}`);
    const atOp = await ua.get(pick.location, { initiator: pick.url });
    assert.ok(/\/callback\/fake/.test(atOp.location || ''), `the OP answers at once: ${atOp.location}`);
    const second = ua.get(atOp.location, { initiator: `${op.issuer}/authorize` });
    for (let i = 0; i < 250 && op.tokenHits < hits + 2; i++) await sleep(20);
    assert.equal(op.tokenHits, hits + 2, 'the second callback reached the IdP too');
    release();
    const answers = await Promise.all([first, second]);
    const codes = answers.filter((r) => r.location && new URL(r.location, hub.issuer).searchParams.get('code'));
    assert.ok(codes.length <= 1, `${codes.length} codes for one authorization request: ${answers.map((r) => `${r.status} ${r.location || ''}`).join(', ')}`);
    assert.equal(codes.length, 1, 'one of the two callbacks yields the code');
  } finally {
    op.tokenHold = null;
    release?.();
  }
});
