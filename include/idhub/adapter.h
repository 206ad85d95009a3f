/* idhub/adapter.h — the IdP adapter ABI: the one contract an upstream identity-provider adapter
 * implements.
 *
 * An adapter is a shared object exporting one function, idhub_adapter_entry, which returns a static
 * idhub_adapter describing it. The hub loads it with dlopen, checks abi_version, and calls:
 *
 *   init(settings, services)        once per configured IdP instance, before threads start -> ctx
 *   start(ctx, login request)       -> a redirect, or an auto-POST form, towards the upstream IdP
 *   finish(ctx, callback, request)  -> a verified identity, or an error
 *   metadata(ctx)                   optional: a document the hub publishes for this instance
 *   serve(ctx, request)             optional: pages the adapter owns under /idp/<instance id>/
 *   destroy(ctx)
 *
 * The hub owns everything adapters share: it generates request IDs, state/RelayState and nonces,
 * finds the journey a callback belongs to, binds it to the browser, keeps replay caches, and offers
 * an HTTP client, the clock, randomness and logging through idhub_services. An adapter holds only
 * its protocol logic. start, finish and serve run concurrently on many threads: ctx must be
 * read-only after init (or guarded by the adapter).
 *
 * Memory: every pointer an adapter returns from start/finish/serve/metadata must come from
 * services->alloc on the call's arena (freed when the request ends); nothing is freed by the
 * adapter.
 */
#ifndef IDHUB_ADAPTER_H
#define IDHUB_ADAPTER_H
#include <stddef.h>
#include <stdint.h>

#define IDHUB_ADAPTER_ABI_VERSION 1

typedef struct idhub_arena idhub_arena; /* opaque per-request allocator */

typedef struct idhub_kv {
	const char *name;
	const char *value;
} idhub_kv;

/* One configured setting of the adapter instance, with the config line it came from. */
typedef struct idhub_setting {
	const char *name;
	const char *value;
	int line;
} idhub_setting;

typedef struct idhub_adapter_config {
	const char *instance_id;  /* the IdP id in the config, e.g. "sandbox" */
	const char *config_file;  /* for error messages */
	const char *hub_base_url; /* the hub's issuer URL, no trailing slash */
	const char *callback_url; /* absolute URL of this instance's callback at the hub */
	const idhub_setting *settings;
	size_t nsettings;
	const char *const *loa_acrs; /* the hub's level-of-assurance names, index = level - 1 */
	int nloas;
} idhub_adapter_config;

/* Error classes an adapter reports; the hub turns them into pages and OAuth errors. */
typedef enum {
	IDHUB_OK = 0,
	IDHUB_ERR_ACCESS_DENIED = -1,  /* the person cancelled or the IdP refused (access_denied) */
	IDHUB_ERR_LOGIN_REQUIRED = -2, /* upstream needs an interaction it was told not to have */
	IDHUB_ERR_INVALID = -3, /* the response failed verification: forged, expired, mismatched */
	IDHUB_ERR_UNAVAILABLE = -4, /* the IdP is down, slow or answered badly */
	IDHUB_ERR_LOA = -5,         /* the IdP asserted a level below the one required */
	IDHUB_ERR_INTERNAL = -6
} idhub_status;

typedef struct idhub_error {
	idhub_status status;
	char
	    message[256]; /* for logs and the citizen's page: never a secret, never a whole token */
} idhub_error;

