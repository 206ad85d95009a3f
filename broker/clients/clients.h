/* clients.h — the services (relying parties) the hub serves. Config-file entries are declarative
 * and win; services registered with idhubctl live in the store (NS_CLIENTS) as JSON records and are
 * read per request, so a registration or a secret rotation takes effect without a restart. A
 * client_id in the config file cannot be registered, changed or removed through the store. */
#ifndef IDHUB_CLIENTS_H
#define IDHUB_CLIENTS_H
#include "../config/config.h"
#include "../store/store.h"
#include "../util/arena.h"
#include <jansson.h>

/* Parses a stored record into an arena-allocated service_conf, validating it as the config file
 * would (redirect URIs, algorithm, method, levels). NULL with a reason in why when invalid. */
service_conf *client_record_parse(arena *a, const hub_conf *cfg, const char *json, size_t len,
                                  char *why, size_t whylen);
/* The record of svc (secrets only as hashes). New reference. */
json_t *client_record_json(const hub_conf *cfg, const service_conf *svc);
/* The service with client_id: the config file's, else the store's; NULL if neither. */
const service_conf *clients_lookup(const hub_conf *cfg, store *s, arena *a, const char *client_id);

#endif
