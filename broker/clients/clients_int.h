/* clients_int.h — inside broker/clients/ only: the cache of store-registered services. */
#ifndef IDHUB_CLIENTS_INT_H
#define IDHUB_CLIENTS_INT_H
#include "../store/store.h"
#include <stddef.h>

/* As store_get(s, NS_CLIENTS, id, …) for a NUL-terminated id: 0 and a malloc'd copy of the
 * record, or the store's error. With a change feed (store_change_epoch) the record comes from this
 * process's cache while no service changed anywhere; thread-safe. */
int clients_cache_get(store *s, const char *id, void **val, size_t *vlen);

#endif