/* What the hub asks an adapter to do: fixed by the hub when the citizen picks this IdP. */
typedef struct idhub_login_request {
	const char *request_id; /* unique, unguessable: use as OIDC state / SAML RelayState */
	const char *nonce;      /* unguessable: use as OIDC nonce / SAML AuthnRequest ID */
	const char *verifier; /* unguessable and never sent in the first leg: PKCE code_verifier */
	const char *callback_url; /* where the upstream IdP must send the person back */
	int min_loa;              /* level of assurance required (1-based) */
	int64_t started_at;       /* when this upstream attempt began (UNIX seconds) */
	/* Added after version 1 shipped, at the end so the layout of the fields above is unchanged.
	 * IDHUB_LOGIN_FORCE: the service asked for a fresh sign-in (prompt=login): send OIDC
	 * prompt=login or SAML ForceAuthn, and refuse an authentication older than started_at.
	 * IDHUB_LOGIN_MAX_AGE: the service sent max_age: pass it upstream (SAML: ForceAuthn) and
	 * refuse an auth_time / AuthnInstant older than max_age seconds (or an answer without one).
	 */
	uint32_t flags;  /* IDHUB_LOGIN_* */
	int64_t max_age; /* seconds, meaningful with IDHUB_LOGIN_MAX_AGE */
} idhub_login_request;

#define IDHUB_LOGIN_FORCE 1u
#define IDHUB_LOGIN_MAX_AGE 2u

typedef enum {
	IDHUB_START_REDIRECT = 1,
	IDHUB_START_POST_FORM = 2,
	IDHUB_START_PAGE = 3
} idhub_start_kind;

typedef struct idhub_start_result {
	idhub_start_kind kind;
	const char *url;        /* redirect target, or the form's action */
	const idhub_kv *fields; /* POST_FORM: hidden fields */
	size_t nfields;
} idhub_start_result;

/* An incoming HTTP request as adapters see it (callback or adapter-owned page). */
typedef struct idhub_http_request {
	const char *method; /* "GET" or "POST" */
	const char *path; /* path below the adapter's prefix for serve, the full path for finish */
	const idhub_kv *params; /* query parameters then form fields, decoded, in order */
	size_t nparams;
	const char *(*header)(const struct idhub_http_request *r, const char *name);
	void *hub_private;
} idhub_http_request;

typedef struct idhub_http_response {
	int status;
	const char *content_type;
	const char *body;
	size_t body_len;
	const char *location; /* for 3xx */
	const char
	    *form_action_origin; /* for HTML that posts elsewhere: allowed in the CSP form-action */
} idhub_http_response;

typedef struct idhub_identity {
	const char *subject;   /* the upstream subject, unique within this IdP; never stored raw */
	int loa;               /* the level actually asserted (1-based) */
	int64_t auth_time;     /* when the person authenticated upstream */
	const idhub_kv *attrs; /* OIDC claim names: given_name, family_name, birthdate, email ... */
	size_t nattrs;
	const char *upstream_id; /* assertion / token ID, for logs and audit */
} idhub_identity;

