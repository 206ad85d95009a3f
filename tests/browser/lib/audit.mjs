// audit.mjs — the citizen-page audit shared by the browser tests (issue 13 items 3, 5-7): one
// headless Chromium, axe-core (WCAG 2.x A/AA) at 320 px (also what 400 % zoom of a 1280 px window
// gives) and 1280 px, with and without JavaScript, no sideways scroll, <html lang>, the page with
// its stylesheet at most 15 KB, no internal product name in what a citizen reads, and the
// screenshot gallery (tests/out/index.html).
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const OUT = path.resolve(HERE, '../../out');
export const GALLERY = path.join(OUT, 'gallery');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const AXE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export const WIDTHS = [320, 1280];
export const MAX_BYTES = 15 * 1024;
export const AXE_OPTIONS = { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] } };
/** The internal product name, which citizens never read (issue 13 item 3). */
export const PRODUCT_NAME = /\bidhub\b|\bhub\b/i;

export async function launchBrowser() {
  await mkdir(GALLERY, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A context in the citizen's language, JavaScript on or off; headers: sent with every request. */
export const newContext = (browser, lang, js, headers) => browser.newContext({
  javaScriptEnabled: js, locale: lang === 'cy' ? 'cy-GB' : 'en-GB', bypassCSP: true,
  viewport: { width: 1280, height: 900 }, extraHTTPHeaders: headers,
});

/** The last main-frame document a page received (its bytes on the wire, before any script). */
export function trackDocuments(page) {
  const doc = { response: null };
  page.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame() && (r.status() < 300 || r.status() >= 400)) doc.response = r;
  });
  return doc;
}

/**
 * An auditor over one browser: audit(page, state, lang, js, doc?) checks the page as it is now at
 * both widths and adds its JavaScript-on screenshots to the gallery. cssBytes: the stylesheet's
 * size. doc (from trackDocuments): weigh the page as served; without it, as serialised.
 */
export function auditor(browser, cssBytes, prefix) {
  const shots = [];
  let axeContext;
  /** Without JavaScript axe cannot run in the page (its timers never fire): the same markup,
   *  scripts removed, is audited in a page of the same origin that runs scripts. */
  async function axeRun(page, js, width) {
    let target = page;
    if (!js) {
      const html = (await page.content()).replace(/<script[\s\S]*?<\/script>/gi, '');
      const origin = new URL(page.url()).origin;
      axeContext ??= await browser.newContext({ bypassCSP: true });
      target = axeContext.pages()[0] ?? (await axeContext.newPage());
      await target.setViewportSize({ width, height: 800 });
      if (new URL(target.url() === 'about:blank' ? 'http://x' : target.url()).origin !== origin) await target.goto(`${origin}/healthz`);
      await target.setContent(html, { waitUntil: 'load' });
    }
    if (!(await target.evaluate(() => typeof window.axe !== 'undefined'))) await target.evaluate(AXE);
    return target.evaluate((o) => window.axe.run(document, o), AXE_OPTIONS);
  }

  async function audit(page, state, lang, js, doc) {
    await page.waitForLoadState('load');
    const key = `${state}/${lang}/${js ? 'js' : 'nojs'}`;
    const onHub = !new URL(page.url()).pathname.startsWith('/demo');
    if (onHub) assert.equal(await page.locator('html').getAttribute('lang'), lang, `${key}: <html lang>`);
    const text = await page.evaluate(() => `${document.title}\n${document.body.innerText}`);
    assert.doesNotMatch(text, PRODUCT_NAME, `${key}: the product name is shown to citizens`);
    const bytes = doc?.response
      ? (await doc.response.body()).length
      : await page.evaluate(() => new Blob([document.documentElement.outerHTML]).size);
    assert.ok(bytes + cssBytes <= MAX_BYTES, `${key}: ${bytes} + ${cssBytes} bytes of CSS > 15 KB`);
    for (const w of WIDTHS) {
      await page.setViewportSize({ width: w, height: 800 });
      const scroll = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(scroll <= 0, `${key} at ${w}px: scrolls sideways by ${scroll}px`);
      const res = await axeRun(page, js, w);
      const v = res.violations.map((x) => `${x.id}: ${x.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      assert.deepEqual(v, [], `${key} at ${w}px: axe violations`);
      if (js) {
        const file = `${prefix}${state}-${lang}-${w}.png`;
        await page.screenshot({ path: path.join(GALLERY, file), fullPage: true });
        shots.push({ file, label: `${state}, ${lang}, ${w} px` });
      }
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    return { bytes };
  }

  /** axe itself finds a known violation (so a clean result means something). */
  async function axeIsLive() {
    axeContext ??= await browser.newContext({ bypassCSP: true });
    const page = axeContext.pages()[0] ?? (await axeContext.newPage());
    await page.setContent('<html><body><img src="x.png"><input type="text"></body></html>');
    await page.evaluate(AXE);
    return page.evaluate((o) => window.axe.run(document, o), AXE_OPTIONS);
  }

  return { audit, axeIsLive, shots };
}

/** tests/out/index.html: every screenshot in tests/out/gallery/, whichever test file made it. */
export async function writeGallery() {
  const files = (await readdir(GALLERY)).filter((f) => f.endsWith('.png')).sort();
  const items = files.map((f) => `<figure><img src="gallery/${f}" alt="" loading="lazy"><figcaption>${f.replace(/\.png$/, '').replace(/-/g, ' ')}</figcaption></figure>`).join('\n');
  await writeFile(path.join(OUT, 'index.html'), `<!doctype html><html lang="en"><meta charset="utf-8"><title>Citizen pages gallery</title>
<style>body{font:16px system-ui;margin:16px}figure{display:inline-block;vertical-align:top;margin:8px;border:1px solid #ccc;padding:4px}img{max-width:340px;display:block}</style>
<h1>Citizen pages: every state, English and Welsh, 320 and 1280 px</h1>\n${items}\n</html>\n`);
  return files;
}
