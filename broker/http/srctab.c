/* srctab.c — the bounded per-source counter table (see srctab.h). */
#include "srctab.h"
#include "../util/random.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { SRCTAB_WAYS = 8 };

typedef struct entry {
	http_addr key;
	int64_t window; /* srctab_spend: the minute counted; unused by connection counts */
	uint32_t count;
	int used;
} entry;

struct srctab {
	pthread_mutex_t mu;
	uint64_t k0, k1;
	size_t nbuckets;
	entry *e;
};

srctab *srctab_new(size_t nbuckets)
{
	srctab *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->nbuckets = nbuckets ? nbuckets : 1;
	t->e = calloc(t->nbuckets * SRCTAB_WAYS, sizeof *t->e);
	unsigned char key[16];
	if (!t->e || random_bytes(key, sizeof key)) {
		free(t->e);
		free(t);
		return NULL;
	}
	memcpy(&t->k0, key, 8);
	memcpy(&t->k1, key + 8, 8);
	pthread_mutex_init(&t->mu, NULL);
	return t;
}

void srctab_free(srctab *t)
{
	if (!t)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t->e);
	free(t);
}

/* A keyed mix of the 16 address bytes (not cryptographic, but its key is secret and random). */
static entry *bucket(srctab *t, const http_addr *a)
{
	uint64_t x, y, h = t->k0;
	memcpy(&x, a->b, 8);
	memcpy(&y, a->b + 8, 8);
	h ^= x * 0x9e3779b97f4a7c15ULL;
	h = (h ^ (h >> 31)) * 0xbf58476d1ce4e5b9ULL;
	h ^= (y ^ t->k1) * 0x94d049bb133111ebULL;
	h = (h ^ (h >> 29)) * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 32;
	return &t->e[(h % t->nbuckets) * SRCTAB_WAYS];
}

static entry *find(entry *b, const http_addr *a)
{
	for (int i = 0; i < SRCTAB_WAYS; i++)
		if (b[i].used && http_addr_eq(&b[i].key, a))
			return &b[i];
	return NULL;
}

unsigned srctab_conn_count(srctab *t, const http_addr *a)
{
	pthread_mutex_lock(&t->mu);
	entry *e = find(bucket(t, a), a);
	unsigned n = e ? e->count : 0;
	pthread_mutex_unlock(&t->mu);
	return n;
}

int srctab_conn_add(srctab *t, const http_addr *a)
{
	pthread_mutex_lock(&t->mu);
	entry *b = bucket(t, a), *e = find(b, a);
	for (int i = 0; !e && i < SRCTAB_WAYS; i++)
		if (!b[i].used) {
			e = &b[i];
			*e = (entry){.key = *a, .used = 1};
		}
	if (e)
		e->count++;
	pthread_mutex_unlock(&t->mu);
	return e != NULL;
}

void srctab_conn_release(srctab *t, const http_addr *a)
{
	pthread_mutex_lock(&t->mu);
	entry *e = find(bucket(t, a), a);
	if (e && e->count && --e->count == 0)
		e->used = 0;
	pthread_mutex_unlock(&t->mu);
}

int srctab_spend(srctab *t, const http_addr *a, int64_t now, unsigned limit)
{
	int64_t minute = now / 60;
	int rc = 0;
	pthread_mutex_lock(&t->mu);
	entry *b = bucket(t, a), *e = find(b, a);
	if (!e) {
		/* a free or stale slot, else evict the smallest count: heavy users stay tracked */
		e = &b[0];
		for (int i = 0; i < SRCTAB_WAYS; i++) {
			if (!b[i].used || b[i].window != minute) {
				e = &b[i];
				break;
			}
			if (b[i].count < e->count)
				e = &b[i];
		}
		*e = (entry){.key = *a, .window = minute, .used = 1};
	}
	if (e->window != minute) {
		e->window = minute;
		e->count = 0;
	}
	if (e->count >= limit)
		rc = -1;
	else
		e->count++;
	pthread_mutex_unlock(&t->mu);
	return rc;
}
