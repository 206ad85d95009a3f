/* claims.h — the adapter host's claim and record services (claims.c), as idhub_services offers
 * them to adapters (attrs_from_json, attrs_from_pairs, record, record_get in
 * include/idhub/adapter.h). */
#ifndef IDHUB_IDP_CLAIMS_H
#define IDHUB_IDP_CLAIMS_H
#include <idhub/adapter.h>

int idp_attrs_from_json(idhub_instance *in, idhub_arena *a, const char *json, const idhub_kv *map,
                        size_t nmap, idhub_identity *out);
int idp_attrs_from_pairs(idhub_instance *in, idhub_arena *a, const idhub_kv *pairs, size_t npairs,
                         const idhub_kv *map, size_t nmap, idhub_identity *out);
const char *idp_record(idhub_arena *a, const idhub_kv *kv, size_t n, size_t max);
const char *idp_record_get(idhub_arena *a, const char *text, const char *name);

#endif
