/* cmd_report.c — `idhubctl report`: sums the hourly aggregates (every node's records) of the days
 * asked for into the report, and prints it in the format asked for. The report is JSON first:
 *
 *   {"from", "to", "generated", "levels": [{"level", "acr", "name"}],
 *    "idps": [{"id", "name", "started", "completed", "completion_rate_percent" (null: none
 * started), "median_seconds_at_idp", "p95_seconds_at_idp" (null: none completed), "failures":
 * {reason: n}, "daily": [{"date", the same figures}]}], "services": [{"id", "name", "journeys",
 * "signins", "new", "returning", "levels": {"N": n}, "daily": [{"date", the same figures}]}]}
 *
 * Times at the IdP are estimated from the fixed buckets as Prometheus's histogram_quantile does
 * (linear within the bucket), to one decimal. Nothing in it names a citizen. */
#include "report.h"
#include "metrics/hourly.h"
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NFAIL 6
#define NTIME (METRICS_IDP_BUCKETS + 1)
#define NLEVEL 9
#define MAX_DAYS 1100

typedef struct counts {
	uint64_t started, completed, failed[NFAIL], time[NTIME];
	uint64_t journeys, signins, fresh, returning, levels[NLEVEL];
} counts;

typedef struct entity {
	char kind; /* 'i' or 's' */
	char id[256];
	const char *name;
	counts total;
	counts *days;
} entity;

typedef struct model {
	int64_t from_day, ndays;
	entity *e;
	size_t n, cap;
} model;

static entity *find(model *m, char kind, const char *id, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].kind == kind && strcmp(m->e[i].id, id) == 0)
			return &m->e[i];
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		entity *e = realloc(m->e, cap * sizeof *e);
		if (!e)
			return NULL;
		m->e = e, m->cap = cap;
	}
	entity *e = &m->e[m->n];
	memset(e, 0, sizeof *e);
	if (!(e->days = calloc((size_t)m->ndays, sizeof *e->days)))
		return NULL;
	m->n++;
	e->kind = kind;
	snprintf(e->id, sizeof e->id, "%s", id);
	e->name = name;
	return e;
}

static uint64_t num(json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));
	return v > 0 ? (uint64_t)v : 0;
}

static void add_row(counts *c, const metrics_hourly_row *row)
{
	json_t *v = row->val;
	if (row->kind == 'i') {
		c->started += num(v, "started");
		c->completed += num(v, "completed");
		for (int w = 0; w < NFAIL; w++)
			c->failed[w] += num(json_object_get(v, "failed"), metrics_fail_reasons[w]);
		json_t *t = json_object_get(v, "idp_time");
		for (size_t b = 0; b < NTIME && b < json_array_size(t); b++) {
			json_int_t n = json_integer_value(json_array_get(t, b));
			c->time[b] += n > 0 ? (uint64_t)n : 0;
		}
		return;
	}
	c->journeys += num(v, "journeys");
	c->signins += num(v, "signins");
	c->fresh += num(v, "new");
	c->returning += num(v, "returning");
	for (int lv = 0; lv < NLEVEL; lv++) {
		char k[16];
		snprintf(k, sizeof k, "%d", lv);
		c->levels[lv] += num(json_object_get(v, "levels"), k);
	}
}

static void add_counts(counts *a, const counts *b)
{
	uint64_t *x = (uint64_t *)a;
	const uint64_t *y = (const uint64_t *)b;
	for (size_t i = 0; i < sizeof *a / sizeof(uint64_t); i++)
		x[i] += y[i];
}

static void day_text(int64_t day, char out[11])
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* "YYYY-MM-DD" (or the date of "YYYY-MM-DDTHH") as days since the epoch, or -1. */
static int64_t day_of(const char *s)
{
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || (*end && *end != 'T'))
		return -1;
	int64_t day = (int64_t)timegm(&tm) / 86400;
	char back[11];
	day_text(day, back);
	return strncmp(back, s, 10) == 0 ? day : -1; /* 2026-02-31 is not a date */
}

static int gather(void *arg, const metrics_hourly_row *row)
{
	model *m = arg;
	int64_t d = day_of(row->hour) - m->from_day;
	if (d < 0 || d >= m->ndays)
		return 0;
	entity *e = find(m, row->kind, row->id, NULL);
	if (!e)
		return -1;
	add_row(&e->days[d], row);
	return 0;
}

/* Estimate of the q-quantile of the time at the IdP, or -1 when nothing was counted. */
static double quantile(const uint64_t *t, double q)
{
	uint64_t total = 0, cum = 0;
	for (int b = 0; b < NTIME; b++)
		total += t[b];
	if (!total)
		return -1;
	double rank = q * (double)total;
	for (int b = 0; b < METRICS_IDP_BUCKETS; b++) {
		if ((double)(cum + t[b]) >= rank && t[b]) {
			double lo = b ? metrics_idp_bucket_bounds[b - 1] : 0,
			       hi = metrics_idp_bucket_bounds[b];
			return lo + (hi - lo) * (rank - (double)cum) / (double)t[b];
		}
		cum += t[b];
	}
	/* in the open bucket: its lower bound, as histogram_quantile does */
	return metrics_idp_bucket_bounds[METRICS_IDP_BUCKETS - 1];
}

static json_t *round1(double v)
{
	return v < 0 ? json_null() : json_real((double)(long long)(v * 10 + 0.5) / 10);
}

