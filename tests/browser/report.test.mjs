// The transparency report (idhubctl report): a known set of logins, cancellations and failures
// runs through a hub whose hourly aggregates reach the store only at shutdown (the flush interval
// is an hour), then every figure of the JSON report is checked; the Markdown, CSV and HTML give the
// same figures; the HTML page passes axe-core in headless Chromium with no violation, and its
// screenshot is saved as tests/out/report.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startHub } from '../integration/lib/hub.mjs';
import { ctlOk } from '../integration/lib/ctl.mjs';
import { runKnownJourneys, knownServices, EXPECTED } from '../integration/lib/known-journeys.mjs';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../out');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const day = (ms) => new Date(ms).toISOString().slice(0, 10);
let hub;
let browser;
const reports = {};
let from, to;

before(async () => {
  await mkdir(OUT, { recursive: true });
  hub = await startHub({ services: knownServices(), keepDir: true, hub: { metrics_flush_seconds: 3600 } });
  from = day(Date.now() - 86400000);
  await runKnownJourneys(hub);
  await hub.stopAndCheck(); // the last flush: at shutdown
  to = day(Date.now());
  for (const format of ['json', 'md', 'csv', 'html']) {
    reports[format] = (await ctlOk(hub, ['report', '--from', from, '--to', to, '--format', format])).stdout;
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  await browser?.close();
  await hub?.removeDir();
});

const sumDaily = (e, k) => e.daily.reduce((s, d) => s + d[k], 0);

test('every figure of the JSON report', () => {
  const r = JSON.parse(reports.json);
  assert.equal(r.from, from);
  assert.equal(r.to, to);
  assert.deepEqual(r.levels.map((l) => l.name), ['low', 'substantial', 'high']);
  assert.deepEqual(r.idps.map((e) => e.id), ['sandbox']);
  const sb = r.idps[0];
  const chosen = Object.values(EXPECTED.chosen).reduce((a, b) => a + b, 0);
  const done = Object.values(EXPECTED.succeeded).reduce((a, b) => a + b, 0);
  assert.equal(sb.name, 'Sandbox identity provider');
  assert.equal(sb.started, chosen);
  assert.equal(sb.completed, done);
  assert.equal(sb.completion_rate_percent, Math.round((1000 * done) / chosen) / 10);
  // every completed journey spent under 5 s at the sandbox: the first bucket, (0, 5] s,
  // interpolated as Prometheus's histogram_quantile does
  assert.equal(sb.median_seconds_at_idp, 2.5);
  assert.equal(sb.p95_seconds_at_idp, 4.8);
  const failures = { cancelled: 0, level_too_low: 0, invalid_assertion: 0, idp_unavailable: 0, expired: 0, busy: 0 };
  for (const f of EXPECTED.failed) if (f.idp === 'sandbox') failures[f.reason] += f.n;
  assert.deepEqual(sb.failures, failures);
  assert.equal(sb.daily.length, 2, 'one entry per day, from..to');
  assert.deepEqual(sb.daily.map((d) => d.date), [from, to]);
  assert.equal(sumDaily(sb, 'started'), chosen);
  assert.equal(sumDaily(sb, 'completed'), done);

  assert.deepEqual(r.services.map((e) => e.id), ['svc-a', 'svc-sub', 'other']);
  const [a, sub, other] = r.services;
  const s = EXPECTED.signins['svc-a'];
  assert.deepEqual({ journeys: a.journeys, signins: a.signins, new: a.new, returning: a.returning, levels: a.levels },
    { journeys: EXPECTED.started['svc-a'], signins: EXPECTED.succeeded['svc-a'], new: s.new, returning: s.returning,
      levels: { 1: s.levels[1], 2: s.levels[2], 3: 0 } });
  assert.deepEqual({ journeys: sub.journeys, signins: sub.signins, new: sub.new, returning: sub.returning, levels: sub.levels },
    { journeys: EXPECTED.started['svc-sub'], signins: 0, new: 0, returning: 0, levels: { 1: 0, 2: 0, 3: 0 } });
  assert.equal(other.journeys + other.signins, 0);
  assert.equal(sumDaily(a, 'signins'), a.signins);
  assert.equal(sumDaily(a, 'new'), s.new);
  assert.doesNotMatch(reports.json, /alice|bob|sandbox-alice|sector-/, 'no citizen and no sector in the report');
});

/** The figures of the JSON report as the CSV names them: "section|id|date|measure" → text. */
function jsonFigures(r) {
  const out = new Map();
  const fmt = (v) => (v === null ? '-' : Number.isInteger(v) && !String(v).includes('.') ? String(v) : v.toFixed(1));
  const put = (section, id, date, x) => {
    for (const [k, v] of Object.entries(x)) {
      if (['id', 'name', 'daily', 'date'].includes(k)) continue;
      if (v && typeof v === 'object') {
        for (const [k2, v2] of Object.entries(v)) out.set(`${section}|${id}|${date}|${k === 'failures' ? 'failed' : 'level'}_${k2}`, fmt(v2));
      } else out.set(`${section}|${id}|${date}|${k}`, fmt(v));
    }
  };
  for (const [list, section] of [[r.idps, 'idp'], [r.services, 'service']]) {
    for (const e of list) {
      put(section, e.id, 'all', e);
      for (const d of e.daily) put(section, e.id, d.date, d);
    }
  }
  return out;
}

test('the CSV has exactly the JSON figures', () => {
  const r = JSON.parse(reports.json);
  const lines = reports.csv.trim().split('\n');
  assert.equal(lines[0], 'section,id,date,measure,value');
  const csv = new Map(lines.slice(1).map((l) => {
    const m = /^(\w+),"([^"]*)",([\w-]+),(\w+),(.*)$/.exec(l);
    assert.ok(m, `a CSV line: ${l}`);
    return [`${m[1]}|${m[2]}|${m[3]}|${m[4]}`, m[5]];
  }));
  const want = jsonFigures(r);
  // integers as integers; reals to one decimal ("71.4"): compare numerically
  assert.deepEqual([...csv.keys()].sort(), [...want.keys()].sort());
  for (const [k, v] of want) assert.equal(csv.get(k) === '-' ? '-' : Number(csv.get(k)), v === '-' ? '-' : Number(v), k);
});

