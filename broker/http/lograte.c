/* lograte.c — refusal counts logged once per interval (see lograte.h). */
#include "lograte.h"
#include "../util/log.h"

void log_rate_refused(log_rate *r, int64_t now, const char *what)
{
	atomic_fetch_add(&r->pending, 1);
	int64_t next = atomic_load(&r->next);
	if (now < next || !atomic_compare_exchange_strong(&r->next, &next, now + LOG_RATE_INTERVAL))
		return; /* within the interval, or another thread is writing this line */
	unsigned long n = atomic_exchange(&r->pending, 0);
	if (n)
		log_warn("%s: %lu refused since the last report (at most one line per %d s)", what,
		         n, LOG_RATE_INTERVAL);
}
