/* code.h — the authorization-code record in NS_CODE and its redeemed tombstone.
 *
 * A code is redeemed by store_swap-ing its record for a tombstone that names the access token
 * issued (one transaction): a second redemption finds the tombstone, is refused, and revokes that
 * token. */
#ifndef IDHUB_CODE_H
#define IDHUB_CODE_H
#include "../util/arena.h"
#include <jansson.h>
#include <stdint.h>

typedef struct code_record {
	const char *client_id, *redirect_uri, *code_challenge, *nonce, *scope, *sub, *idp;
	int loa;
	int64_t auth_time, issued;
	json_t *claims; /* released identity claims (borrowed reference in code_record_json) */
	/* tombstone only */
	int redeemed;
	const char *jti;
} code_record;

/* Serialises a record (malloc'd JSON; free()). */
char *code_record_json(const code_record *c);
/* A tombstone for a code redeemed by the access token jti (malloc'd JSON). */
char *code_tombstone_json(const char *client_id, const char *jti);
/* Parses either kind; strings are arena copies, claims a new reference (json_decref). 0 or -1. */
int code_record_parse(arena *a, const char *json, size_t len, code_record *out);

#endif
