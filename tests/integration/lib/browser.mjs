// browser.mjs — a minimal cookie-keeping HTTP user agent over fetch (redirect: 'manual'), an HTML
// form reader, and login(): the citizen's journey authorize → picker → sandbox IdP → callback.
//
// Cookies: one jar keyed by host name (cookies ignore ports, RFC 6265), Path honoured, Max-Age and
// Expires honoured, Secure cookies only over https. SameSite: a request is cross-site when the site of
// the page that initiates it (scheme + host; 127.0.0.1 and localhost are different sites) differs from
// the target's. Cross-site: Strict cookies are never sent, Lax cookies (and cookies with no SameSite,
// as browsers default them to Lax) only on top-level GET navigations. SameSite=None goes everywhere.

// ---- sites and cookies ---------------------------------------------------------------------

/** The site of a URL: scheme + registrable domain (an IP or single-label host is its own site). */
export function siteOf(url) {
  const u = new URL(url);
  const host = u.hostname.toLowerCase();
  let reg = host;
  if (!/^[\d.]+$/.test(host) && !host.startsWith('[') && host.includes('.')) {
    reg = host.split('.').slice(-2).join('.');
  }
  return `${u.protocol}//${reg}`;
}

export function isCrossSite(initiator, target) {
  if (!initiator) return false; // typed into the address bar
  return siteOf(initiator) !== siteOf(target);
}

/** Parse one Set-Cookie header value into a cookie record (null if unusable). */
export function parseSetCookie(header, requestUrl) {
  const u = new URL(requestUrl);
  const parts = header.split(';');
  const first = parts.shift();
  const eq = first.indexOf('=');
  if (eq < 0) return null;
  const name = first.slice(0, eq).trim();
  const value = first.slice(eq + 1).trim();
  if (!name) return null;
  const attrs = {};
  const c = {
    name, value, host: u.hostname.toLowerCase(), path: null, secure: false, httpOnly: false,
    sameSite: null, expires: null, raw: header, attrs,
  };
  for (const p of parts) {
    const i = p.indexOf('=');
    const k = (i < 0 ? p : p.slice(0, i)).trim().toLowerCase();
    const v = i < 0 ? '' : p.slice(i + 1).trim();
    attrs[k] = v;
    if (k === 'path' && v.startsWith('/')) c.path = v;
    else if (k === 'secure') c.secure = true;
    else if (k === 'httponly') c.httpOnly = true;
    else if (k === 'samesite') c.sameSite = v.toLowerCase();
    else if (k === 'max-age' && /^-?\d+$/.test(v)) c.expires = Date.now() + Number(v) * 1000;
    else if (k === 'expires' && c.attrs['max-age'] === undefined) {
      const t = Date.parse(v);
      if (!Number.isNaN(t)) c.expires = t;
    }
  }
  if (attrs['max-age'] !== undefined && /^-?\d+$/.test(attrs['max-age'])) {
    c.expires = Date.now() + Number(attrs['max-age']) * 1000;
  }
  if (!c.path) {
    // default-path: the directory of the request path
    const p = u.pathname;
    const slash = p.lastIndexOf('/');
    c.path = slash <= 0 ? '/' : p.slice(0, slash);
  }
  return c;
}

function pathMatches(reqPath, cookiePath) {
  if (reqPath === cookiePath) return true;
  if (reqPath.startsWith(cookiePath)) {
    return cookiePath.endsWith('/') || reqPath[cookiePath.length] === '/';
  }
  return false;
}

export class CookieJar {
  constructor() { this.byHost = new Map(); }

  store(setCookieHeaders, requestUrl) {
    const u = new URL(requestUrl);
    for (const h of setCookieHeaders) {
      const c = parseSetCookie(h, requestUrl);
      if (!c) continue;
      if (c.secure && u.protocol !== 'https:') continue; // a browser ignores Secure over http
      const list = this.byHost.get(c.host) || [];
      const rest = list.filter((x) => !(x.name === c.name && x.path === c.path));
      if (c.expires === null || c.expires > Date.now()) rest.push(c);
      this.byHost.set(c.host, rest);
    }
  }

