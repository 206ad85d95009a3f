/* oidc_int.h — the upstream OpenID Connect adapter's private header: its instance context, the
 * discovery document and key set it shares between threads, and the functions its files offer each
 * other (settings.c, discovery.c, jwks.c, verify.c, adapter.c). Never included outside this folder.
 */
#ifndef IDHUB_OIDC_INT_H
#define IDHUB_OIDC_INT_H
#include <idhub/adapter.h>
#include <cjose/cjose.h>
#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Upper bounds on what an upstream IdP may send us. */
#define OIDC_MAX_DOC (256 * 1024) /* discovery document, JWKS, token response */
#define OIDC_MAX_TOKEN 16384      /* one ID token */
#define OIDC_MAX_KEYS 32          /* keys taken from one JWKS */
#define OIDC_MAX_MAP 32           /* entries of acr_map and claim_map */
#define OIDC_LKG_TTL (7 * 86400)  /* how long a last-known-good discovery/JWKS copy is kept */

/* Signature algorithms an allow-list may name: asymmetric only. "none" and the HMAC family are
 * never accepted (an HS256 token "signed" with the IdP's public key as the secret is a forgery). */
enum {
	OIDC_RS256 = 1u << 0,
	OIDC_RS384 = 1u << 1,
	OIDC_RS512 = 1u << 2,
	OIDC_PS256 = 1u << 3,
	OIDC_PS384 = 1u << 4,
	OIDC_PS512 = 1u << 5,
	OIDC_ES256 = 1u << 6,
	OIDC_ES384 = 1u << 7,
	OIDC_ES512 = 1u << 8,
};
#define OIDC_ALGS_DEFAULT (OIDC_RS256 | OIDC_PS256 | OIDC_ES256)

/* The bit of an algorithm name, or 0 when it is not one we could ever accept. */
unsigned oidc_alg_bit(const char *name);

/* One verification key of the IdP's JWKS. */
typedef struct oidc_key {
	char *kid; /* NULL when the JWK has none */
	char *alg; /* the JWK's "alg", or NULL */
	cjose_jwk_kty_t kty;
	int curve; /* NID for EC keys */
	size_t bits;
	cjose_jwk_t *jwk;
} oidc_key;

/* A parsed JWKS, immutable once built, shared by reference count (guarded by the ctx mutex). */
typedef struct oidc_keyset {
	int refs;
	size_t n;
	oidc_key keys[OIDC_MAX_KEYS];
} oidc_keyset;

/* Parses JWKS text into a key set (refs = 1). Symmetric keys, encryption keys and keys we cannot
 * use are skipped. Returns NULL with why filled when the text is not a JWKS. */
oidc_keyset *oidc_keyset_parse(const char *text, char *why, size_t whylen);
void oidc_keyset_free(oidc_keyset *ks);

/* The discovery document, immutable once built, shared by reference count. */
typedef struct oidc_disco {
	int refs;
	char *issuer, *authorization_endpoint, *token_endpoint, *jwks_uri;
	int iss_param_supported; /* authorization_response_iss_parameter_supported (RFC 9207) */
} oidc_disco;

/* Parses a discovery document; it must name expected_issuer exactly (OIDC Discovery §4.3) and
 * endpoints that are https, or http on a loopback host. */
oidc_disco *oidc_disco_parse(const char *text, const char *expected_issuer, char *why,
                             size_t whylen);
void oidc_disco_free(oidc_disco *d);

typedef struct oidc_map_entry {
	char *from, *to;
	int level; /* acr_map: the hub level (1-based) */
} oidc_map_entry;

typedef enum { OIDC_AUTH_BASIC = 1, OIDC_AUTH_PRIVATE_KEY_JWT = 2 } oidc_token_auth;

typedef struct oidc_ctx {
	const idhub_services *svc;
	char *instance_id, *callback_url;
	/* settings */
	char *issuer, *client_id, *client_secret, *scopes, *pkjwt_alg;
	oidc_token_auth token_auth;
	unsigned algs;
	int timeout, claims_parameter, unmapped_acr_refuse;
	int64_t leeway, max_age, discovery_refresh, jwks_min_refetch;
	oidc_map_entry acr_map[OIDC_MAX_MAP];
	size_t nacr;
	oidc_map_entry claim_map[OIDC_MAX_MAP];
	size_t nclaim;
	int nloas;
	/* shared mutable state, guarded by mu */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	oidc_disco *disco;
	int64_t disco_fetched, disco_attempt;
	int disco_busy;
	oidc_keyset *keys;
	int64_t keys_fetched, keys_attempt;
	int keys_busy;
} oidc_ctx;

/* settings.c: fills the settings part of ctx; on a bad setting returns -1 with err->message
 * "<setting>: what is wrong". */
int oidc_settings_load(oidc_ctx *c, const idhub_adapter_config *cfg, idhub_error *err);
void oidc_settings_free(oidc_ctx *c);

/* discovery.c: the current discovery document (a reference: oidc_disco_put it), refreshed when
 * older than discovery_refresh, falling back to the last-known-good copy when the IdP is down. NULL
 * when there has never been one. */
oidc_disco *oidc_disco_get(oidc_ctx *c);
void oidc_disco_put(oidc_ctx *c, oidc_disco *d);

/* jwks.c: the current key set (a reference: oidc_keys_put it). With refetch set (an unknown kid),
 * fetches the JWKS again unless one was fetched less than jwks_min_refetch seconds ago; returns the
 * new set, or NULL when nothing newer could be had. */
oidc_keyset *oidc_keys_get(oidc_ctx *c, const oidc_disco *d, int refetch);
void oidc_keys_put(oidc_ctx *c, oidc_keyset *ks);

/* verify.c: ID token verification. */
typedef struct oidc_verify_params {
	const char *issuer;    /* iss must equal it exactly */
	const char *client_id; /* aud must contain it; azp must equal it */
	const char *nonce;     /* nonce must equal it */
	unsigned algs;         /* allow-list of OIDC_* bits */
	int64_t now, leeway;
	int64_t max_age;    /* iat no older than this */
	int64_t not_before; /* iat no earlier than this (the login's start), minus leeway */
} oidc_verify_params;

typedef enum {
	OIDC_V_OK = 0,
	OIDC_V_BAD = -1,
	OIDC_V_NO_KEY = -2,
	OIDC_V_BAD_SIG = -3
} oidc_verify_rc;

/* Verifies a compact JWS ID token against the key set and the parameters. On OIDC_V_OK, *payload is
 * the claims object (json_decref it). OIDC_V_NO_KEY: no key of the set matches the token's kid (or,
 * without a kid, its algorithm); OIDC_V_BAD_SIG: the signature fails under the key(s) of a known
 * kid (an IdP that reused a kid for a new key). For both the caller may refetch the JWKS once,
 * under the rate limit, and try again. A token without a kid is refused when the set holds several
 * keys. why gets a short reason for logs, never token material. */
oidc_verify_rc oidc_idtoken_verify(const oidc_verify_params *p, const oidc_keyset *ks,
                                   const char *token, json_t **payload, char *why, size_t whylen);

/* Strict base64url (no padding) decoding into a malloc'd buffer (NUL-terminated); length or -1. */
long oidc_b64url_decode(const char *s, size_t len, unsigned char **out);

/* Is this an https URL, or an http URL on a loopback host? */
int oidc_url_ok(const char *u);

#endif
