/* budget.c — journeys created per minute per source (see budget.h; http_journey_budget in
 * http.h is its handlers' side). */
#include "budget.h"
#include "http.h"
#include <time.h>

enum { BUDGET_BUCKETS = 2048 }; /* 16384 sources tracked at once, about 600 KiB */

int http_budget_init(http_budget *b, unsigned per_minute)
{
	b->per_minute = per_minute;
	b->t = per_minute ? srctab_new(BUDGET_BUCKETS) : NULL;
	return per_minute && !b->t ? -1 : 0;
}

void http_budget_fini(http_budget *b)
{
	srctab_free(b->t);
	b->t = NULL;
}

int http_journey_budget(const http_req *r, int64_t now)
{
	http_budget *b = r->budget;
	if (!b || !b->t || !r->source)
		return 0;
	http_addr src = http_addr_source(&r->source_addr);
	if (srctab_spend(b->t, &src, now, b->per_minute) == 0)
		return 0;
	log_rate_refused(
	    &b->refused, (int64_t)time(NULL),
	    "journey: new journeys over the per-source budget (hub.journeys_per_minute)");
	return -1;
}
