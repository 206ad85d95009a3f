// Self-checks of the test harness (no daemon): the libconfig writer, the cookie jar's SameSite rules,
// and the form reader. If these fail, the other suites' verdicts mean nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lcFile, lcString, secretHash } from './lib/hub.mjs';
import { CookieJar, parseForms, formData, siteOf, isCrossSite, links } from './lib/browser.mjs';

test('secret_hash is sha256: + unpadded base64url', () => {
  // printf %s demo-secret-not-for-production | openssl dgst -sha256 -binary | basenc --base64url (deploy/dev.conf)
  assert.equal(secretHash('demo-secret-not-for-production'), 'sha256:cEQVfwniIK8tqwAiMWQUBxYxBBEYRaWLRGKc6LImJ8I');
});

test('libconfig writer: groups, lists, arrays, escapes', () => {
  assert.equal(lcString('a"b\\c'), '"a\\"b\\\\c"');
  const out = lcFile({ hub: { port: 8080, demo: false, issuer: 'http://x' }, loa: ['a', 'b'], services: [{ client_id: 'c', skip: undefined }] });
  assert.match(out, /^hub = \{\n  port = 8080;\n  demo = false;\n  issuer = "http:\/\/x";\n\};/);
  assert.match(out, /loa = \[ "a", "b" \];/);
  assert.match(out, /services = \(\n  \{\n    client_id = "c";\n  \}\n\);/);
  assert.doesNotMatch(out, /skip/);
});

test('sites: 127.0.0.1 and localhost differ; ports do not make sites', () => {
  assert.ok(isCrossSite('http://localhost:1/a', 'http://127.0.0.1:1/b'));
  assert.ok(!isCrossSite('http://127.0.0.1:9/a', 'http://127.0.0.1:1/b'));
  assert.ok(isCrossSite('https://127.0.0.1/a', 'http://127.0.0.1/b'));
  assert.equal(siteOf('https://a.b.example.com/x'), 'https://example.com');
});

test('cookie jar: Lax cookies stay home on cross-site POSTs, go on top-level GETs and same-site', () => {
  const jar = new CookieJar();
  jar.store(['idhub_browser=v1; Path=/; HttpOnly; SameSite=Lax', 's=2; Path=/; SameSite=Strict', 'n=3; Path=/; SameSite=None',
    'p=4; Path=/login', 'sec=5; Secure'], 'http://127.0.0.1:8080/authorize?x');
  const names = (o) => jar.cookiesFor('http://127.0.0.1:8080/callback/sandbox', o).map((c) => c.name).sort();
  assert.deepEqual(names({ initiator: 'http://localhost:8080/idp', method: 'POST' }), ['n']);
  assert.deepEqual(names({ initiator: 'http://localhost:8080/idp', method: 'GET' }), ['idhub_browser', 'n']);
  assert.deepEqual(names({ initiator: 'http://127.0.0.1:8080/callback/sandbox', method: 'POST' }), ['idhub_browser', 'n', 's']);
  assert.deepEqual(jar.cookiesFor('http://127.0.0.1:8080/login/abc').map((c) => c.name).sort(), ['idhub_browser', 'n', 'p', 's']);
  assert.deepEqual(jar.cookiesFor('http://127.0.0.1:8080/loginx').map((c) => c.name).sort(), ['idhub_browser', 'n', 's']);
  assert.deepEqual(jar.cookiesFor('http://localhost:8080/').map((c) => c.name), [], 'host-keyed');
  jar.store(['idhub_browser=; Path=/; Max-Age=0'], 'http://127.0.0.1:8080/x');
  assert.ok(!jar.cookiesFor('http://127.0.0.1:8080/').some((c) => c.name === 'idhub_browser'), 'Max-Age=0 deletes');
});

test('form reader: hidden inputs, checked radios, selects, buttons, entities', () => {
  const html = `<p>x</p><form method="POST" action="/cb?a=1&amp;b=2">
    <input type=hidden name=csrf value="t&quot;k"><input type="radio" name="idp" value="a">
    <input type="radio" name="idp" value="b" checked><input type="checkbox" name="c" value="y">
    <select name="loa"><option value="low">Low</option><option value="high" selected>High</option></select>
    <textarea name="t">hi &amp; bye</textarea><input type="text" name="u" disabled value="z">
    <button name="action" value="login">Log <b>in</b></button><button type="button">no</button>
  </form><a href="/login/x">again</a>`;
  const [f] = parseForms(html);
  assert.equal(f.method, 'post');
  assert.equal(f.action, '/cb?a=1&b=2');
  assert.deepEqual(formData(f), [['csrf', 't"k'], ['idp', 'b'], ['loa', 'high'], ['t', 'hi & bye']]);
  assert.deepEqual(f.buttons.map((b) => [b.name, b.value, b.text]), [['action', 'login', 'Log in']]);
  assert.deepEqual(links(html, 'http://h/p'), [{ href: 'http://h/login/x', text: 'again' }]);
});
