// The upstream callback's refusals by what its state is (issue 13 item 1: "expired, invalid or
// tampered link, already finished: each gets its own wording"). A state the store does not hold
// says of itself whether the hub made it and until when (broker/journey/ustate.h): made up or
// tampered → "not valid"; a finished login's → "already finished"; a login whose time ran out →
// "timed out". Telling them apart writes nothing: a forged state leaves the store as it was.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { startHub, service } from './lib/hub.mjs';
import { Browser, login, parseForms } from './lib/browser.mjs';
import { rpConfig, authRequest } from './lib/rp.mjs';

const CB = 'http://127.0.0.1:9/svc-a/cb';
const TTL = 5; // journey_ttl of the short hub: the config's least
let hub, cfg, short, shortCfg;

before(async () => {
  [hub, short] = await Promise.all([
    startHub({ services: [service('svc-a', { redirect_uris: [CB] })] }),
    startHub({ hub: { journey_ttl: TTL }, services: [service('svc-a', { redirect_uris: [CB] })] }),
  ]);
  [cfg, shortCfg] = await Promise.all([rpConfig(hub, 'svc-a'), rpConfig(short, 'svc-a')]);
});
after(async () => { await Promise.all([hub?.stopAndCheck(), short?.stopAndCheck()]); });

const CY = { headers: { 'accept-language': 'cy-GB,cy;q=0.9' } };
const EN = { headers: { 'accept-language': 'en-GB,en;q=0.9' } };
const HEADINGS = {
  invalid: { en: 'This sign-in link is not valid', cy: 'Nid yw\'r ddolen fewngofnodi hon yn ddilys' },
  finished: { en: 'You have already finished signing in', cy: 'Rydych chi eisoes wedi gorffen mewngofnodi' },
  expired: { en: 'Your sign-in has timed out', cy: 'Mae\'ch amser i fewngofnodi wedi dod i ben' },
};
const h1 = (html) => (/<h1[^>]*>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? '').replace(/<[^>]+>/g, '').replace(/&#39;/g, '\'').trim();

/** A login in its own browser, up to `until`; with the upstream state it was given. */
async function loginTo(until, h = hub, c = cfg) {
  const req = await authRequest(c, { redirectUri: CB });
  const j = await login({ authorizeUrl: req.url.href, browser: new Browser(), until });
  const form = parseForms(j.steps.autopost.text).find((f) => /\/callback\//.test(f.action));
  return { j, ua: j.browser, state: form.fields.find((f) => f.name === 'state').value };
}

/** The callback's answer to a GET with this state, in English and in Welsh: the page of `what`. */
async function assertPage(ua, h, state, what) {
  for (const [lang, opts] of [['en', EN], ['cy', CY]]) {
    const r = await ua.get(`${h.issuer}/callback/sandbox?state=${encodeURIComponent(state)}`, opts);
    assert.equal(r.status, 400, `${what} (${lang}): ${r.status} ${r.location || ''}`);
    assert.equal(r.location, null, `${what}: no redirect`);
    assert.equal(h1(r.text), HEADINGS[what][lang], `${what} (${lang})`);
    assert.doesNotMatch(r.text, /[?&]code=/, `${what}: no code`);
  }
}

async function records(h) {
  const text = await (await fetch(h.metricsUrl)).text();
  return Object.fromEntries([...text.matchAll(/^idhub_store_records\{namespace="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

test('a made-up or tampered state: "not valid", in English and Welsh', async () => {
  const { ua, state } = await loginTo('autopost'); // a live login: its own state still works
  await assertPage(ua, hub, randomBytes(32).toString('base64url'), 'invalid');
  const i = 30;
  await assertPage(ua, hub, state.slice(0, i) + (state[i] === 'A' ? 'B' : 'A') + state.slice(i + 1), 'invalid');
  await assertPage(new Browser(), hub, 'A'.repeat(43), 'invalid');
});

test('a finished login\'s state (Back after finishing): "already finished", in English and Welsh', async () => {
  const { j, ua, state } = await loginTo('done');
  assert.ok(j.params.code, 'signed in');
  await assertPage(ua, hub, state, 'finished');
  await assertPage(new Browser(), hub, state, 'finished');
});

test('a login whose time ran out: "timed out", in English and Welsh', async () => {
  const { ua, state } = await loginTo('autopost', short, shortCfg);
  await sleep((TTL + 1.5) * 1000);
  await assertPage(ua, short, state, 'expired');
});

test('a forged state writes nothing to the store', async () => {
  const { ua } = await loginTo('autopost');
  const before = await records(hub);
  for (let i = 0; i < 10; i++)
    await assertPage(ua, hub, randomBytes(32).toString('base64url'), 'invalid');
  assert.deepEqual(await records(hub), before, 'no record written');
});
