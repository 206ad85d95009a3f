/* srctab.h — a fixed-size table of counters per source address, for the per-source limits:
 * open connections, and journeys created per minute. Its memory is fixed at creation: a flood of
 * distinct addresses evicts idle or small entries but never grows it. Thread-safe (one mutex).
 *
 * The table is set-associative (buckets of SRCTAB_WAYS entries, bucket chosen by a keyed hash
 * with a per-process random key, so a client cannot aim its addresses at one bucket). */
#ifndef IDHUB_SRCTAB_H
#define IDHUB_SRCTAB_H
#include "source.h"
#include <stdint.h>

typedef struct srctab srctab;

/* A table of nbuckets * SRCTAB_WAYS entries. NULL on error. */
srctab *srctab_new(size_t nbuckets);
void srctab_free(srctab *t);

/* ---- open connections: exact counts; a live entry (count > 0) is never evicted ---- */

/* Current open connections of source a. */
unsigned srctab_conn_count(srctab *t, const http_addr *a);
/* Counts one more open connection of a. 1 when counted, 0 when a's bucket is full of live
 * sources (then it is not counted, and must not be released). */
int srctab_conn_add(srctab *t, const http_addr *a);
/* Releases a connection counted by srctab_conn_add. */
void srctab_conn_release(srctab *t, const http_addr *a);

/* ---- events per minute (fixed one-minute windows) ---- */

/* Counts one event for a in the minute of now (unix seconds) unless a already had limit events
 * in it. 0 when counted, -1 when over the budget. A source evicted under a flood of other
 * addresses starts again from zero: a client with that many addresses is the global budget's
 * concern, not this one's. */
int srctab_spend(srctab *t, const http_addr *a, int64_t now, unsigned limit);

#endif
