/* report_format.c — the transparency report (cmd_report.c's JSON) as Markdown and as CSV (one
 * figure per line); the HTML page is report_html.c's. */
#include "report.h"
#include <string.h>

static const char *const reasons[] = {"cancelled",       "level_too_low", "invalid_assertion",
                                      "idp_unavailable", "expired",       "busy"};
static const char *const reason_titles[] = {"Cancelled",       "Level too low", "Invalid assertion",
                                            "IdP unavailable", "Expired",       "Hub busy"};
#define NREASONS 6

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

static long long num(const json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* A figure as text: an integer, a real with one decimal (and a unit), or "-" for null. */
static void fig(FILE *f, const json_t *v, const char *unit)
{
	if (json_is_integer(v))
		fprintf(f, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		fprintf(f, "%.1f%s", json_real_value(v), unit);
	else
		fputs("-", f);
}

/* ---- Markdown ------------------------------------------------------------------------------ */

static void md_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (strchr("|\\*_`[]<>#", *s))
			fputc('\\', f);
		fputc(*s == '\n' ? ' ' : *s, f);
	}
}

static void md_idp_row(FILE *f, const json_t *x, const char *first)
{
	fputs("| ", f);
	md_text(f, first);
	fprintf(f, " | %lld | %lld | ", num(x, "started"), num(x, "completed"));
	fig(f, json_object_get(x, "completion_rate_percent"), "%");
	fputs(" | ", f);
	fig(f, json_object_get(x, "median_seconds_at_idp"), " s");
	fputs(" | ", f);
	fig(f, json_object_get(x, "p95_seconds_at_idp"), " s");
	for (int w = 0; w < NREASONS; w++)
		fprintf(f, " | %lld", num(json_object_get(x, "failures"), reasons[w]));
	fputs(" |\n", f);
}

static void md_idp_head(FILE *f, const char *first)
{
	fprintf(f,
	        "| %s | Journeys started | Completed | Completion rate | Median time at the IdP "
	        "| 95th percentile time at the IdP",
	        first);
	for (int w = 0; w < NREASONS; w++)
		fprintf(f, " | %s", reason_titles[w]);
	fputs(" |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n", f);
}

static void md_svc_head(FILE *f, const json_t *r, const char *first)
{
	fprintf(f, "| %s | Journeys started | Sign-ins | New citizens | Returning citizens", first);
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(r, "levels"), i, l)
	    fprintf(f, " | Level %s", str(l, "name"));
	fputs(" |\n|---|---:|---:|---:|---:", f);
	for (i = 0; i < json_array_size(json_object_get(r, "levels")); i++)
		fputs("|---:", f);
	fputs("|\n", f);
}

static void md_svc_row(FILE *f, const json_t *r, const json_t *x, const char *first)
{
	fputs("| ", f);
	md_text(f, first);
	fprintf(f, " | %lld | %lld | %lld | %lld", num(x, "journeys"), num(x, "signins"),
	        num(x, "new"), num(x, "returning"));
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(r, "levels"), i, l)
	{
		char k[16];
		snprintf(k, sizeof k, "%lld", num(l, "level"));
		fprintf(f, " | %lld", num(json_object_get(x, "levels"), k));
	}
	fputs(" |\n", f);
}

static void md_daily(FILE *f, const json_t *r, const json_t *e, int idp)
{
	fputs("\n### ", f);
	md_text(f, str(e, "name"));
	fputs(" (", f);
	md_text(f, str(e, "id"));
	fputs("): daily\n\n", f);
	if (idp)
		md_idp_head(f, "Date");
	else
		md_svc_head(f, r, "Date");
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(e, "daily"), i, d)
	{
		if (idp)
			md_idp_row(f, d, str(d, "date"));
		else
			md_svc_row(f, r, d, str(d, "date"));
	}
}

int report_markdown(FILE *f, const json_t *r)
{
	fprintf(f, "# Transparency report, %s to %s\n\n", str(r, "from"), str(r, "to"));
	fprintf(f,
	        "Generated %s. Days are in UTC. The figures are counts of sign-in journeys; they "
	        "hold no personal data. Times at the identity provider are estimated from fixed "
	        "buckets, for completed journeys.\n\n## Identity providers\n\n",
	        str(r, "generated"));
	md_idp_head(f, "Identity provider");
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(r, "idps"), i, e) md_idp_row(f, e, str(e, "id"));
	fputs("\n## Services\n\n", f);
	md_svc_head(f, r, "Service");
	json_array_foreach(json_object_get(r, "services"), i, e) md_svc_row(f, r, e, str(e, "id"));
	fputs("\n## Daily figures\n", f);
	json_array_foreach(json_object_get(r, "idps"), i, e) md_daily(f, r, e, 1);
	json_array_foreach(json_object_get(r, "services"), i, e) md_daily(f, r, e, 0);
	return 0;
}

/* ---- CSV ----------------------------------------------------------------------------------- */

static void csv_field(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_line(FILE *f, const char *section, const json_t *e, const char *date,
                     const char *measure, const json_t *v)
{
	fprintf(f, "%s,", section);
	csv_field(f, str(e, "id"));
	fprintf(f, ",%s,%s,", date, measure);
	fig(f, v, "");
	fputs("\n", f);
}

static void csv_figures(FILE *f, const char *section, const json_t *e, const json_t *x,
                        const char *date)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)x, k, v)
	{
		if (!strcmp(k, "id") || !strcmp(k, "name") || !strcmp(k, "daily") ||
		    !strcmp(k, "date"))
			continue;
		if (json_is_object(v)) { /* failures or levels */
			const char *k2;
			json_t *v2;
			json_object_foreach(v, k2, v2)
			{
				char m[64];
				snprintf(m, sizeof m, "%s_%s",
				         strcmp(k, "failures") ? "level" : "failed", k2);
				csv_line(f, section, e, date, m, v2);
			}
		} else {
			csv_line(f, section, e, date, k, v);
		}
	}
}

int report_csv(FILE *f, const json_t *r)
{
	fputs("section,id,date,measure,value\n", f);
	static const char *const sections[2][2] = {{"idps", "idp"}, {"services", "service"}};
	for (int s = 0; s < 2; s++) {
		size_t i, j;
		json_t *e, *d;
		json_array_foreach(json_object_get(r, sections[s][0]), i, e)
		{
			csv_figures(f, sections[s][1], e, e, "all");
			json_array_foreach(json_object_get(e, "daily"), j, d)
			    csv_figures(f, sections[s][1], e, d, str(d, "date"));
		}
	}
	return 0;
}
