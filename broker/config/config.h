/* config.h — the hub's one config file (libconfig syntax), parsed and validated into an immutable
 * snapshot. Every error names the file and line: "FILE:LINE: what is wrong".
 *
 * Sections: hub { ... }, loa = [ acr names, lowest first ], idps = ( { ... }, ... ),
 * services = ( { ... }, ... ). deploy/idhub.conf.example documents each setting.
 */
#ifndef IDHUB_CONFIG_H
#define IDHUB_CONFIG_H
#include "../tokens/jws.h"
#include <idhub/adapter.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
	AUTH_CLIENT_SECRET_BASIC = 0,
	AUTH_CLIENT_SECRET_POST,
	AUTH_PRIVATE_KEY_JWT,
	AUTH_METHOD_COUNT
} client_auth_method;

const char *client_auth_method_name(client_auth_method m);

enum { HUB_MAX_TRUSTED_PROXIES = 16 };

/* One value of an idp's settings group, as text, with the config line it came from (the adapter
 * host parses it against the adapter's declaration: broker/idp/settings.c). */
typedef struct idp_setting {
	const char *name;
	const char *value;
	int line;
} idp_setting;

typedef struct idp_conf {
	char *id;           /* [a-z0-9_-]{1,32}: used in URLs (/callback/<id>) */
	char *adapter;      /* adapter name: loads <adapter_dir>/idhub-adapter-<adapter>.so */
	char *display_name; /* shown in the picker */
	char *description;  /* optional hint under the name */
	char *display_name_cy, *description_cy; /* the same in Welsh (optional) */
	int max_loa;                            /* highest level this IdP can assert (1-based) */
	int enabled;
	int max_concurrent;    /* most calls to this IdP at once on the upstream pool; above it, new
	                          logins are refused at once (503) so a slow IdP holds up no other */
	idp_setting *settings; /* the "settings" group, values as strings */
	size_t nsettings;
	int line;
} idp_conf;

typedef struct service_conf {
	char *client_id;
	char *name;
	client_auth_method auth_method;
	unsigned char
	    secret_hash[32]; /* SHA-256 of the secret; config holds "sha256:<base64url>" */
	int has_secret;
	unsigned char
	    old_secret_hash[32];  /* idhubctl services rotate-secret: the previous secret */
	int64_t old_secret_until; /* ...accepted until this time (0: none) */
	char *jwks_json;          /* private_key_jwt: the client's public JWKS, inline JSON */
	char *jwks_uri;           /* or fetched from here */
	char **redirect_uris;
	size_t nredirect_uris;
	char *sector; /* pairwise sector; defaults to client_id, so sectors are shared only on
	                 purpose */
	int min_loa;
	jws_alg id_token_alg;
	char **idps; /* allowed IdP ids; empty = all */
	size_t nidps;
	char **scopes; /* allowed scopes; always includes "openid" */
	size_t nscopes;
	/* Per-service policy, each strict by default (README "Certification"): a relaxation is a
	 * deliberate, audited choice. require_pkce may be off only for a confidential client. */
	int require_pkce, require_nonce, require_state;
	/* The token lifecycle (README "Sessions and logout"), each off unless the entry turns it
	 * on: refresh tokens, offline_access (a refresh token that outlives the hub session),
	 * calling the introspection endpoint (a resource server's right). */
	int refresh_tokens, offline_access, introspection;
	char *backchannel_logout_uri; /* Back-Channel Logout 1.0: where logout tokens go, or NULL */
	char **post_logout_redirect_uris; /* RP-Initiated Logout 1.0: exact-match return URIs */
	size_t npost_logout_redirect_uris;
	int line;
} service_conf;

/* branding: what citizens see of the deployment (README "Branding"). Colours are "#rrggbb",
 * checked at load for WCAG AA contrast (4.5:1) against what they are drawn on. */
typedef struct branding_conf {
	char *service_name;    /* the header's name; NULL: the catalog's "Prove your identity" */
	char *service_name_cy; /* the same in Welsh (optional) */
	char *organisation;    /* shown before it, and in the footer; optional */
	char *logo_url; /* an image shown in the header (decorative: the name is text); optional */
	char *header_background, *header_text, *link_colour, *button_background, *button_text;
	char *help_url, *accessibility_url, *privacy_url, *cookies_url; /* footer links; optional */
	int line;
} branding_conf;

