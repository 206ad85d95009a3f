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
	const char *sid; /* the session's id for this service (OIDC Back-Channel Logout §2.1) */
	const char *upstream_id; /* the upstream assertion's ID, for the audit log; may be NULL */
	int loa;
	int64_t auth_time, issued;
	int64_t session_expires; /* the hub session's absolute end: caps online refresh tokens */
	/* code_challenge and nonce are NULL when the service's policy let the request omit them */
	json_t *claims;    /* claims released to userinfo (borrowed in code_record_json) */
	json_t *id_claims; /* claims released in the ID token (borrowed in code_record_json) */
	/* tombstone only */
	int redeemed;
	const char *jti;
} code_record;

/* Serialises a record (malloc'd JSON; free()). */
char *code_record_json(const code_record *c);
/* A tombstone for a code redeemed by the access token jti (malloc'd JSON). */
char *code_tombstone_json(const char *client_id, const char *jti);
/* Parses either kind; strings are arena copies, claims and id_claims new references (release
 * with code_record_release). 0 or -1. */
int code_record_parse(arena *a, const char *json, size_t len, code_record *out);
/* Drops a parsed record's claim references. */
void code_record_release(code_record *c);

#endif
