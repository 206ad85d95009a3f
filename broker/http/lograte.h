/* lograte.h — refusal logging that a flood cannot turn into a log flood: each kind of refusal is
 * counted, and logged at most once per LOG_RATE_INTERVAL seconds with the count since the last
 * line. Lock-free; a log_rate is zero-initialised and lives as long as what it counts. */
#ifndef IDHUB_LOGRATE_H
#define IDHUB_LOGRATE_H
#include <stdatomic.h>
#include <stdint.h>

enum { LOG_RATE_INTERVAL = 10 };

typedef struct log_rate {
	_Atomic int64_t next;          /* unix time of the next line allowed */
	_Atomic unsigned long pending; /* refusals not yet reported */
} log_rate;

/* Counts one event at time now. 1 when the caller may log it now (once per interval), with the
 * number of events counted since the last line, this one included, in *count; else 0. */
int log_rate_take(log_rate *r, int64_t now, unsigned long *count);

/* Counts one refusal at time now; when the interval has passed, logs a warning
 * "<what>: N refused since the last report". what must be a plain text without '%'. */
void log_rate_refused(log_rate *r, int64_t now, const char *what);

#endif
