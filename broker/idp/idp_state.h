/* idp_state.h — the operator's switches per IdP, kept in the store (NS_IDP_STATE) so idhubctl can
 * change them under a running daemon: enabled or disabled (overriding the config), a "temporarily
 * unavailable" flag, and a daily availability window in UTC. These are the hub-level eligibility
 * rules the Verify hub had: the picker shows only the IdPs available now. */
#ifndef IDHUB_IDP_STATE_H
#define IDHUB_IDP_STATE_H
#include "../store/store.h"
#include <jansson.h>
#include <stdint.h>

typedef struct idp_state {
	int enabled;                /* -1: as the config says; 0 or 1: the operator's override */
	int unavailable;            /* temporarily unavailable */
	int window_from, window_to; /* minutes after 00:00 UTC; -1: always */
	char note[160];             /* shown to operators, not citizens */
	int64_t updated;
} idp_state;

/* Reads the state of IdP id; defaults (no override, available, no window) when none is stored. */
void idp_state_get(store *s, const char *id, idp_state *out);
int idp_state_put(store *s, const char *id, const idp_state *st);
json_t *idp_state_json(const idp_state *st);
/* Whether the IdP may be offered now, given its config's enabled flag. */
int idp_state_offerable(const idp_state *st, int config_enabled, int64_t now);
/* Parses "HH:MM-HH:MM" into minutes; 0 or -1. */
int idp_state_parse_window(const char *s, int *from, int *to);

#endif
