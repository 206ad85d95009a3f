/* schedule.c — automatic key rotation in the daemon (see schedule.h). */
#include "schedule.h"
#include "../util/log.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct keys_schedule {
	store *s;
	keys_policy p;
	int64_t period_s;
	int check_s;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
};

/* Who the daemon's own key changes are audited as. */
#define DAEMON_ACTOR "idhub (scheduled, hub.key_rotation_days)"

/* An empty report whose change commits with its audit record. */
static void audited(keys_report *r, const char *what)
{
	memset(r, 0, sizeof *r);
	r->audit_who = DAEMON_ACTOR;
	r->audit_what = what;
}

int keys_schedule_tick(store *s, const keys_policy *p, int64_t period_s)
{
	keys_report r;
	audited(&r, "keys.generate");
	/* a next key is always published ahead, so each rotation can promote at once */
	if (keys_prepare_next(s, &r))
		log_warn("keys: cannot publish the next signing key");
	int64_t period = store_now(s) / period_s;
	char claim[64];
	int n = snprintf(claim, sizeof claim, "keys.rotation.%lld", (long long)period);
	/* the first daemon to claim this period rotates; the claim outlives the period */
	int rc = store_put_new(s, NS_META, claim, (size_t)n, "", 0, period_s * 2);
	if (rc == STORE_EXISTS)
		return 0;
	if (rc) {
		log_warn("keys: cannot claim the rotation of period %lld", (long long)period);
		return 0;
	}
	audited(&r, "keys.rotate");
	if (keys_rotate(s, p, &r)) {
		log_err("keys: scheduled rotation failed");
		return 0;
	}
	for (int i = 0; i < r.n; i++)
		log_info("keys: scheduled rotation: %s %s %s -> %s", r.change[i].alg,
		         r.change[i].kid, r.change[i].from[0] ? r.change[i].from : "(new)",
		         r.change[i].to[0] ? r.change[i].to : "(removed)");
	audited(&r, "keys.purge");
	if (keys_purge(s, p, &r))
		log_warn("keys: scheduled purge of retired keys failed");
	return 1;
}

static void *run(void *arg)
{
	keys_schedule *ks = arg;
	pthread_mutex_lock(&ks->mu);
	while (!ks->stop) {
		pthread_mutex_unlock(&ks->mu);
		keys_schedule_tick(ks->s, &ks->p, ks->period_s);
		pthread_mutex_lock(&ks->mu);
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += ks->check_s;
		while (!ks->stop && pthread_cond_timedwait(&ks->cv, &ks->mu, &t) == 0)
			;
	}
	pthread_mutex_unlock(&ks->mu);
	return NULL;
}

keys_schedule *keys_schedule_start(store *s, const keys_policy *p, int64_t days, int check_s)
{
	if (days <= 0)
		return NULL;
	keys_schedule *ks = calloc(1, sizeof *ks);
	if (!ks)
		return NULL;
	ks->s = s;
	ks->p = *p;
	ks->period_s = days * 86400;
	ks->check_s = check_s;
	pthread_mutex_init(&ks->mu, NULL);
	pthread_cond_init(&ks->cv, NULL);
	if (pthread_create(&ks->thread, NULL, run, ks) != 0) {
		free(ks);
		return NULL;
	}
	return ks;
}

void keys_schedule_stop(keys_schedule *ks)
{
	if (!ks)
		return;
	pthread_mutex_lock(&ks->mu);
	ks->stop = 1;
	pthread_cond_signal(&ks->cv);
	pthread_mutex_unlock(&ks->mu);
	pthread_join(ks->thread, NULL);
	pthread_mutex_destroy(&ks->mu);
	pthread_cond_destroy(&ks->cv);
	free(ks);
}
