/* schedule.h — the daemon's optional automatic key rotation (hub.key_rotation_days): keeps a next
 * key published for every algorithm and rotates once per period. With several daemons on one store,
 * exactly one of them rotates in each period (a put_new claim on the period number). */
#ifndef IDHUB_KEYS_SCHEDULE_H
#define IDHUB_KEYS_SCHEDULE_H
#include "lifecycle.h"

typedef struct keys_schedule keys_schedule;

/* Starts the scheduler thread (checks every check_s seconds). NULL if days is 0 or on error. */
keys_schedule *keys_schedule_start(store *s, const keys_policy *p, int64_t days, int check_s);
/* One scheduler step, as the thread runs it (exposed for tests): 1 if it rotated, 0 if not. */
int keys_schedule_tick(store *s, const keys_policy *p, int64_t period_s);
void keys_schedule_stop(keys_schedule *ks);

#endif
