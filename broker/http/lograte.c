/* lograte.c — refusal counts logged once per interval (see lograte.h). */
#include "lograte.h"
#include "../util/log.h"

int log_rate_take(log_rate *r, int64_t now, unsigned long *count)
{
	atomic_fetch_add(&r->pending, 1);
	int64_t next = atomic_load(&r->next);
	if (now < next || !atomic_compare_exchange_strong(&r->next, &next, now + LOG_RATE_INTERVAL))
		return 0; /* within the interval, or another thread is writing this line */
	*count = atomic_exchange(&r->pending, 0);
	return *count != 0;
}

void log_rate_refused(log_rate *r, int64_t now, const char *what)
{
	unsigned long n;
	if (log_rate_take(r, now, &n))
		log_warn("%s: %lu refused since the last report (at most one line per %d s)", what,
		         n, LOG_RATE_INTERVAL);
}