static json_t *idp_figures(const counts *c)
{
	json_t *f = json_object();
	for (int w = 0; w < NFAIL; w++)
		json_object_set_new(f, metrics_fail_reasons[w],
		                    json_integer((json_int_t)c->failed[w]));
	return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o}", "started", (json_int_t)c->started,
	                 "completed", (json_int_t)c->completed, "completion_rate_percent",
	                 c->started ? round1(100.0 * (double)c->completed / (double)c->started)
	                            : json_null(),
	                 "median_seconds_at_idp", round1(quantile(c->time, 0.5)),
	                 "p95_seconds_at_idp", round1(quantile(c->time, 0.95)), "failures", f);
}

static json_t *svc_figures(const counts *c, int nloas)
{
	json_t *l = json_object();
	for (int lv = 0; lv < NLEVEL; lv++)
		if ((lv >= 1 && lv <= nloas) || c->levels[lv]) {
			char k[16];
			snprintf(k, sizeof k, "%d", lv);
			json_object_set_new(l, k, json_integer((json_int_t)c->levels[lv]));
		}
	return json_pack("{s:I, s:I, s:I, s:I, s:o}", "journeys", (json_int_t)c->journeys,
	                 "signins", (json_int_t)c->signins, "new", (json_int_t)c->fresh,
	                 "returning", (json_int_t)c->returning, "levels", l);
}

static json_t *entity_json(const model *m, entity *e, int nloas)
{
	json_t *daily = json_array();
	for (int64_t d = 0; d < m->ndays; d++) {
		add_counts(&e->total, &e->days[d]);
		json_t *x =
		    e->kind == 'i' ? idp_figures(&e->days[d]) : svc_figures(&e->days[d], nloas);
		char date[11];
		day_text(m->from_day + d, date);
		json_object_set_new(x, "date", json_string(date));
		json_array_append_new(daily, x);
	}
	json_t *o = e->kind == 'i' ? idp_figures(&e->total) : svc_figures(&e->total, nloas);
	json_object_set_new(o, "id", json_string(e->id));
	json_object_set_new(o, "name", json_string(e->name ? e->name : e->id));
	json_object_set_new(o, "daily", daily);
	return o;
}

static json_t *levels_json(const hub_conf *cfg)
{
	json_t *a = json_array();
	for (int i = 0; i < cfg->nloas; i++) {
		const char *acr = cfg->loa_acrs[i], *slash = strrchr(acr, '/');
		json_array_append_new(a, json_pack("{s:i, s:s, s:s}", "level", i + 1, "acr", acr,
		                                   "name", slash && slash[1] ? slash + 1 : acr));
	}
	return a;
}

static json_t *build(ctl *c, model *m, const char *from, const char *to)
{
	json_t *idps = json_array(), *svcs = json_array();
	for (size_t i = 0; i < m->n; i++)
		json_array_append_new(m->e[i].kind == 'i' ? idps : svcs,
		                      entity_json(m, &m->e[i], c->cfg->nloas));
	char now[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "from", from, "to", to, "generated", now,
	                 "levels", levels_json(c->cfg), "idps", idps, "services", svcs);
}

static int load(ctl *c, model *m)
{
	store *st = ctl_store(c);
	if (!st)
		return -1;
	for (size_t i = 0; i < c->cfg->nidps; i++)
		if (!find(m, 'i', c->cfg->idps[i].id, c->cfg->idps[i].display_name))
			return -1;
	for (size_t i = 0; i < c->cfg->nservices; i++)
		if (!find(m, 's', c->cfg->services[i].client_id, c->cfg->services[i].name))
			return -1;
	if (!find(m, 's', "other", "Services not in the config file"))
		return -1;
	return metrics_hourly_iter(st, gather, m) < 0 ? -1 : 0;
}

static int print(FILE *f, const json_t *r, const char *format)
{
	if (strcmp(format, "md") == 0)
		return report_markdown(f, r);
	if (strcmp(format, "csv") == 0)
		return report_csv(f, r);
	if (strcmp(format, "html") == 0)
		return report_html(f, r);
	char *s = json_dumps(r, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	if (!s)
		return -1;
	fprintf(f, "%s\n", s);
	free(s);
	return 0;
}

int cmd_report(ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
	                                     {"to", required_argument, NULL, 't'},
	                                     {"format", required_argument, NULL, 'o'},
	                                     {NULL, 0, NULL, 0}};
	const char *from = NULL, *to = NULL, *format = c->json ? "json" : "md";
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'f')
			from = optarg;
		else if (o == 't')
			to = optarg;
		else if (o == 'o')
			format = optarg;
		else
			return ctl_usage("report", "unknown option");
	}
	int64_t fd = from ? day_of(from) : -1, td = to ? day_of(to) : -1;
	if (optind != argc || fd < 0 || td < 0 || strlen(from) != 10 || strlen(to) != 10)
		return ctl_usage("report", "--from and --to are dates, YYYY-MM-DD");
	if (td < fd || td - fd >= MAX_DAYS)
		return ctl_usage("report", "--to must be on or after --from, within %d days",
		                 MAX_DAYS);
	if (strcmp(format, "md") && strcmp(format, "csv") && strcmp(format, "json") &&
	    strcmp(format, "html"))
		return ctl_usage("report", "--format is md, csv, json or html");
	model m = {.from_day = fd, .ndays = td - fd + 1};
	int rc = load(c, &m);
	json_t *r = rc ? NULL : build(c, &m, from, to);
	for (size_t i = 0; i < m.n; i++)
		free(m.e[i].days);
	free(m.e);
	if (!r)
		return ctl_fail("cannot read the hourly aggregates from the store");
	rc = print(stdout, r, format);
	json_decref(r);
	return rc || fflush(stdout) ? ctl_fail("cannot write the report") : CTL_OK;
}
