/* jose.h — the adapter host's JWS verification against a JWK Set (jose.c), as the hub's own tests
 * and fuzz targets call it; adapters reach it through idhub_services.jws_verify. */
#ifndef IDHUB_IDP_JOSE_H
#define IDHUB_IDP_JOSE_H
#include "../util/arena.h"
#include <jansson.h>

/* Verifies compact JWS token (at most max bytes) against jwks ({"keys":[...]}) under the alg
 * allow-list algs (NULL-terminated) and the kid rules of idhub_jws_check, without any refetch.
 * On 0, *payload is the payload object (json_decref it); -1 with why filled, what naming the
 * token in it ("ID token"). */
int jose_verify_set(const json_t *jwks, arena *a, const char *const *algs, size_t max,
                    const char *what, const char *token, json_t **payload, char *why, size_t wl);

#endif
