/* report_html.c — the transparency report as one self-contained HTML page: inline CSS in a plain
 * GOV.UK-like style, server-made SVG bar charts (role="img" with a title and a description), each
 * followed by a table of the same numbers with captions and header cells, and no JavaScript. */
#include "report.h"
#include <stdlib.h>
#include <string.h>

static const char *const reasons[] = {"cancelled",       "level_too_low", "invalid_assertion",
                                      "idp_unavailable", "expired",       "busy"};
static const char *const reason_titles[] = {"Cancelled",       "Level too low", "Invalid assertion",
                                            "IdP unavailable", "Expired",       "Hub busy"};
#define NREASONS 6

static const char css[] =
    "body{margin:0;font-family:Arial,Helvetica,sans-serif;color:#0b0c0c;background:#fff;"
    "font-size:19px;line-height:1.32}"
    ".header{background:#0b0c0c;color:#fff;padding:10px 0;border-bottom:10px solid #1d70b8}"
    ".header p{margin:0;font-weight:700;font-size:24px}"
    ".width{max-width:960px;margin:0 15px}@media(min-width:990px){.width{margin:0 auto}}"
    "main{padding:20px 0 40px}h1{font-size:36px;margin:30px 0 20px}h2{font-size:27px;margin:40px "
    "0 15px}h3{font-size:22px;margin:30px 0 10px}"
    "table{border-collapse:collapse;width:100%;margin:0 0 30px;font-size:16px}"
    "caption{text-align:left;font-weight:700;font-size:19px;padding-bottom:10px}"
    "th,td{border-bottom:1px solid #b1b4b6;padding:8px 10px 8px 0;text-align:left;"
    "vertical-align:top}td.n,th.n{text-align:right}"
    ".table-wrap{overflow-x:auto}.table-wrap:focus{outline:3px solid #fd0}"
    "figure{margin:0 0 15px}figcaption{font-size:16px;color:#505a5f;margin-top:5px}"
    ".lead{font-size:19px;color:#0b0c0c}.key span{display:inline-block;width:14px;height:14px;"
    "margin:0 6px 0 12px;vertical-align:middle}"
    "footer{border-top:1px solid #b1b4b6;padding:20px 0;font-size:16px;color:#505a5f}";

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static long long num(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void esc(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
}

static void fig(FILE *f, const json_t *v, const char *unit)
{
	if (json_is_integer(v))
		fprintf(f, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		fprintf(f, "%.1f%s", json_real_value(v), unit);
	else
		fputs("-", f);
}

/* A grouped bar chart of two series over n labelled points. The numbers are in the table that
 * follows it, which the description says. */
typedef struct chart {
	const char *id, *title, *what[2];
	const char **labels;
	long long *v[2];
	size_t n;
} chart;

static void svg_chart(FILE *f, const chart *c)
{
	static const char *const colour[2] = {"#1d70b8", "#00703c"};
	long long max = 1;
	for (size_t i = 0; i < c->n; i++)
		for (int s = 0; s < 2; s++)
			if (c->v[s][i] > max)
				max = c->v[s][i];
	size_t slot = c->n ? (size_t)(880 / c->n) : 880;
	if (slot > 150)
		slot = 150; /* a few points: bars of a readable width, not a wall */
	size_t bar = slot / 3 ? slot / 3 : 1;
	fprintf(f,
	        "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 960 260\" "
	        "width=\"100%%\" role=\"img\" aria-labelledby=\"%s-t %s-d\"><title id=\"%s-t\">",
	        c->id, c->id, c->id);
	esc(f, c->title);
	fprintf(f,
	        "</title><desc id=\"%s-d\">Bars of %s and %s; the numbers are in the table "
	        "below.</desc>",
	        c->id, c->what[0], c->what[1]);
	fprintf(f,
	        "<line x1=\"60\" y1=\"220\" x2=\"950\" y2=\"220\" stroke=\"#0b0c0c\"/>"
	        "<text x=\"55\" y=\"24\" text-anchor=\"end\" font-size=\"14\" fill=\"#0b0c0c\">"
	        "%lld</text><text x=\"55\" y=\"220\" text-anchor=\"end\" font-size=\"14\" "
	        "fill=\"#0b0c0c\">0</text>",
	        max);
	for (size_t i = 0; i < c->n; i++) {
		size_t x = 70 + i * slot;
		for (int s = 0; s < 2; s++) {
			long long h = c->v[s][i] * 200 / max;
			fprintf(f,
			        "<rect x=\"%zu\" y=\"%lld\" width=\"%zu\" height=\"%lld\" "
			        "fill=\"%s\"/>",
			        x + (size_t)s * bar, 220 - h, bar, h, colour[s]);
		}
		if (c->n <= 16 || i % (c->n / 8 + 1) == 0) {
			fprintf(f, "<text x=\"%zu\" y=\"240\" font-size=\"13\" fill=\"#0b0c0c\">",
			        x);
			esc(f, c->labels[i]);
			fputs("</text>", f);
		}
	}
	fprintf(f,
	        "</svg><figcaption class=\"key\" aria-hidden=\"true\"><span "
	        "style=\"background:%s\"></span>%s<span style=\"background:%s\"></span>%s"
	        "</figcaption></figure>\n",
	        colour[0], c->what[0], colour[1], c->what[1]);
}

static void idp_head(FILE *f, const char *caption, const char *first)
{
	fputs("<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"", f);
	esc(f, caption);
	fputs("\"><table><caption>", f);
	esc(f, caption);
	fprintf(f,
	        "</caption><thead><tr><th scope=\"col\">%s</th><th scope=\"col\" "
	        "class=\"n\">Journeys started</th><th scope=\"col\" class=\"n\">Completed</th>"
	        "<th scope=\"col\" class=\"n\">Completion rate</th><th scope=\"col\" "
	        "class=\"n\">Median time at the IdP</th><th scope=\"col\" class=\"n\">95th "
	        "percentile time at the IdP</th>",
	        first);
	for (int w = 0; w < NREASONS; w++)
		fprintf(f, "<th scope=\"col\" class=\"n\">%s</th>", reason_titles[w]);
	fputs("</tr></thead><tbody>\n", f);
}

static void idp_row(FILE *f, const json_t *x, const char *first)
{
	fputs("<tr><th scope=\"row\">", f);
	esc(f, first);
	fprintf(f, "</th><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">",
	        num(x, "started"), num(x, "completed"));
	fig(f, json_object_get(x, "completion_rate_percent"), "%");
	fputs("</td><td class=\"n\">", f);
	fig(f, json_object_get(x, "median_seconds_at_idp"), " s");
	fputs("</td><td class=\"n\">", f);
	fig(f, json_object_get(x, "p95_seconds_at_idp"), " s");
	fputs("</td>", f);
	for (int w = 0; w < NREASONS; w++)
		fprintf(f, "<td class=\"n\">%lld</td>",
		        num(json_object_get(x, "failures"), reasons[w]));
	fputs("</tr>\n", f);
}

static void svc_head(FILE *f, const json_t *r, const char *caption, const char *first)
{
	fputs("<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"", f);
	esc(f, caption);
	fputs("\"><table><caption>", f);
	esc(f, caption);
	fprintf(f,
	        "</caption><thead><tr><th scope=\"col\">%s</th><th scope=\"col\" "
	        "class=\"n\">Journeys started</th><th scope=\"col\" class=\"n\">Sign-ins</th>"
	        "<th scope=\"col\" class=\"n\">New citizens</th><th scope=\"col\" "
	        "class=\"n\">Returning citizens</th>",
	        first);
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(r, "levels"), i, l)
	{
		fputs("<th scope=\"col\" class=\"n\">Level ", f);
		esc(f, str(l, "name"));
		fputs("</th>", f);
	}
	fputs("</tr></thead><tbody>\n", f);
}

static void svc_row(FILE *f, const json_t *r, const json_t *x, const char *first)
{
	fputs("<tr><th scope=\"row\">", f);
	esc(f, first);
	fprintf(f,
	        "</th><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
	        "<td class=\"n\">%lld</td>",
	        num(x, "journeys"), num(x, "signins"), num(x, "new"), num(x, "returning"));
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(r, "levels"), i, l)
	{
		char k[16];
		snprintf(k, sizeof k, "%lld", num(l, "level"));
		fprintf(f, "<td class=\"n\">%lld</td>", num(json_object_get(x, "levels"), k));
	}
	fputs("</tr>\n", f);
}

static const char table_end[] = "</tbody></table></div>\n";

/* An entity's daily chart and table; n: its index (for unique element ids). */
static void daily(FILE *f, const json_t *r, const json_t *e, int idp, size_t n)
{
	const json_t *days = json_object_get(e, "daily");
	size_t nd = json_array_size(days), i;
	const char **labels = calloc(nd + 1, sizeof *labels);
	long long *a = calloc(nd + 1, sizeof *a), *b = calloc(nd + 1, sizeof *b);
	json_t *d;
	fputs("<h3>", f);
	esc(f, str(e, "name"));
	fputs(" (", f);
	esc(f, str(e, "id"));
	fputs(")</h3>\n", f);
	if (labels && a && b) {
		json_array_foreach(days, i, d)
		{
			const char *dt = str(d, "date");
			labels[i] = strlen(dt) == 10 ? dt + 5 : dt; /* MM-DD */
			a[i] = num(d, idp ? "started" : "new");
			b[i] = num(d, idp ? "completed" : "returning");
		}
		char id[32], title[400];
		snprintf(id, sizeof id, "%s%zu", idp ? "idp" : "svc", n);
		snprintf(title, sizeof title, "%s by day: %s", str(e, "name"),
		         idp ? "journeys started and completed" : "new and returning citizens");
		chart c = {id,
		           title,
		           {idp ? "journeys started" : "new citizens",
		            idp ? "completed" : "returning citizens"},
		           labels,
		           {a, b},
		           nd};
		svg_chart(f, &c);
	}
	free(labels), free(a), free(b);
	char cap[400];
	snprintf(cap, sizeof cap, "%s (%s), by day", str(e, "name"), str(e, "id"));
	if (idp)
		idp_head(f, cap, "Date");
	else
		svc_head(f, r, cap, "Date");
	json_array_foreach(days, i, d)
	{
		if (idp)
			idp_row(f, d, str(d, "date"));
		else
			svc_row(f, r, d, str(d, "date"));
	}
	fputs(table_end, f);
}

static void summary_chart(FILE *f, const json_t *list, int idp)
{
	size_t n = json_array_size(list), i;
	const char **labels = calloc(n + 1, sizeof *labels);
	long long *a = calloc(n + 1, sizeof *a), *b = calloc(n + 1, sizeof *b);
	json_t *e;
	if (labels && a && b) {
		json_array_foreach(list, i, e)
		{
			labels[i] = str(e, "id");
			a[i] = num(e, idp ? "started" : "new");
			b[i] = num(e, idp ? "completed" : "returning");
		}
		chart c = {idp ? "idps" : "svcs",
		           idp ? "Journeys started and completed, by identity provider"
		               : "New and returning citizens, by service",
		           {idp ? "journeys started" : "new citizens",
		            idp ? "completed" : "returning citizens"},
		           labels,
		           {a, b},
		           n};
		svg_chart(f, &c);
	}
	free(labels), free(a), free(b);
}

int report_html(FILE *f, const json_t *r)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta "
	      "name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>",
	      f);
	fprintf(f, "Transparency report, %s to %s</title><style>%s</style></head><body>\n",
	        str(r, "from"), str(r, "to"), css);
	fputs("<header class=\"header\"><div class=\"width\"><p>idhub</p></div></header>\n"
	      "<main class=\"width\" id=\"main\">\n",
	      f);
	fprintf(f, "<h1>Transparency report, %s to %s</h1>\n", str(r, "from"), str(r, "to"));
	fputs("<p class=\"lead\">How well each identity provider served citizens, and how citizens "
	      "signed in to each service. Days are in UTC. The figures are counts of sign-in "
	      "journeys and hold no personal data. Times at the identity provider are estimated "
	      "from fixed buckets, for completed journeys.</p>\n<h2>Identity providers</h2>\n",
	      f);
	const json_t *idps = json_object_get(r, "idps"), *svcs = json_object_get(r, "services");
	size_t i;
	json_t *e;
	summary_chart(f, idps, 1);
	idp_head(f, "Identity providers over the period", "Identity provider");
	json_array_foreach(idps, i, e) idp_row(f, e, str(e, "id"));
	fputs(table_end, f);
	fputs("<h2>Services</h2>\n", f);
	summary_chart(f, svcs, 0);
	svc_head(f, r, "Services over the period", "Service");
	json_array_foreach(svcs, i, e) svc_row(f, r, e, str(e, "id"));
	fputs(table_end, f);
	fputs("<h2>Daily figures</h2>\n", f);
	json_array_foreach(idps, i, e) daily(f, r, e, 1, i);
	json_array_foreach(svcs, i, e) daily(f, r, e, 0, i);
	fprintf(f,
	        "</main>\n<footer><div class=\"width\">Generated %s by idhubctl report.</div>"
	        "</footer>\n</body></html>\n",
	        str(r, "generated"));
	return 0;
}