/* Services the hub offers; the struct stays valid for the adapter's lifetime. */
typedef struct idhub_services {
	uint32_t version; /* IDHUB_ADAPTER_ABI_VERSION */
	void *hub;        /* pass back as the first argument */
	int64_t (*now)(void *hub);
	void (*log)(void *hub, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
	/* base64url of 32 CSPRNG bytes into out[44]; 0 or -1 */
	int (*random_token)(void *hub, char out[44]);
	int (*random_bytes)(void *hub, void *out, size_t n);
	void *(*alloc)(idhub_arena *a, size_t n); /* zeroed, freed with the request */
	char *(*strdup)(idhub_arena *a, const char *s);
	/* Replay cache: records id in this instance's cache until expires; returns 0 if new, 1 if
	 * seen before, -1 on a store error (refuse the login then). */
	int (*replay_seen)(void *hub, const char *instance_id, const char *id, int64_t expires);
	/* Refuse anything issued before this time (0 if none): the store lost replay data in a
	 * crash. */
	int64_t (*replay_floor)(void *hub);
	/* Adapter cache (fetched metadata, JWKS): get returns a malloc'd copy or NULL. */
	char *(*cache_get)(void *hub, const char *instance_id, const char *key);
	int (*cache_put)(void *hub, const char *instance_id, const char *key, const char *val,
	                 int64_t ttl);
	/* HTTP client (liboauth2 / libcurl). GET when form is NULL, else POST form-urlencoded.
	 * Returns 0 and sets *status and *body (malloc'd, free()) or -1 on a transport error or
	 * timeout. */
	int (*http)(void *hub, const char *url, const idhub_kv *form, size_t nform,
	            const char *basic_user, const char *basic_pass, int timeout_s, int *status,
	            char **body);
	/* Signs a JWT with the hub's current key for alg ("ES256", "RS256", "PS256", "EdDSA"), the
	 * key published in the hub's JWKS (for private_key_jwt towards an upstream IdP).
	 * claims_json is the payload as JSON text. Returns the compact JWS on the arena, or NULL.
	 */
	const char *(*sign_jwt)(void *hub, idhub_arena *a, const char *alg,
	                        const char *claims_json);
	/* Renders an HTML page in the hub's layout (title and body fragment, already escaped by the
	 * adapter with html_escape). */
	const char *(*page)(void *hub, idhub_arena *a, const char *title, const char *body_html);
	char *(*html_escape)(idhub_arena *a, const char *s);
	/* base64url without padding (RFC 4648 §5); decode is strict and returns the length or -1.
	 */
	char *(*b64url_encode)(idhub_arena *a, const void *p, size_t n);
	long (*b64url_decode)(idhub_arena *a, const char *s, unsigned char **out);
	const char *state_dir; /* the hub's private state directory */
} idhub_services;

typedef struct idhub_adapter {
	uint32_t abi_version; /* IDHUB_ADAPTER_ABI_VERSION */
	const char *name;     /* "sandbox", "oidc", "saml" */
	/* The callback parameter holding request_id ("state", "RelayState"): the hub finds the
	 * journey by it before calling finish. */
	const char *state_param;
	/* Returns a ctx, or NULL with err filled ("line N: what is wrong" is prefixed by the hub
	 * with the file name when the message starts with a setting name). */
	void *(*init)(const idhub_adapter_config *cfg, const idhub_services *svc, idhub_error *err);
	int (*start)(void *ctx, idhub_arena *a, const idhub_login_request *req,
	             idhub_start_result *out, idhub_error *err);
	int (*finish)(void *ctx, idhub_arena *a, const idhub_http_request *cb,
	              const idhub_login_request *req, idhub_identity *out, idhub_error *err);
	/* Optional (NULL): a document for the hub to publish at /idp/<id>/metadata. */
	int (*metadata)(void *ctx, idhub_arena *a, const char **content_type, const char **body);
	/* Optional (NULL): handles requests under /idp/<id>/. Returns 0, or -1 for 404. */
	int (*serve)(void *ctx, idhub_arena *a, const idhub_http_request *r,
	             idhub_http_response *resp);
	void (*destroy)(void *ctx);
	uint32_t flags; /* IDHUB_ADAPTER_* */
} idhub_adapter;

/* start or finish may wait on the network (an upstream IdP): the hub runs them on its blocking
 * pool, off the event-loop threads, so a slow IdP never stalls other citizens' connections. */
#define IDHUB_ADAPTER_NETWORK 1u

/* The value of parameter name in r (query then form fields), or NULL; *count (if non-NULL) gets
 * how many times it occurs, so an adapter can refuse a repeated protocol parameter. */
static inline const char *idhub_param(const idhub_http_request *r, const char *name, int *count)
{
	const char *v = 0;
	int c = 0;
	for (size_t i = 0; i < r->nparams; i++) {
		const char *a = r->params[i].name, *b = name;
		while (*a && *a == *b)
			a++, b++;
		if (*a == *b) {
			if (!v)
				v = r->params[i].value;
			c++;
		}
	}
	if (count)
		*count = c;
	return v;
}

/* The one symbol an adapter exports. */
const idhub_adapter *idhub_adapter_entry(void);
#define IDHUB_ADAPTER_ENTRY "idhub_adapter_entry"

#endif
