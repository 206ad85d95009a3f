/* audit_heads.c — signing the audit log's tree heads with the hub's keys, and the daemon's
 * periodic head and retention (see audit_heads.h). */
#include "audit_heads.h"
#include "../audit/audit.h"
#include "../util/log.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int audit_signer_pick(const keyring *kr, audit_signer *out)
{
	const signing_key *k = kr ? keyring_current(kr, JWS_ES256) : NULL;
	for (size_t i = 0; kr && !k && i < kr->nkeys; i++)
		if (kr->keys[i].state == KEY_CURRENT)
			k = &kr->keys[i];
	if (!k)
		return -1;
	out->pkey = k->pkey;
	out->alg = k->alg;
	out->kid = k->kid;
	return 0;
}

EVP_PKEY *audit_key_find(void *kr, const char *kid, jws_alg *alg)
{
	const signing_key *k = keyring_find(kr, kid);
	if (!k)
		return NULL;
	*alg = k->alg;
	return k->pkey;
}

int audit_heads_sign(store *s, const keyring *kr, const char *iss, char **err)
{
	audit_signer sg;
	if (audit_signer_pick(kr, &sg)) {
		*err = strdup("no current signing key to sign the audit tree head");
		return -1;
	}
	return audit_tree_head(s, &sg, iss, err);
}

/* Purged per round: a large backlog is worked through over several rounds, so no single
 * transaction grows without bound. */
#define RETAIN_PER_ROUND 10000

struct audit_heads {
	store *s;
	keys_cache *kc;
	char *iss;
	int64_t interval_s, retention_days;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
};

static void tick(audit_heads *ah)
{
	/* the head covers the issuances queued until now */
	audit_flush(ah->s, 1);
	keyring *kr = keys_cache_get(ah->kc);
	char *err = NULL;
	if (audit_heads_sign(ah->s, kr, ah->iss, &err)) {
		log_warn("audit: %s", err ? err : "cannot sign a tree head");
		free(err);
	}
	keyring_unref(kr);
	if (ah->retention_days > 0) {
		long n = audit_retain(ah->s, ah->retention_days, time(NULL), RETAIN_PER_ROUND);
		if (n < 0)
			log_warn("audit: the retention purge failed");
		else if (n > 0)
			log_info("audit: purged %ld records older than %lld days", n,
			         (long long)ah->retention_days);
	}
}

/* Wakes every second to commit the due batch of issuance records; a head (and a retention
 * round) every interval_s, the first at once. */
static void *run(void *arg)
{
	audit_heads *ah = arg;
	int64_t since = ah->interval_s; /* a head at once */
	pthread_mutex_lock(&ah->mu);
	while (!ah->stop) {
		pthread_mutex_unlock(&ah->mu);
		if (since >= ah->interval_s) {
			tick(ah);
			since = 0;
		} else if (audit_flush(ah->s, 0)) {
			log_warn("audit: cannot write the queued token issuance records");
		}
		pthread_mutex_lock(&ah->mu);
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += 1;
		while (!ah->stop && pthread_cond_timedwait(&ah->cv, &ah->mu, &t) == 0)
			;
		since++;
	}
	pthread_mutex_unlock(&ah->mu);
	/* at shutdown nothing queued is left behind */
	audit_flush(ah->s, 1);
	return NULL;
}

audit_heads *audit_heads_start(store *s, keys_cache *kc, const char *iss, int64_t interval_s,
                               int64_t retention_days)
{
	audit_heads *ah = calloc(1, sizeof *ah);
	if (!ah || !(ah->iss = strdup(iss))) {
		free(ah);
		return NULL;
	}
	ah->s = s;
	ah->kc = kc;
	ah->interval_s = interval_s;
	ah->retention_days = retention_days;
	pthread_mutex_init(&ah->mu, NULL);
	pthread_cond_init(&ah->cv, NULL);
	if (pthread_create(&ah->thread, NULL, run, ah)) {
		free(ah->iss);
		free(ah);
		return NULL;
	}
	return ah;
}

void audit_heads_stop(audit_heads *ah)
{
	if (!ah)
		return;
	pthread_mutex_lock(&ah->mu);
	ah->stop = 1;
	pthread_cond_signal(&ah->cv);
	pthread_mutex_unlock(&ah->mu);
	pthread_join(ah->thread, NULL);
	pthread_mutex_destroy(&ah->mu);
	pthread_cond_destroy(&ah->cv);
	free(ah->iss);
	free(ah);
}