/** Table rows [first cell, ...cells] of the Markdown, and of the HTML. */
const mdRows = (md) => md.split('\n').filter((l) => l.startsWith('| ') && !/^\| (Identity provider|Service|Date) \|/.test(l))
  .map((l) => l.slice(2, -2).split(' | ').map((c) => c.replace(/\\(.)/g, '$1')));
const htmlRows = (html) => [...html.matchAll(/<tr><th scope="row">([^<]*)<\/th>(.*?)<\/tr>/g)]
  .map((m) => [m[1], ...[...m[2].matchAll(/<td[^>]*>([^<]*)<\/td>/g)].map((c) => c[1])]);

test('the Markdown and the HTML tables give the JSON figures', () => {
  const r = JSON.parse(reports.json);
  const md = mdRows(reports.md);
  const html = htmlRows(reports.html);
  assert.ok(md.length > 10, `Markdown table rows: ${md.length}`);
  assert.deepEqual(html, md, 'the HTML tables have the Markdown tables\' rows');
  const sb = r.idps[0];
  const row = md.find((x) => x[0] === 'sandbox');
  assert.deepEqual(row, ['sandbox', String(sb.started), String(sb.completed), `${sb.completion_rate_percent.toFixed(1)}%`,
    `${sb.median_seconds_at_idp.toFixed(1)} s`, `${sb.p95_seconds_at_idp.toFixed(1)} s`,
    ...['cancelled', 'level_too_low', 'invalid_assertion', 'idp_unavailable', 'expired', 'busy'].map((k) => String(sb.failures[k]))]);
  const a = r.services[0];
  assert.deepEqual(md.find((x) => x[0] === 'svc-a'),
    ['svc-a', ...[a.journeys, a.signins, a.new, a.returning, a.levels[1], a.levels[2], a.levels[3]].map(String)]);
  const today = md.filter((x) => x[0] === to);
  assert.deepEqual(today[0].slice(1, 3), [String(sb.daily[1].started), String(sb.daily[1].completed)]);
});

test('report: bad dates, an inverted range or an unknown format are usage errors (exit 2)', async () => {
  for (const args of [['--from', '2026-13-01', '--to', to], ['--from', '2026-02-31', '--to', to], ['--from', to, '--to', '2026-1-1'], ['--from', to],
    ['--from', to, '--to', from], ['--from', from, '--to', to, '--format', 'pdf'], ['--from', from, '--to', to, 'extra']]) {
    const r = await ctlOk(hub, ['report', ...args], { status: 2 });
    assert.match(r.stderr, /idhubctl report: /, args.join(' '));
    assert.equal(r.stdout, '', 'nothing printed');
  }
});

test('the HTML page: self-contained, no script, SVG charts, axe-core finds no violation', async () => {
  const html = reports.html;
  assert.doesNotMatch(html, /<script|<link|src=|javascript:/i, 'no script and nothing fetched');
  assert.ok((html.match(/<svg [^>]*role="img"/g) || []).length >= 4, 'SVG charts');
  const file = path.join(OUT, 'report.html');
  await writeFile(file, html);
  const ctx = await browser.newContext({ javaScriptEnabled: true, viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  const outside = [];
  page.on('request', (q) => { if (!q.url().startsWith('file:')) outside.push(q.url()); });
  await page.goto('file://' + file);
  await page.screenshot({ path: path.join(OUT, 'report.png'), fullPage: true });
  await page.addScriptTag({ content: await readFile(AXE, 'utf8') });
  const res = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  await ctx.close();
  assert.deepEqual(outside, [], 'the page fetches nothing');
  assert.deepEqual(res.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length}) ${v.nodes.slice(0, 2).map((n) => n.html).join(' ')}`), []);
});
