/* budget.h — the per-source budget of journeys created per minute (hub.journeys_per_minute):
 * a request's source (http_req.source_addr, see source.h) may create that many journeys in each
 * minute; above it, new journeys are refused until the next minute. Bounded memory (srctab.h). */
#ifndef IDHUB_BUDGET_H
#define IDHUB_BUDGET_H
#include "lograte.h"
#include "srctab.h"

typedef struct http_budget {
	srctab *t;
	unsigned per_minute; /* 0: no budget */
	log_rate refused;
} http_budget;

/* 0, or -1 when out of memory. */
int http_budget_init(http_budget *b, unsigned per_minute);
void http_budget_fini(http_budget *b);

#endif
