/* oidc_int.h — the upstream OpenID Connect adapter's private header: its instance context, its
 * declared settings, the discovery document, and the functions its files offer each other
 * (adapter.c, discovery.c, verify.c). Never included outside this folder. The hub (ABI v2) parses
 * the settings, keeps discovery and the JWKS fresh, and verifies signatures. */
#ifndef IDHUB_OIDC_INT_H
#define IDHUB_OIDC_INT_H
#include <idhub/adapter.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* Upper bounds on what an upstream IdP may send us. */
#define OIDC_MAX_DOC (256 * 1024) /* discovery document, JWKS, token response */
#define OIDC_MAX_TOKEN 16384      /* one ID token */
#define OIDC_MAX_MAP 32           /* entries of acr_map and claim_map */

/* The settings, in the order of the declaration table in adapter.c. */
enum {
	S_ISSUER,
	S_CLIENT_ID,
	S_CLIENT_SECRET,
	S_CLIENT_SECRET_FILE,
	S_TOKEN_AUTH,
	S_PKJWT_ALG,
	S_SCOPES,
	S_ACR_MAP,
	S_UNMAPPED_ACR,
	S_CLAIM_MAP,
	S_CLAIMS_PARAMETER,
	S_TIMEOUT,
	S_CLOCK_LEEWAY,
	S_MAX_TOKEN_AGE,
	S_DISCOVERY_REFRESH,
	S_JWKS_MIN_REFETCH,
	S_ALLOWED_ALGS,
	S_UPSTREAM_LOGOUT,
	S_COUNT
};

/* The discovery document, parsed and checked (discovery.c). */
typedef struct oidc_disco {
	char *issuer, *authorization_endpoint, *token_endpoint, *jwks_uri;
	char *end_session_endpoint; /* RP-Initiated Logout 1.0, or NULL: no upstream logout */
	int iss_param_supported;    /* authorization_response_iss_parameter_supported (RFC 9207) */
} oidc_disco;

/* Parses a discovery document; it must name expected_issuer exactly (OIDC Discovery §4.3) and
 * endpoints that are https, or http on a loopback host (never http under an https issuer). */
oidc_disco *oidc_disco_parse(const idhub_services *svc, const char *text,
                             const char *expected_issuer, char *why, size_t whylen);
/* The hub's parse callback for the discovery document (arg: the oidc_ctx). */
void *oidc_disco_parse_doc(void *arg, const char *body, size_t len, char *why, size_t whylen);
void oidc_disco_release(void *d);
void oidc_disco_free(oidc_disco *d);

typedef struct oidc_acr {
	const char *from; /* an upstream acr (the hub's parsed acr_map) */
	int level;        /* the hub level (1-based) it maps to */
} oidc_acr;

typedef struct oidc_ctx {
	const idhub_services *svc;
	const idhub_value *v; /* the settings (S_*) */
	const char *callback_url;
	char *client_secret;
	int private_key_jwt, nloas;
	oidc_acr acr_map[OIDC_MAX_MAP];
	idhub_kv claim_map[OIDC_MAX_MAP]; /* upstream claim -> hub attribute */
	size_t nacr, nclaim;
	idhub_doc *disco, *jwks; /* kept fresh by the hub */
} oidc_ctx;

/* verify.c: ID token verification. */
typedef struct oidc_verify_params {
	const char *issuer;    /* iss must equal it exactly */
	const char *client_id; /* aud must contain it; azp must equal it */
	const char *nonce;     /* nonce must equal it */
	int64_t now, leeway;
	int64_t max_age;    /* iat no older than this */
	int64_t not_before; /* iat no earlier than this (the login's start), minus leeway */
} oidc_verify_params;

/* The claim checks on a verified ID token's payload: iss, aud, azp, exp, iat, nonce, sub. 0, or
 * -1 with why filled. Pure (the fuzz target calls it). */
int oidc_claims_ok(const oidc_verify_params *p, const json_t *pl, char *why, size_t wl);

/* Verifies the ID token: its signature by the hub (JWKS document, allow-list, kid rules, the one
 * rate-limited refetch), then the claims. On 0, *payload is the claims object (json_decref it)
 * and *text the payload as the token carries it (on the arena). */
int oidc_idtoken_verify(oidc_ctx *c, idhub_arena *a, const oidc_verify_params *p, const char *token,
                        json_t **payload, const char **text, char *why, size_t whylen);

/* logout.c: RP-initiated logout at the IdP (the adapter's logout hook). */
/* What the logout hook needs, captured at login: the IdP's end_session_endpoint and the ID token
 * (for id_token_hint), as JSON text on the arena; NULL when the IdP offers no logout. */
const char *oidc_logout_state(oidc_ctx *c, idhub_arena *a, const oidc_disco *d, const char *idt);
int oidc_logout(void *ctx, idhub_arena *a, const idhub_logout_request *req, idhub_start_result *out,
                idhub_error *err);

#endif