typedef struct hub_conf {
	char *file;
	char *issuer;       /* public base URL, no trailing slash, https or http on loopback */
	char *listen_host;  /* default "127.0.0.1" */
	int listen_port;    /* default: the issuer's port */
	char *state_dir;    /* default "./var" */
	char *adapter_dir;  /* default: IDHUB_ADAPTER_DIR */
	int threads;        /* MHD thread pool size, default 2 */
	int demo;           /* serve the demo service at /demo (sandbox mode) */
	int secure_cookies; /* derived: issuer is https */
	char *environment;  /* "production" (default) or "integration" */
	int integration;    /* derived: environment is "integration" (pages carry a banner) */
	int64_t code_ttl, id_token_ttl, access_token_ttl, journey_ttl, jwks_max_age, clock_leeway;
	int64_t store_map_mib;
	char *store;               /* the store backend: "lmdb" (default) or "postgresql" */
	char *store_conninfo;      /* postgresql: a libpq connection string */
	int store_pool;            /* postgresql: connections per process, default 4 */
	int64_t store_high_water;  /* percent of the volatile map above which new journeys wait */
	int64_t key_rotation_days; /* 0: off; else the daemon rotates signing keys every N days */
	int64_t audit_tree_head_interval; /* seconds between the daemon's signed audit tree heads */
	int64_t audit_retention_days;     /* 0: keep the audit log; else purge older records */
	char *log_level;                  /* "error", "warning", "info", "debug" */
	/* Limits against floods and hostile clients (README "Limits"): */
	char **trusted_proxies; /* peers whose X-Forwarded-For names the client (the nginx front) */
	size_t ntrusted_proxies;
	int64_t connections_per_source; /* open connections per source address; 0: no limit */
	int64_t header_timeout;         /* seconds to send a request's headers, in all */
	int64_t journeys_per_minute;    /* journeys a source may create per minute; 0: no budget */
	int64_t upstream_threads;       /* the pool for calls that wait on upstream IdPs */
	char *service_documentation;    /* discovery's service_documentation URL, or NULL */
	char *log_format;             /* "text" (syslog priority prefixes) or "json" (JSON lines) */
	int64_t session_idle_ttl;     /* a hub session ends after this long unused... */
	int64_t session_max_ttl;      /* ...and this long after the sign-in, whatever happens */
	int64_t refresh_offline_ttl;  /* an offline_access refresh token lives this long unused */
	int64_t backchannel_attempts; /* deliveries of a logout token before giving up */
	int64_t backchannel_retry_base; /* seconds before the first retry; doubles, at most 1 h */
	char *metrics_listen;           /* "HOST:PORT" of /metrics, or "off" */
	char *metrics_host;             /* its host, NULL when off */
	int metrics_port;               /* its port */
	int64_t metrics_flush_seconds;  /* how often the hourly aggregates go to the store */
	char **loa_acrs;                /* ascending; level = index + 1 */
	int nloas;
	idp_conf *idps;
	size_t nidps;
	service_conf *services;
	size_t nservices;
	branding_conf branding;
} hub_conf;

/* Parses and validates path. On error returns NULL and *err = malloc'd "FILE:LINE: message". */
hub_conf *config_load(const char *path, char **err);
void config_free(hub_conf *c);

const service_conf *config_service(const hub_conf *c, const char *client_id);
const idp_conf *config_idp(const hub_conf *c, const char *id);
/* Level of an acr name (1-based), or 0 if unknown. */
int config_loa_level(const hub_conf *c, const char *acr);
/* acr name of a level, or NULL. */
const char *config_loa_acr(const hub_conf *c, int level);
/* Whether s is an acceptable registered redirect URI: absolute https (or http on a loopback host),
 * no fragment, no wildcard, no userinfo. On failure writes the reason to why. */
int config_redirect_uri_ok(const char *s, char *why, size_t whylen);
/* Loads the adapter of each IdP of c from c->adapter_dir, checks its entry point and ABI version,
 * parses its declared settings and lets its init check them, fetching and starting nothing: what
 * `idhub --check-config` adds to config_load. 0, or -1 with *err = malloc'd "FILE:LINE: idp 'ID':
 * ..." naming the IdP's entry or the setting's line. Defined by the adapter host
 * (broker/idp/adapters.c). */
int config_check_adapters(const hub_conf *c, char **err);
/* Whether service allows IdP id. */
int service_allows_idp(const service_conf *svc, const char *idp_id);
/* Whether service allows scope value. */
int service_allows_scope(const service_conf *svc, const char *scope);
/* Whether the service authenticates at the token endpoint (every method the hub knows does). */
int service_is_confidential(const service_conf *svc);
/* NULL when svc's policy is acceptable, else why not (a public client must use PKCE). */
const char *service_policy_error(const service_conf *svc);
/* Whether v is a scope value the hub knows: openid, profile, email, address, phone. */
int config_scope_known(const char *v);

struct store_config;
/* The store the config names (hub.store and its settings); dir (dirlen bytes) receives
 * <state_dir>/store, which sc points to. */
void hub_conf_store(const hub_conf *c, struct store_config *sc, char *dir, size_t dirlen);

#endif
