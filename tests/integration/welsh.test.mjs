// Welsh and English (issue 13 item 4): the language from ui_locales first (kept in a cookie and
// sealed in the journey), then the toggle on every page (kept in a cookie), then Accept-Language;
// <html lang> follows; the IdP's Welsh name from the config; the sandbox IdP's page in Welsh too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHub, service, sandboxIdp } from './lib/hub.mjs';
import { Browser, login } from './lib/browser.mjs';
import { rpConfig, authRequest } from './lib/rp.mjs';

const cb = (id) => `http://127.0.0.1:9/${id}/cb`;
let hub, cfg;

before(async () => {
  hub = await startHub({
    services: [service('svc-a', { name: 'Parking permits', redirect_uris: [cb('svc-a')] })],
    idps: (port) => [sandboxIdp(port, { display_name_cy: 'Darparwr hunaniaeth prawf', description: 'For tests', description_cy: 'Ar gyfer profion' })],
  });
  cfg = await rpConfig(hub, 'svc-a');
});
after(async () => { await hub?.stopAndCheck(); });

const h1 = (html) => (/<h1[^>]*>([\s\S]*?)<\/h1>/.exec(html)?.[1] ?? '').replace(/<[^>]+>/g, '').replace(/&#39;/g, "'").trim();
const htmlLang = (html) => /<html lang="([^"]+)"/.exec(html)?.[1];
const toggleHref = (html) => /<nav class="lang"[^>]*><a href="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');

async function journey(until, extra = {}, browser = new Browser()) {
  const req = await authRequest(cfg, { redirectUri: cb('svc-a'), extra });
  return login({ authorizeUrl: req.url.href, until, browser });
}

test('ui_locales=cy: the picker and the sandbox page in Welsh, the IdP by its Welsh name', async () => {
  const j = await journey('sandbox', { ui_locales: 'cy en' });
  assert.ok(j.steps.authorize.setCookies.some((c) => /^lang=cy;/.test(c)), 'the choice is kept in a cookie');
  const p = j.steps.picker;
  assert.equal(htmlLang(p.text), 'cy');
  assert.equal(h1(p.text), 'Profwch pwy ydych chi i ddefnyddio Parking permits');
  assert.match(p.text, /Darparwr hunaniaeth prawf<span class="hint">Ar gyfer profion<\/span>/);
  assert.match(p.text, /lang="en">English<\/a>/, 'the toggle offers English');
  const s = j.steps.sandbox;
  assert.equal(htmlLang(s.text), 'cy', 'the IdP page on its own site speaks Welsh too');
  assert.match(s.text, /<legend>Mewngofnodi fel<\/legend>/);
  assert.match(s.text, /Lefel: Sylweddol/);
});

test('the toggle switches to English and the cookie keeps it, over the journey\'s ui_locales', async () => {
  const j = await journey('picker', { ui_locales: 'cy' });
  const ua = j.browser;
  const href = toggleHref(j.steps.picker.text);
  assert.ok(href && /[?&]lang=en$/.test(href), `a toggle link: ${href}`);
  const en = await ua.get(new URL(href, j.steps.picker.url).href);
  assert.equal(en.status, 200);
  assert.equal(htmlLang(en.text), 'en');
  assert.equal(h1(en.text), 'Prove your identity to use Parking permits');
  assert.match(en.text, /lang="cy">Cymraeg<\/a>/);
  const again = await ua.get(j.steps.picker.url);
  assert.equal(htmlLang(again.text), 'en', 'the cookie keeps the choice');
});

test('the language sealed in the journey outlives a lost cookie; Accept-Language otherwise', async () => {
  const j = await journey('picker', { ui_locales: 'cy' });
  const ua = j.browser;
  ua.jar.delete(new URL(hub.issuer).hostname, 'lang');
  const p = await ua.get(j.steps.picker.url, { headers: { 'accept-language': 'en-GB,en;q=0.9' } });
  assert.equal(htmlLang(p.text), 'cy', 'the journey\'s ui_locales beats a guess from Accept-Language');
  const fresh = new Browser();
  const bad = await fresh.get(`${hub.issuer}/login/no-such-journey`, { headers: { 'accept-language': 'cy-GB,cy;q=0.9,en;q=0.5' } });
  assert.equal(htmlLang(bad.text), 'cy');
  assert.equal(h1(bad.text), "Nid yw'r ddolen fewngofnodi hon yn ddilys");
  const plain = await fresh.get(`${hub.issuer}/login/no-such-journey`);
  assert.equal(htmlLang(plain.text), 'en', 'English by default');
});

test('a Welsh error page: cancelled at the sandbox, in Welsh, with its way forward', async () => {
  const req = await authRequest(cfg, { redirectUri: cb('svc-a'), extra: { ui_locales: 'cy' } });
  const j = await login({ authorizeUrl: req.url.href, until: 'callback', action: 'cancel', browser: new Browser() });
  const r = j.steps.callback;
  assert.equal(r.status, 400);
  assert.equal(htmlLang(r.text), 'cy');
  assert.equal(h1(r.text), 'Wnaethoch chi ddim gorffen profi pwy ydych chi');
  assert.match(r.text, />Dewiswch ffordd arall o brofi pwy ydych chi<\/a>/);
  assert.match(r.text, />Dychwelyd i Parking permits<\/button>/);
});

test('the order: ui_locales over the toggle\'s cookie, the cookie over Accept-Language', async () => {
  const ua = new Browser();
  const cy = { headers: { 'accept-language': 'cy-GB,cy;q=0.9' } };
  // the toggle (on any page) keeps English in the cookie
  const t = await ua.get(`${hub.issuer}/login/no-such-journey?lang=en`, cy);
  assert.ok(t.setCookies.some((c) => /^lang=en;/.test(c)), 'the toggle sets the cookie');
  assert.equal(htmlLang((await ua.get(`${hub.issuer}/login/no-such-journey`, cy)).text), 'en', 'the cookie beats Accept-Language');
  // a service's ui_locales beats the cookie (and takes its place)
  const j = await journey('picker', { ui_locales: 'cy' }, ua);
  assert.equal(htmlLang(j.steps.picker.text), 'cy', 'ui_locales beats the toggle\'s cookie');
  assert.equal(htmlLang((await ua.get(`${hub.issuer}/login/no-such-journey`)).text), 'cy', 'and is kept in the cookie');
});
