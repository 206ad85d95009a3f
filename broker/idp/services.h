/* services.h — the adapter host's services as the rest of the hub uses them: liboauth2 set-up for
 * the HTTP client, the HTTP client itself, a scoped document cache in the store, the URL check and
 * the file reader (the same ones adapters get through idhub_services, include/idhub/adapter.h). */
#ifndef IDHUB_SERVICES_H
#define IDHUB_SERVICES_H
#include "adapters.h"

/* Initialises liboauth2 (h->oauth2_log) for the HTTP client. Returns 0 or -1. */
int services_init(idp_host *h);
void services_shutdown(idp_host *h);

/* The HTTP client (see idhub_services.http). 0, or -1 on a transport error or timeout. */
int idp_http(idp_host *h, const idhub_http_call *c, int *status, char **body);
/* A cache in the store scoped by name (an IdP id, or "client"): get returns a malloc'd copy or
 * NULL; put returns 0 or -1. */
char *idp_cache_get(idp_host *h, const char *scope, const char *key);
int idp_cache_put(idp_host *h, const char *scope, const char *key, const char *val, int64_t ttl);
/* See idhub_services.url_check, .read_file and .b64_decode (out: len * 3 / 4 + 3 bytes). */
long idp_b64_decode(const char *s, size_t len, uint32_t flags, unsigned char *out);
int idp_url_check(const char *u, uint32_t flags);
char *idp_read_file(const char *path, size_t max, size_t *len);

#endif