  /** The cookies a request would carry, given its initiator page, method and top-level-ness. */
  cookiesFor(url, { initiator = null, method = 'GET', topLevel = true } = {}) {
    const u = new URL(url);
    const list = this.byHost.get(u.hostname.toLowerCase()) || [];
    const cross = isCrossSite(initiator, url);
    const now = Date.now();
    return list.filter((c) => {
      if (c.expires !== null && c.expires <= now) return false;
      if (c.secure && u.protocol !== 'https:') return false;
      if (!pathMatches(u.pathname || '/', c.path)) return false;
      if (cross) {
        const ss = c.sameSite || 'lax';
        if (ss === 'strict') return false;
        if (ss === 'lax' && !(method === 'GET' && topLevel)) return false;
      }
      return true;
    });
  }

  get(host, name) {
    return (this.byHost.get(host) || []).find((c) => c.name === name) || null;
  }

  delete(host, name) {
    const list = this.byHost.get(host) || [];
    this.byHost.set(host, list.filter((c) => c.name !== name));
  }

  clear() { this.byHost.clear(); }
}

// ---- HTML forms ----------------------------------------------------------------------------

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', '#39': "'" };

export function decodeEntities(s) {
  return String(s).replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (m, e) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(n) ? String.fromCodePoint(n) : m;
    }
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** Attributes of a start tag's source, e.g. '<input type="hidden" name=a value=\'b\' checked>'. */
export function parseAttrs(tag) {
  const attrs = {};
  const body = tag.replace(/^<\s*[a-zA-Z][\w-]*/, '').replace(/\/?>$/, '');
  const re = /([^\s"'>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  let m;
  while ((m = re.exec(body))) {
    const name = m[1].toLowerCase();
    if (name in attrs) continue;
    const v = m[2] ?? m[3] ?? m[4];
    attrs[name] = v === undefined ? '' : decodeEntities(v);
  }
  return attrs;
}

/** Every start tag of the given names, in document order, as {name, attrs, index, end, source}. */
export function findTags(html, names) {
  const want = new Set(names.map((n) => n.toLowerCase()));
  const out = [];
  const re = /<!--[\s\S]*?-->|<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>|<([a-zA-Z][\w-]*)\b(?:[^>"']|"[^"]*"|'[^']*')*>/gi;
  let m;
  while ((m = re.exec(html))) {
    if (m[1]) {
      if (want.has(m[1].toLowerCase())) {
        const open = m[0].match(/^<[^>]*>/)[0];
        out.push({ name: m[1].toLowerCase(), attrs: parseAttrs(open), index: m.index, end: m.index + m[0].length, source: m[0] });
      }
      continue;
    }
    if (!m[2]) continue;
    const name = m[2].toLowerCase();
    if (want.has(name)) out.push({ name, attrs: parseAttrs(m[0]), index: m.index, end: m.index + m[0].length, source: m[0] });
  }
  return out;
}

/** Text content between a tag's end and its closing tag (tags stripped, entities decoded). */
function innerText(html, from, tagName) {
  const close = new RegExp(`</${tagName}\\s*>`, 'i');
  const rest = html.slice(from);
  const m = close.exec(rest);
  const inner = m ? rest.slice(0, m.index) : rest;
  return decodeEntities(inner.replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ').trim();
}

/**
 * The forms of a page: [{action, method, attrs, fields: [{tag, type, name, value, checked, ...}],
 * buttons: [{name, value, type, text}]}]. Fields keep document order.
 */
export function parseForms(html) {
  const forms = [];
  const formRe = /<form\b(?:[^>"']|"[^"]*"|'[^']*')*>([\s\S]*?)(?:<\/form\s*>|$)/gi;
  let m;
  while ((m = formRe.exec(html))) {
    const openTag = m[0].match(/^<form\b(?:[^>"']|"[^"]*"|'[^']*')*>/i)[0];
    const attrs = parseAttrs(openTag);
    const body = m[1];
    const fields = [];
    const buttons = [];
    for (const t of findTags(body, ['input', 'select', 'textarea', 'button'])) {
      const a = t.attrs;
      if (t.name === 'input') {
        const type = (a.type || 'text').toLowerCase();
        if (type === 'submit' || type === 'image') {
          buttons.push({ name: a.name, value: a.value ?? '', type, text: a.value ?? '', attrs: a });
          continue;
        }
        fields.push({ tag: 'input', type, name: a.name, value: a.value ?? (type === 'checkbox' || type === 'radio' ? 'on' : ''),
          checked: 'checked' in a, disabled: 'disabled' in a, attrs: a });
      } else if (t.name === 'button') {
        const type = (a.type || 'submit').toLowerCase();
        const text = innerText(body, t.end, 'button');
        if (type === 'submit') buttons.push({ name: a.name, value: a.value ?? '', type, text, attrs: a });
      } else if (t.name === 'select') {
        const close = body.slice(t.end).search(/<\/select\s*>/i);
        const inner = close < 0 ? body.slice(t.end) : body.slice(t.end, t.end + close);
        const options = findTags(inner, ['option']).map((o) => ({
          value: o.attrs.value ?? innerText(inner, o.end, 'option'), text: innerText(inner, o.end, 'option'), selected: 'selected' in o.attrs,
        }));
        const sel = options.find((o) => o.selected) || options[0];
        fields.push({ tag: 'select', type: 'select', name: a.name, value: sel ? sel.value : '', options, disabled: 'disabled' in a, attrs: a });
      } else if (t.name === 'textarea') {
        fields.push({ tag: 'textarea', type: 'textarea', name: a.name, value: innerText(body, t.end, 'textarea'), disabled: 'disabled' in a, attrs: a });
      }
    }
    forms.push({ action: attrs.action ?? '', method: (attrs.method || 'get').toLowerCase(), attrs, fields, buttons, html: m[0] });
  }
  return forms;
}

/** What a form would submit, as [name, value] pairs (successful controls only). */
export function formData(form) {
  const pairs = [];
  for (const f of form.fields) {
    if (!f.name || f.disabled) continue;
    if ((f.type === 'radio' || f.type === 'checkbox') && !f.checked) continue;
    if (f.type === 'file') continue;
    pairs.push([f.name, f.value]);
  }
  return pairs;
}

/** Hidden inputs of the first form, as an object. */
export function hiddenFields(html, formIndex = 0) {
  const form = parseForms(html)[formIndex];
  if (!form) return {};
  return Object.fromEntries(form.fields.filter((f) => f.type === 'hidden' && f.name).map((f) => [f.name, f.value]));
}

/** Links of a page: [{href, text}] */
export function links(html, baseUrl) {
  return findTags(html, ['a']).filter((t) => t.attrs.href !== undefined).map((t) => ({
    href: baseUrl ? new URL(t.attrs.href, baseUrl).href : t.attrs.href,
    text: innerText(html, t.end, 'a'),
  }));
}

export function pageTitle(html) {
  const h = findTags(html, ['h1'])[0];
  return h ? innerText(html, h.end, 'h1') : null;
}

// ---- the user agent ------------------------------------------------------------------------

function absolute(loc, base) {
  try { return new URL(loc, base).href; } catch { return null; }
}

export class Browser {
  constructor({ userAgent = 'idhub-tests/1.0' } = {}) {
    this.jar = new CookieJar();
    this.userAgent = userAgent;
    this.history = [];
  }

  /**
   * One HTTP request, no redirect following. opts: method, body (URLSearchParams | string | pairs |
   * object), headers, initiator (URL of the page that starts it; null = typed URL), topLevel.
   * Returns {url, method, status, headers, location, text, setCookies, requestCookies}.
   */
  async request(url, opts = {}) {
    const method = (opts.method || 'GET').toUpperCase();
    const headers = new Headers(opts.headers || {});
    if (!headers.has('user-agent')) headers.set('user-agent', this.userAgent);
    if (!headers.has('accept')) headers.set('accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
    const sent = this.jar.cookiesFor(url, { initiator: opts.initiator ?? null, method, topLevel: opts.topLevel ?? true });
    if (sent.length && !headers.has('cookie')) headers.set('cookie', sent.map((c) => `${c.name}=${c.value}`).join('; '));
    let body;
    if (opts.body !== undefined && method !== 'GET' && method !== 'HEAD') {
      if (opts.body instanceof URLSearchParams || typeof opts.body === 'string') body = opts.body;
      else if (Array.isArray(opts.body)) body = new URLSearchParams(opts.body);
      else body = new URLSearchParams(Object.entries(opts.body));
      if (!headers.has('content-type') && typeof body !== 'string') headers.set('content-type', 'application/x-www-form-urlencoded');
      if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
      body = body.toString();
    }
    if (opts.initiator && method === 'POST' && !headers.has('origin')) headers.set('origin', new URL(opts.initiator).origin);
    const res = await fetch(url, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(opts.timeout ?? 15000) });
    const setCookies = res.headers.getSetCookie();
    this.jar.store(setCookies, url);
    const text = await res.text();
    const rawLocation = res.headers.get('location');
    const out = {
      url, method, status: res.status, headers: res.headers, rawLocation,
      location: rawLocation ? absolute(rawLocation, url) : null,
      text, setCookies, requestCookies: sent.map((c) => c.name), initiator: opts.initiator ?? null,
    };
    this.history.push(out);
    return out;
  }

  get(url, opts = {}) { return this.request(url, { ...opts, method: 'GET' }); }

  post(url, body, opts = {}) { return this.request(url, { ...opts, method: 'POST', body }); }

  /** Follow a redirect answer (3xx + Location) as a browser would: 303/301/302 become GET. */
  async followRedirect(res) {
    if (!(res.status >= 300 && res.status < 400 && res.location)) throw new Error(`not a redirect: ${res.status}`);
    return this.get(res.location, { initiator: res.initiator });
  }

  /**
   * Submit a form of `html` (the page at pageUrl). overrides: {name: value} replaces or adds fields;
   * a null value removes the field. options: submitter {name, value} (or a predicate on buttons),
   * formIndex, form (predicate on parsed forms), method/action overrides, initiator (default pageUrl).
   */
  async submitForm(html, pageUrl, overrides = {}, options = {}) {
    const forms = parseForms(html);
    const form = options.form ? forms.find(options.form) : forms[options.formIndex ?? 0];
    if (!form) throw new Error(`no <form> on ${pageUrl}:\n${html.slice(0, 2000)}`);
    let pairs = formData(form);
    for (const [k, v] of Object.entries(overrides)) {
      pairs = pairs.filter(([n]) => n !== k);
      if (v === null || v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) pairs.push([k, String(x)]);
      else pairs.push([k, String(v)]);
    }
    let submitter = options.submitter;
    if (typeof submitter === 'function') submitter = form.buttons.find(submitter);
    if (submitter && submitter.name) pairs.push([submitter.name, submitter.value ?? '']);
    const action = absolute(options.action ?? (form.action || pageUrl), pageUrl);
    const method = (options.method || form.method || 'get').toUpperCase();
    const initiator = options.initiator === undefined ? pageUrl : options.initiator;
    if (method === 'GET') {
      const u = new URL(action);
      u.search = new URLSearchParams(pairs).toString();
      return this.get(u.href, { initiator });
    }
    return this.post(action, new URLSearchParams(pairs), { initiator, headers: options.headers });
  }
}

// ---- the journey ---------------------------------------------------------------------------

/** The parameters of a redirect Location as an object plus the base (URL without query). */
export function redirectParams(location) {
  const u = new URL(location);
  const params = Object.fromEntries(u.searchParams);
  u.search = '';
  u.hash = '';
  return { base: u.href, params, all: [...new URL(location).searchParams] };
}

/** The radio values offered for a name in the first form. */
export function radioValues(html, name, formIndex = 0) {
  const form = parseForms(html)[formIndex];
  if (!form) return [];
  return form.fields.filter((f) => f.type === 'radio' && f.name === name).map((f) => f.value);
}

/** Form predicates: the picker's (idp radios), the sandbox's (persona), an auto-POST (to /callback/). */
export const isPickerForm = (f) => f.fields.some((x) => x.name === 'idp');
export const isSandboxForm = (f) => f.fields.some((x) => x.name === 'persona');
export const isCallbackForm = (f) => /\/callback\//.test(f.action);

/** Is this the hub's answer to a cross-site POST to its callback: 303 to GET ...?resume=<id>? */
export function isResume(res) {
  return res.status === 303 && !!res.location && /\/callback\/[^?]+\?resume=/.test(res.location);
}

/** Is this the hub's re-post page (a form carrying idhub_repost=1)? */
export function isRepostPage(html) {
  return parseForms(html).some((f) => f.fields.some((x) => x.name === 'idhub_repost'));
}

class JourneyError extends Error {
  constructor(message, steps) {
    super(message);
    this.steps = steps;
  }
}

function describe(res) {
  return `${res.method} ${res.url} → ${res.status}${res.location ? ` Location: ${res.location}` : ''}\n${(res.text || '').slice(0, 1500)}`;
}

/**
 * The citizen's journey. flow: {authorizeUrl, browser?, idp = 'sandbox', persona = 'alice',
 * username?, loa?, action = 'login', until?: 'picker'|'sandbox'|'autopost'|'callback'}.
 * Returns {browser, location (the redirect to the RP, or null), params (its query), journeyId,
 * steps: {authorize, picker, pickerPost, sandbox, sandboxPost, autopost, callback, repost}, responses}.
 * Throws a JourneyError (with .steps) when a step does not answer as the contract says.
 */
export async function login(flow) {
  const ua = flow.browser || new Browser();
  const steps = {};
  const responses = [];
  const rec = (name, res) => { steps[name] = res; responses.push(res); return res; };
  const fail = (msg, res) => { throw new JourneyError(`${msg}\n${res ? describe(res) : ''}`, steps); };
  const redirectUri = new URL(flow.authorizeUrl).searchParams.get('redirect_uri');
  const isRp = (loc) => redirectUri && loc && (loc === redirectUri || loc.startsWith(redirectUri + '?') || loc.startsWith(redirectUri + '#'));
  const done = (res) => ({ browser: ua, location: res.location, params: res.location ? redirectParams(res.location).params : null,
    journeyId: steps.journeyId, steps, responses, last: res });

  // 1. /authorize → 303 /login/<id>
  const a = rec('authorize', await ua.get(flow.authorizeUrl, { initiator: flow.rpPage ?? redirectUri }));
  if (a.status < 300 || a.status >= 400 || !a.location) fail('authorize did not redirect', a);
  if (isRp(a.location)) return done(a); // an error answered to the RP
  const lm = /\/login\/([^/?#]+)$/.exec(new URL(a.location).pathname);
  if (!lm) fail('authorize did not redirect to /login/<id>', a);
  steps.journeyId = decodeURIComponent(lm[1]);

  // 2. the picker
  const p = rec('picker', await ua.get(a.location, { initiator: flow.rpPage ?? redirectUri }));
  if (p.status !== 200) fail('picker did not answer 200', p);
  if (flow.until === 'picker') return done(p);

  // 3. choose the IdP
  const pp = rec('pickerPost', await ua.submitForm(p.text, p.url, { idp: flow.idp ?? 'sandbox' }, {
    submitter: flow.pickerSubmitter, form: parseForms(p.text).some(isPickerForm) ? isPickerForm : undefined,
  }));
  if (pp.status < 300 || pp.status >= 400 || !pp.location) fail('picker POST did not redirect', pp);
  if (isRp(pp.location)) return done(pp);

  // 4. the sandbox page (follow redirects while they stay off the RP)
  let s = rec('sandbox', await ua.get(pp.location, { initiator: pp.url }));
  for (let i = 0; i < 5 && s.status >= 300 && s.status < 400 && s.location && !isRp(s.location); i++) {
    s = rec('sandbox', await ua.get(s.location, { initiator: s.url }));
  }
  if (s.status !== 200) fail('sandbox IdP page did not answer 200', s);
  if (flow.until === 'sandbox') return done(s);

  // 5. choose a persona → the auto-POST page
  const persona = flow.persona ?? 'alice';
  const fields = { persona };
  if (flow.username !== undefined) fields.username = flow.username;
  if (flow.loa !== undefined) {
    // the select's options may carry the level as value or as text (URI or short name)
    const sel = parseForms(s.text).flatMap((f) => f.fields).find((f) => f.tag === 'select' && f.name === 'loa');
    const last = (v) => String(v).split('/').pop().toLowerCase();
    const opt = sel && (sel.options.find((o) => o.value === flow.loa) || sel.options.find((o) => o.text === flow.loa)
      || sel.options.find((o) => last(o.value) === last(flow.loa)) || sel.options.find((o) => last(o.text) === last(flow.loa)));
    fields.loa = opt ? opt.value : flow.loa;
  }
  const action = flow.action ?? 'login';
  let sp = rec('sandboxPost', await ua.submitForm(s.text, s.url, fields, {
    submitter: (b) => b.name === 'action' && b.value === action,
    form: (f) => f.fields.some((x) => x.name === 'persona') || f.buttons.some((b) => b.name === 'action'),
  }));
  for (let i = 0; i < 5 && sp.status >= 300 && sp.status < 400 && sp.location && !isRp(sp.location); i++) {
    sp = rec('sandboxPost', await ua.get(sp.location, { initiator: sp.url }));
  }
  if (sp.location && isRp(sp.location)) return done(sp);
  const toCallback = (f) => /\/callback\//.test(f.action);
  if (sp.status !== 200 || !parseForms(sp.text).some(toCallback)) {
    // the IdP went straight back to the hub (e.g. a redirect to the callback): that was the callback
    if (flow.until === 'callback' || flow.until === 'autopost') { steps.callback = sp; return done(sp); }
    fail('sandbox login did not answer the auto-POST page (200, a form to /callback/)', sp);
  }
  steps.autopost = sp;
  if (flow.until === 'autopost') return done(sp);

  // 6. the auto-POST to /callback/<idp> (cross-site when the IdP page is on another site): the
  // hub parks it and redirects to a GET that carries its cookie (or, when it cannot park, re-posts)
  let c = rec('callback', await ua.submitForm(sp.text, sp.url, {}, { submitter: flow.autopostSubmitter, form: toCallback }));
  if (isResume(c)) {
    steps.resume = c;
    c = rec('callback', await ua.get(c.location, { initiator: sp.url }));
  }
  if (c.status === 200 && isRepostPage(c.text)) {
    steps.repost = c;
    c = rec('callback', await ua.submitForm(c.text, c.url, {}, { form: (f) => f.fields.some((x) => x.name === 'idhub_repost') }));
  }
  if (flow.until === 'callback') return done(c);
  if (c.status >= 300 && c.status < 400 && c.location && isRp(c.location)) return done(c);
  fail('callback did not redirect to the service', c);
}

/**
 * POST an auto-POST page's form (with field overrides) the way a browser does, following the hub's
 * redirect to the resumed GET, or its re-post page, once if it comes. Returns {first, repost,
 * final}.
 */
export async function postCallback(ua, autopost, overrides = {}, { initiator } = {}) {
  let first = await ua.submitForm(autopost.text, autopost.url, overrides, {
    form: (f) => /\/callback\//.test(f.action), initiator,
  });
  if (isResume(first)) first = await ua.get(first.location, { initiator: autopost.url });
  if (first.status === 200 && isRepostPage(first.text)) {
    const final = await ua.submitForm(first.text, first.url, {}, { form: (f) => f.fields.some((x) => x.name === 'idhub_repost') });
    return { first, repost: first, final };
  }
  return { first, repost: null, final: first };
}

export { JourneyError };
