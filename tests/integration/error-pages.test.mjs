// The citizen's error pages: each problem in its own words with one way forward (issue 13 item 1),
// the deployment's branding around every page (item 3), cancel only by POST (item 2).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service } from './lib/hub.mjs';
import { Browser, login, parseForms, links, redirectParams } from './lib/browser.mjs';
import { rpConfig, authRequest } from './lib/rp.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
const HELP = 'https://help.example.org/sign-in';
const branding = {
  service_name: 'Sign in to Example Council', organisation: 'Example Council', help_url: HELP,
  accessibility_url: 'https://help.example.org/a11y', privacy_url: 'https://help.example.org/privacy',
  cookies_url: 'https://help.example.org/cookies',
};
let hub, cfg;

before(async () => {
  hub = await startHub({ services: [service('svc-a', { name: 'Parking permits', redirect_uris: [cb('svc-a')] })], extra: { branding } });
  cfg = await rpConfig(hub, 'svc-a');
});
after(async () => { await hub?.stopAndCheck(); });

const h1 = (html) => (/<h1[^>]*>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? '').replace(/<[^>]+>/g, '').trim();
/** What a citizen reads: the body's text, without tags or attributes. */
const visibleText = (html) => html.replace(/<head>[\s\S]*?<\/head>/, '').replace(/<[^>]+>/g, ' ');
const titleOf = (html) => /<title>([\s\S]*?)<\/title>/.exec(html)?.[1] ?? '';

/** The page's primary action: its first .button (a link or a form's button). */
function primary(r) {
  const m = /<a class="button" href="([^"]+)"/.exec(r.text);
  return m ? new URL(m[1].replace(/&amp;/g, '&'), r.url).href : null;
}

function assertBranded(r, what) {
  const text = visibleText(r.text);
  assert.doesNotMatch(text, /\bidhub\b|\bhub\b/i, `${what}: no product name shown to citizens`);
  assert.doesNotMatch(titleOf(r.text), /\bidhub\b|\bhub\b/i, `${what}: none in the title`);
  assert.match(r.text, /<header[^>]*>[\s\S]*Sign in to Example Council[\s\S]*<\/header>/, `${what}: the service name in the header`);
  const foot = /<footer[\s\S]*<\/footer>/.exec(r.text)?.[0] ?? '';
  for (const label of ['Help', 'Accessibility statement', 'Privacy notice', 'Cookies'])
    assert.match(foot, new RegExp(`>${label}</a>`), `${what}: footer link ${label}`);
}

async function journey(until, extra = {}) {
  const req = await authRequest(cfg, { redirectUri: cb('svc-a') });
  const j = await login({ authorizeUrl: req.url.href, until, browser: new Browser(), ...extra });
  return { req, j, ua: j.browser };
}

test('a tampered link: "not valid", and the help page as the way forward', async () => {
  const { j, ua } = await journey('picker');
  const id = j.journeyId;
  const bad = id.slice(0, 40) + (id[40] === 'A' ? 'B' : 'A') + id.slice(41);
  const r = await ua.get(`${hub.issuer}/login/${bad}`);
  assert.equal(r.status, 400);
  assert.equal(h1(r.text), 'This sign-in link is not valid');
  assert.equal(primary(r), HELP, 'the primary action is the deployment\'s help link');
  assertBranded(r, 'invalid link');
});

test('Back after finishing: "already finished", and Continue goes back to the service with the error and state', async () => {
  const { req, j, ua } = await journey('done');
  assert.ok(j.params.code, 'signed in');
  for (const url of [j.steps.picker.url, `${hub.issuer}/login/${j.journeyId}`]) {
    const r = await ua.get(url);
    assert.equal(r.status, 400, url);
    assert.equal(h1(r.text), 'You have already finished signing in');
    assert.match(r.text, /Continue to Parking permits/);
    const q = redirectParams(primary(r));
    assert.equal(q.base, cb('svc-a'));
    assert.equal(q.params.error, 'access_denied');
    assert.equal(q.params.state, req.state);
    assert.equal(q.params.iss, hub.issuer);
    assertBranded(r, 'finished');
  }
});

test('another browser: its own wording, and a way back to the service', async () => {
  const { req, j } = await journey('picker');
  const r = await new Browser().get(j.steps.picker.url);
  assert.equal(r.status, 403);
  assert.equal(h1(r.text), 'This sign-in was started in another browser');
  const q = redirectParams(primary(r));
  assert.equal(q.base, cb('svc-a'));
  assert.equal(q.params.state, req.state);
});

test('cancel is a POST with the journey\'s csrf; a GET changes nothing', async () => {
  const { req, j, ua } = await journey('picker');
  const p = j.steps.picker;
  const g = await ua.get(`${p.url}/cancel`);
  assert.equal(g.status, 303, 'a GET goes back to the picker');
  assert.equal(new URL(g.location, p.url).pathname, new URL(p.url).pathname);
  const forged = await ua.post(`${p.url}/cancel`, { csrf: 'x'.repeat(43) }, { initiator: p.url });
  assert.equal(forged.status, 400, 'a wrong csrf is refused');
  assert.equal((await ua.get(p.url)).status, 200, 'the journey is still alive');
  const fi = parseForms(p.text).findIndex((f) => /\/cancel$/.test(new URL(f.action, p.url).pathname));
  assert.ok(fi >= 0, 'the picker has a cancel form');
  assert.equal(parseForms(p.text)[fi].method, 'post');
  const c = await ua.submitForm(p.text, p.url, {}, { formIndex: fi });
  assert.equal(c.status, 303);
  const q = redirectParams(c.location);
  assert.equal(q.params.error, 'access_denied');
  assert.equal(q.params.state, req.state);
  const again = await ua.get(p.url);
  assert.equal(h1(again.text), 'You have already finished signing in', 'then the journey is finished');
});

test('the picker: Back link to the service, branded; the sandbox: levels by name, URI as a hint', async () => {
  const { req, j } = await journey('sandbox');
  const p = j.steps.picker;
  assertBranded(p, 'picker');
  const back = /<a class="back" href="([^"]+)"/.exec(p.text);
  assert.ok(back, 'a Back link');
  const q = redirectParams(back[1].replace(/&amp;/g, '&'));
  assert.equal(q.base, cb('svc-a'));
  assert.equal(q.params.state, req.state);
  const s = j.steps.sandbox;
  assertBranded(s, 'sandbox');
  assert.match(s.text, /Level: Substantial/);
  assert.match(s.text, /needs level Low or higher/);
  assert.match(s.text, /<option value="3">High<\/option>/);
});

test('the sandbox keeps the form on a bad user name: summary focused on load, inline "Error:" prefix', async () => {
  const { j } = await journey('callback', { persona: 'other', username: 'no spaces allowed', loa: '2' });
  const r = j.steps.sandboxPost;
  assert.equal(r.status, 400);
  assert.match(titleOf(r.text), /^Error: /);
  assert.match(r.text, /<div class="error-summary" tabindex="-1" autofocus/);
  assert.match(r.text, /<span class="vh">Error:<\/span> Enter a user name/);
  assert.match(r.text, /value="no spaces allowed"/, 'what was typed is kept');
  assert.match(r.text, /<option value="2" selected>/, 'the level chosen is kept');
});
