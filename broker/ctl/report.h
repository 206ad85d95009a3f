/* report.h — `idhubctl report`: the transparency report from the hourly aggregates in the store
 * (broker/metrics/hourly.h). cmd_report.c builds the report as JSON; report_format.c renders it as
 * Markdown, CSV or one self-contained HTML page. */
#ifndef IDHUB_CTL_REPORT_H
#define IDHUB_CTL_REPORT_H
#include "ctl.h"
#include <jansson.h>
#include <stdio.h>

#define HELP_REPORT                                                                                \
	"usage: idhubctl report --from YYYY-MM-DD --to YYYY-MM-DD [--format md|csv|json|html]\n"   \
	"       the transparency report for the days from..to (UTC, inclusive): per IdP "          \
	"journeys\n"                                                                               \
	"       started, completed, completion rate, median and p95 time at the IdP, failures "    \
	"by\n"                                                                                     \
	"       reason; per service sign-ins, new and returning citizens, levels; daily series.\n"

int cmd_report(ctl *c, int argc, char **argv);

/* Renderers of the report JSON (the shape cmd_report.c documents); 0 or -1. */
int report_markdown(FILE *f, const json_t *r);
int report_csv(FILE *f, const json_t *r);
int report_html(FILE *f, const json_t *r);

#endif
