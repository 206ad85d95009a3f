// /metrics: on its own listener (404 on the public port); `promtool check metrics` accepts the
// exposition; a real Prometheus server (its own port, config and storage in a temp dir) scrapes the
// hub during a known set of logins, cancellations and failures, and its query API returns the
// funnel figures; the Grafana dashboard queries only series the hub exports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startHub, freePort, REPO } from './lib/hub.mjs';
import { runKnownJourneys, knownServices, EXPECTED } from './lib/known-journeys.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let hub, prom, promDir, promUrl, promLog = '';

before(async () => {
  hub = await startHub({ services: knownServices() });
  promDir = await mkdtemp(path.join(tmpdir(), 'idhub-prom-'));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const target = new URL(hub.metricsUrl).host;
  await writeFile(path.join(promDir, 'prometheus.yml'), [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    'scrape_configs:',
    '  - job_name: idhub',
    '    scrape_interval: 1s',
    `    static_configs: [ { targets: [ "${target}" ] } ]`,
    '',
  ].join('\n'));
  prom = spawn('prometheus', [`--config.file=${path.join(promDir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  prom.stdout.on('data', (d) => { promLog += d; });
  prom.stderr.on('data', (d) => { promLog += d; });
  for (let i = 0; i < 200; i++) {
    try { if ((await fetch(`${promUrl}/-/ready`)).status === 200) return; } catch { /* not yet */ }
    await sleep(100);
  }
  throw new Error(`prometheus did not become ready:\n${promLog.slice(-3000)}`);
});

after(async () => {
  if (prom && prom.exitCode === null) {
    const exited = new Promise((r) => prom.on('exit', r));
    prom.kill('SIGTERM');
    const t = setTimeout(() => prom.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(t);
  }
  if (promDir) await rm(promDir, { recursive: true, force: true });
  await hub?.stopAndCheck();
});

async function query(q) {
  const r = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
  const j = await r.json();
  assert.equal(j.status, 'success', `query ${q}: ${JSON.stringify(j)}`);
  return j.data.result;
}

/** The single value of an instant vector query, or null when it has no sample. */
async function value(q) {
  const r = await query(q);
  return r.length ? Number(r[0].value[1]) : null;
}

test('/metrics is not on the public port', async () => {
  const r = await fetch(`${hub.issuer}/metrics`);
  await r.text();
  assert.equal(r.status, 404);
  const other = await fetch(hub.metricsUrl.replace('/metrics', '/healthz'));
  await other.text();
  assert.equal(other.status, 404, 'the metrics listener serves /metrics only');
});

test('the funnel, through a real Prometheus scraping the hub during known journeys', async () => {
  await runKnownJourneys(hub);
  const text = await (await fetch(hub.metricsUrl)).text();
  // promtool reads the exposition on stdin
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`);
  assert.doesNotMatch(text, /alice|bob|sandbox-alice/, 'no citizen in a label');

  // wait for a scrape that saw the last journey (bounded: 30 s)
  const want = EXPECTED.failed.find((f) => f.reason === 'level_too_low');
  const last = `idhub_journeys_failed_total{idp="${want.idp}",service="${want.service}",reason="${want.reason}"}`;
  let got = null;
  for (let i = 0; i < 150 && got !== want.n; i++) {
    got = await value(last);
    if (got !== want.n) await sleep(200);
  }
  assert.equal(got, want.n, `prometheus never saw ${last} = ${want.n}:\n${promLog.slice(-2000)}`);

  for (const [svc, n] of Object.entries(EXPECTED.started)) {
    assert.equal(await value(`idhub_journeys_started_total{service="${svc}"}`), n, `started ${svc}`);
    assert.equal(await value(`idhub_journeys_idp_chosen_total{idp="sandbox",service="${svc}"}`), EXPECTED.chosen[svc], `chosen ${svc}`);
    assert.equal(await value(`idhub_journeys_idp_returned_total{idp="sandbox",service="${svc}"}`), EXPECTED.chosen[svc], `returned ${svc}`);
    assert.equal(await value(`idhub_journeys_succeeded_total{idp="sandbox",service="${svc}"}`), EXPECTED.succeeded[svc], `succeeded ${svc}`);
  }
  for (const f of EXPECTED.failed) {
    assert.equal(await value(`idhub_journeys_failed_total{idp="${f.idp}",service="${f.service}",reason="${f.reason}"}`), f.n,
      `failed ${JSON.stringify(f)}`);
  }
  assert.equal(await value('sum(idhub_journeys_failed_total)'), EXPECTED.failed.reduce((s, f) => s + f.n, 0), 'no other failure');
  for (const [ev, n] of Object.entries(EXPECTED.codes)) assert.equal(await value(`idhub_codes_total{event="${ev}"}`), n, `codes ${ev}`);
  for (const [t, n] of Object.entries(EXPECTED.tokens)) assert.equal(await value(`idhub_tokens_issued_total{type="${t}"}`), n, `tokens ${t}`);
  const s = EXPECTED.signins['svc-a'];
  assert.equal(await value('idhub_signins_total{service="svc-a",citizen="new"}'), s.new);
  assert.equal(await value('idhub_signins_total{service="svc-a",citizen="returning"}'), s.returning);
  for (const [lv, n] of Object.entries(s.levels)) assert.equal(await value(`idhub_signins_by_level_total{service="svc-a",level="${lv}"}`), n, `level ${lv}`);
  assert.equal(await value('idhub_login_duration_seconds_count'), EXPECTED.codes.issued);
  assert.equal(await value('idhub_http_requests_total{endpoint="token",status="400"}'), 1, 'the replay answered 400');
  assert.equal(await value('idhub_signing_keys{state="current",alg="ES256"}'), 1);
  assert.ok(await value('process_resident_memory_bytes') > 0);
  assert.ok(await value('idhub_store_records{namespace="pairwise"}') >= 2);
  assert.equal(await value('idhub_build_info'), 1);
});

test('the Grafana dashboard is valid JSON and queries only series the hub exports', async () => {
  const dash = JSON.parse(await readFile(path.join(REPO, 'deploy/grafana/idhub.json'), 'utf8'));
  const text = await (await fetch(hub.metricsUrl)).text();
  const exported = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap(([, n, t]) =>
    t === 'histogram' ? [`${n}_bucket`, `${n}_sum`, `${n}_count`] : [n]));
  const exprs = [];
  const walk = (p) => { for (const x of p.panels || []) walk(x); for (const t of p.targets || []) exprs.push(t.expr); };
  walk(dash);
  assert.ok(exprs.length >= 10, `the dashboard has panels with queries (${exprs.length})`);
  const fns = new Set(['sum', 'rate', 'increase', 'by', 'histogram_quantile', 'le', 'clamp_min', 'time', 'max', 'without', 'on', 'irate', 'topk', 'avg', 'count', 'ignoring', 'group_left']);
  for (const e of exprs) {
    const names = [...e.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '').matchAll(/[a-z_][a-z0-9_:]*/gi)].map((m) => m[0]);
    const series = names.filter((n) => !fns.has(n) && !/^(idp|service|reason|endpoint|status|state|alg|namespace|event|type|citizen|level|job|instance)$/.test(n));
    assert.ok(series.length > 0, `expr names a series: ${e}`);
    for (const n of series) assert.ok(exported.has(n), `expr ${e}: ${n} is not exported by the hub`);
    const r = await query(e.replace(/\$__rate_interval|\$__range|\$__interval/g, '1m'));
    assert.ok(Array.isArray(r), `prometheus accepts ${e}`);
  }
});
