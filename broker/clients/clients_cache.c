/* clients_cache.c — services registered with idhubctl, cached per process while the store's change
 * feed reports no change (several nodes on PostgreSQL: LISTEN/NOTIFY), so a service look-up is not
 * a query per request; a registration, update or removal on any node reaches every node within a
 * second. Without a feed (LMDB) every look-up reads the store, as before. Only records that exist
 * are cached (unknown client_ids, which anyone can send, never fill it), in a few slots. */
#include "clients_int.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { SLOTS = 64, ID_MAX = 128 };

static struct slot {
	const store *s;
	uint64_t epoch;
	char id[ID_MAX + 1];
	char *val;
	size_t len;
} slots[SLOTS];
static unsigned next_slot;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static int copy_out(const struct slot *sl, void **val, size_t *vlen)
{
	char *p = malloc(sl->len + 1);
	if (!p)
		return STORE_ERR;
	memcpy(p, sl->val, sl->len + 1);
	*val = p;
	*vlen = sl->len;
	return STORE_OK;
}

int clients_cache_get(store *s, const char *id, void **val, size_t *vlen)
{
	size_t idlen = strlen(id);
	/* read before the store: a change committed after it advances the counter, so the record
	 * cached below is not used again */
	uint64_t ep = store_change_epoch(s);
	if (ep && idlen <= ID_MAX) {
		int rc = STORE_NOTFOUND;
		pthread_mutex_lock(&mu);
		for (int i = 0; i < SLOTS; i++)
			if (slots[i].val && slots[i].s == s && slots[i].epoch == ep &&
			    !strcmp(slots[i].id, id)) {
				rc = copy_out(&slots[i], val, vlen);
				break;
			}
		pthread_mutex_unlock(&mu);
		if (rc == STORE_OK)
			return rc;
	}
	int rc = store_get(s, NS_CLIENTS, id, idlen, val, vlen, NULL);
	if (rc != STORE_OK || !ep || idlen > ID_MAX)
		return rc;
	char *keep = malloc(*vlen + 1);
	if (!keep)
		return rc;
	memcpy(keep, *val, *vlen + 1);
	pthread_mutex_lock(&mu);
	struct slot *sl = NULL;
	for (int i = 0; i < SLOTS && !sl; i++)
		if (slots[i].val && slots[i].s == s && !strcmp(slots[i].id, id))
			sl = &slots[i];
	if (!sl)
		sl = &slots[next_slot++ % SLOTS];
	free(sl->val);
	*sl = (struct slot){.s = s, .epoch = ep, .val = keep, .len = *vlen};
	memcpy(sl->id, id, idlen + 1);
	pthread_mutex_unlock(&mu);
	return rc;
}
