/* idhub/adapter.h — the IdP adapter ABI, version 2: the one contract an upstream identity-provider
 * adapter implements, and the services the hub's adapter host (broker/idp/) offers it.
 *
 * An adapter is a shared object exporting one function, idhub_adapter_entry, which returns a static
 * idhub_adapter describing it. The hub loads it with dlopen, checks abi_version and struct_size,
 * parses the settings the adapter declares, and calls:
 *
 *   init(config, services)          once per configured IdP instance, before threads start -> ctx
 *   start(ctx, login request)       -> a redirect, or an auto-POST form, towards the upstream IdP
 *   finish(ctx, callback, request)  -> a verified identity, or an error
 *   metadata(ctx)                   optional: a document the hub publishes for this instance
 *   serve(ctx, request)             optional: pages the adapter owns under /idp/<instance id>/
 *   logout(ctx, logout request)     optional: a redirect that ends the upstream session
 *   destroy(ctx)
 *
 * The hub owns everything adapters share: typed settings (parsed and checked with FILE:LINE
 * errors, also by --check-config), remote documents kept fresh (single-flight fetching, a
 * last-good copy in the store, a refresh timer), JOSE verification and signing on the hub's one
 * JOSE implementation, XML read safely and held to anti-wrapping rules, strict base64, URL checks,
 * a file reader, request IDs, state/RelayState and nonces, a per-journey scratch record, replay
 * caches, an HTTP client, the clock, randomness, logging, the citizen's pages (the hub's layout,
 * form patterns, catalogs and level names), claim mapping, freshness checks and the metrics of
 * refusals. An adapter holds only its protocol logic.
 *
 * Threads: start, finish and serve run concurrently on many threads (on the blocking pool when the
 * adapter sets IDHUB_ADAPTER_NETWORK, under the IdP's max_concurrent gate). ctx must be read-only
 * after init, or guarded by the adapter. Every service below is thread-safe unless it says
 * otherwise.
 *
 * Memory: every pointer an adapter returns from start/finish/serve/metadata must come from the
 * call's arena (services->alloc, ->strdup, ->sprintf); the arena is freed when the request ends and
 * the adapter frees nothing of it.
 *
 * Growth (as nginx's module struct): both structs begin with a version and their size. The hub
 * loads an adapter whose abi_version is from IDHUB_ADAPTER_ABI_MIN to IDHUB_ADAPTER_ABI_VERSION
 * and reads only the first struct_size bytes of its idhub_adapter (later fields count as NULL/0).
 * New services are appended to idhub_services; an adapter built against a newer header tests
 * IDHUB_HAS_SERVICE(svc, field) before calling one its hub might not have. Fields appended to the
 * hub-allocated idhub_login_request and idhub_identity are tied to a revision (services->revision,
 * IDHUB_HAS_REVISION). Fields are never removed or reordered within a major version.
 */
#ifndef IDHUB_ADAPTER_H
#define IDHUB_ADAPTER_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define IDHUB_ADAPTER_ABI_VERSION 2
/* The oldest adapter ABI this header's hub loads. */
#define IDHUB_ADAPTER_ABI_MIN 2

typedef struct idhub_arena idhub_arena;       /* opaque per-request allocator */
typedef struct idhub_instance idhub_instance; /* opaque: the configured IdP instance */
typedef struct idhub_doc idhub_doc;           /* opaque: a remote document the hub keeps fresh */

typedef struct idhub_kv {
	const char *name;
	const char *value;
} idhub_kv;

/* ---- declared settings --------------------------------------------------------------------- */

typedef enum {
	IDHUB_SET_STRING = 1, /* any text; max: length limit (0: 4096) */
	IDHUB_SET_URL,  /* https URL, or http on a loopback host (IDHUB_SET_HTTP_ANY: any http) */
	IDHUB_SET_INT,  /* a whole number in min..max */
	IDHUB_SET_ENUM, /* one of choices; value.num is its index */
	IDHUB_SET_BOOL, /* true or false; value.num is 1 or 0 */
	IDHUB_SET_DURATION, /* seconds: "90", or with a unit "90s" "15m" "2h" "7d"; min..max */
	IDHUB_SET_FILE,     /* a path to a readable regular file of at most max bytes (0: 1 MiB) */
	IDHUB_SET_LIST,     /* words separated by spaces or commas; choices (if any) limit them;
	                       max: most words (0: 64) */
	/* Revision 3: a LIST of FROM=TO words (a mapping), split at the last '='
	 * (IDHUB_SET_FIRST_EQ: the first), neither side empty; choices (if any) limit TO.
	 * value.items holds FROM and TO alternately (items[2i], items[2i + 1]), value.nitems the
	 * number of pairs. */
	IDHUB_SET_MAP
} idhub_setting_type;

#define IDHUB_SET_REQUIRED 1u  /* the setting must be present */
#define IDHUB_SET_HTTP_ANY 2u  /* URL: plain http allowed on any host (development pages) */
#define IDHUB_SET_NO_QUERY 4u  /* URL: no query and no fragment */
#define IDHUB_SET_NONEMPTY 8u  /* STRING, LIST: must not be empty */
#define IDHUB_SET_SPACES 16u   /* LIST, MAP: words are separated by white space only (not commas) */
#define IDHUB_SET_FIRST_EQ 32u /* MAP: split each word at its first '=' (FROM holds none) */
/* Revision 6. STRING, LIST: the text (each word) is a URI such as a SAML entity ID: not empty, at
 * most 1024 bytes, no white space, quotes, '<', '>' or '&'. */
#define IDHUB_SET_URI 64u
/* Revision 6. LIST: exactly one word per level of assurance of the hub, lowest first ("-": the
 * IdP has none at that level). When the setting is absent and has no default: the hub's level
 * names as they are (set 1, str NULL, no other flag applied to them). */
#define IDHUB_SET_LEVELS 128u

/* One setting an adapter accepts. def is the default as config text (NULL: none, value.set = 0).
 * help, when set, is the whole error message for a value that does not pass ("<name>: <help>");
 * otherwise the hub words one from the type and range. */
typedef struct idhub_setting_decl {
	const char *name;
	idhub_setting_type type;
	const char *def;
	int64_t min, max;
	const char *const *choices; /* ENUM, LIST: NULL-terminated */
	uint32_t flags;             /* IDHUB_SET_* */
	const char *help;
} idhub_setting_decl;

/* A parsed setting, at the same index as its declaration. Strings live as long as the instance. */
typedef struct idhub_value {
	int set;         /* 1 when in the config or defaulted, 0 when absent without a default */
	int line;        /* its config line (0: defaulted) */
	const char *str; /* the text as written (URL, STRING, FILE: the path; ENUM: the choice);
	                    NULL when set is 0 */
	int64_t num;     /* INT, DURATION (seconds), BOOL, ENUM (index), FILE (size in bytes) */
	const char *const *items; /* LIST: the words, NULL-terminated */
	size_t nitems;
} idhub_value;

typedef struct idhub_adapter_config {
	const char *instance_id;     /* the IdP id in the config, e.g. "sandbox" */
	const char *config_file;     /* for error messages */
	const char *hub_base_url;    /* the hub's issuer URL, no trailing slash */
	const char *callback_url;    /* absolute URL of this instance's callback at the hub */
	const idhub_value *values;   /* one per idhub_adapter.settings entry, in that order */
	const char *const *loa_acrs; /* the hub's level-of-assurance names, index = level - 1 */
	int nloas;
	int checking; /* 1 under --check-config: check, but fetch nothing and start nothing */
} idhub_adapter_config;

/* ---- errors, requests and results ----------------------------------------------------------- */

/* Error classes an adapter reports; the hub turns them into pages and OAuth errors. */
typedef enum {
	IDHUB_OK = 0,
	IDHUB_ERR_ACCESS_DENIED = -1,  /* the person cancelled or the IdP refused (access_denied) */
	IDHUB_ERR_LOGIN_REQUIRED = -2, /* upstream needs an interaction it was told not to have */
	IDHUB_ERR_INVALID = -3, /* the response failed verification: forged, expired, mismatched */
	IDHUB_ERR_UNAVAILABLE = -4, /* the IdP is down, slow or answered badly */
	IDHUB_ERR_LOA = -5,         /* the IdP asserted a level below the one required */
	IDHUB_ERR_INTERNAL = -6,
	/* Revision 5 (return it only when IDHUB_HAS_REVISION(svc, 5), else
	 * IDHUB_ERR_ACCESS_DENIED): the login's time ran out before the person or the IdP answered
	 * (a wallet that never answered); the hub says so, and offers another way. */
	IDHUB_ERR_TIMEOUT = -7
} idhub_status;

/* Which check refused a login (revision 2): a fixed list, so the hub can count refusals by it
 * (the metrics label check="..."); the message says the details. */
typedef enum {
	IDHUB_CHECK_UNSAID = 0, /* the adapter did not say */
	IDHUB_CHECK_FORMAT,     /* malformed or oversized response, token or presentation */
	IDHUB_CHECK_TRUST,      /* the issuer or its certificate chain is not trusted */
	IDHUB_CHECK_SIGNATURE,  /* the issuer's signature, or its algorithm */
	IDHUB_CHECK_TYPE,       /* the credential type is not allowed (SD-JWT VC vct) */
	IDHUB_CHECK_VALIDITY,   /* expired or not yet valid */
	IDHUB_CHECK_DISCLOSURE, /* a tampered, extra or repeated selective disclosure */
	IDHUB_CHECK_BINDING,    /* the holder's key binding: missing, wrong key, nonce, aud */
	IDHUB_CHECK_STATUS,     /* revoked or suspended (a status list) */
	IDHUB_CHECK_CLAIMS,     /* a requested claim, or the subject's, is missing */
	IDHUB_CHECK_REPLAY,     /* no answer for this login: replayed, or another login's */
	IDHUB_CHECK_COUNT
} idhub_check;

/* message: for logs and the citizen's page, never a secret, never a whole token. From init, a
 * message starting "<setting>: " is reported at that setting's config line. */
typedef struct idhub_error {
	idhub_status status;
	char message[256];
	/* Revision 2 (set it only when IDHUB_HAS_REVISION(svc, 2)): which check refused. */
	idhub_check check;
} idhub_error;

/* What the hub asks an adapter to do: fixed by the hub when the citizen picks this IdP. */
typedef struct idhub_login_request {
	const char *request_id; /* unique, unguessable: use as OIDC state / SAML RelayState */
	const char *nonce;      /* unguessable: use as OIDC nonce / SAML AuthnRequest ID */
	const char *verifier; /* unguessable and never sent in the first leg: PKCE code_verifier */
	const char *callback_url; /* where the upstream IdP must send the person back */
	int min_loa;              /* level of assurance required (1-based) */
	int64_t started_at;       /* when this upstream attempt began (UNIX seconds) */
	/* IDHUB_LOGIN_FORCE: the service asked for a fresh sign-in (prompt=login): send OIDC
	 * prompt=login or SAML ForceAuthn, and refuse an authentication older than started_at.
	 * IDHUB_LOGIN_MAX_AGE: the service sent max_age: pass it upstream (SAML: ForceAuthn) and
	 * refuse an auth_time / AuthnInstant older than max_age seconds (or an answer without one).
	 */
	uint32_t flags;  /* IDHUB_LOGIN_* */
	int64_t max_age; /* seconds, meaningful with IDHUB_LOGIN_MAX_AGE */
	/* Revision 1 (IDHUB_ADAPTER_REVISION; read it only when IDHUB_HAS_REVISION(svc, 1)): */
	/* The service's login_hint (OIDC Core §3.1.2.1), as it sent it (at most 4096 bytes, any
	 * text: escape it), or NULL. A hint only: pass it on (OIDC login_hint, a prefilled user
	 * name), never trust it as who signs in. */
	const char *login_hint;
	/* Revision 2 (read it only when IDHUB_HAS_REVISION(svc, 2)): the standard OIDC claims
	 * (claims.h names: given_name, birthdate ...) this service is allowed AND asked for in
	 * this login (by a granted scope or by name in its claims request): ask the IdP for no
	 * more (data minimisation). nclaims may be 0 (nothing beyond the subject). */
	const char *const *claims;
	size_t nclaims;
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
	/* Revision 2 (set them only when IDHUB_HAS_REVISION(svc, 2); the hub allocates this struct,
	 * so set fields one by one, never assign a whole idhub_http_response, which an older hub
	 * allocated shorter): extra response headers. The hub sends only the names it allows
	 * (Refresh: e.g. a waiting page's reload, where a meta refresh fails WCAG 2.2.1) with a
	 * value of printable ASCII; it drops any other with a log line. Cache-Control is the hub's
	 * (no-store). CSP-Script, "sha256-<base64>", is not sent: it names the HTML page's one
	 * inline script, which the page's CSP then allows, with connect-src 'self'. */
	const idhub_kv *headers;
	size_t nheaders;
} idhub_http_response;

typedef struct idhub_identity {
	const char *subject;   /* the upstream subject, unique within this IdP; never stored raw */
	int loa;               /* the level actually asserted (1-based) */
	int64_t auth_time;     /* when the person authenticated upstream */
	const idhub_kv *attrs; /* OIDC claim names: given_name, family_name, birthdate, email ... */
	size_t nattrs;
	const char *upstream_id; /* assertion / token ID, for logs and audit */
	/* Revision 1: what this adapter's logout hook will need to end the upstream session (the
	 * OIDC ID token for id_token_hint; the SAML NameID and SessionIndex), as text of at most
	 * 16 KiB, or NULL. It may name the citizen: the hub keeps it only sealed in the session's
	 * vault (which needs the citizen's cookie to open) and hands it back to logout, never to
	 * logs, the store in clear, or services. Set it only when IDHUB_HAS_REVISION(svc, 1). */
	const char *logout_state;
} idhub_identity;

/* ---- the HTTP client ------------------------------------------------------------------------ */

typedef struct idhub_http_call {
	const char *method; /* NULL, or "GET" / "POST" matching the body: POST when form or
	                       json is set, else GET (other methods fail) */
	const char *url;
	const idhub_kv *headers; /* extra request headers */
	size_t nheaders;
	const idhub_kv *form; /* POST application/x-www-form-urlencoded */
	size_t nform;
	const char *json;                    /* POST application/json body (instead of form) */
	const char *basic_user, *basic_pass; /* HTTP Basic (client_secret_basic) */
	int timeout_s;                       /* 0: 10 s */
	size_t max_body;                     /* 0: 1 MiB; a longer answer is a failure */
} idhub_http_call;

/* ---- remote documents ----------------------------------------------------------------------- */

/* Parses and validates a fetched body. Returns the parsed document (owned by the hub from then on,
 * released with release), or NULL with why filled (a short reason for logs). Called without locks
 * held, on any thread; also for the last good copy read back from the store after a failed fetch.
 */
typedef void *(*idhub_doc_parse)(void *arg, const char *body, size_t len, char *why, size_t whylen);

typedef enum {
	IDHUB_DOC_CUSTOM = 0, /* parse/release are the adapter's */
	IDHUB_DOC_JWKS = 1    /* a JWK Set the hub parses itself, for jws_verify */
} idhub_doc_kind;

typedef struct idhub_doc_spec {
	const char *name; /* unique in the instance: names the store copy and log lines */
	idhub_doc_kind kind;
	const char *url; /* http(s), or file:///path (read locally); NULL: set with doc_set_url */
	int64_t refresh; /* seconds: the copy is refetched when older (timer and on use) */
	int64_t min_refetch; /* seconds: at most one fetch per this interval on failure / demand */
	size_t max_size;     /* bytes: a longer body is refused (0: 256 KiB) */
	int timeout_s;       /* per fetch (0: 10) */
	idhub_doc_parse parse;
	void (*release)(void *parsed);
	void *arg; /* passed to parse and report */
	/* Optional: told of each failed fetch (IDHUB_DOC_FAILED: status 0 for a transport error,
	 * else the HTTP status, or 200 with why from parse) and of the last good copy taken from
	 * the store after one (IDHUB_DOC_LAST_GOOD), so the adapter words its own log lines and
	 * errors; without it the hub logs them. Called on the fetching thread, without locks held.
	 */
	void (*report)(void *arg, int event, const char *url, int status, const char *why);
} idhub_doc_spec;

#define IDHUB_DOC_FAILED 1
#define IDHUB_DOC_LAST_GOOD 2

/* ---- JOSE ----------------------------------------------------------------------------------- */

/* What a compact JWS must satisfy in jws_verify. Kid rules: a token with a kid is verified with the
 * key of that kid (and a type that fits alg); a token without a kid only when the set holds exactly
 * one key that fits. On an unknown kid, or a signature failure under a known kid (an IdP that
 * reused a kid), the hub refetches the JWKS once, at most once per the doc's min_refetch, and tries
 * again. */
typedef struct idhub_jws_check {
	idhub_doc *jwks;         /* an IDHUB_DOC_JWKS document */
	const char *const *algs; /* allow-list of JWS alg names, NULL-terminated: RS256 RS384 RS512
	                            PS256 PS384 PS512 ES256 ES384 ES512 EdDSA; never none nor HS* */
	size_t max_len;          /* longest compact token accepted (0: 16384) */
	const char *what;        /* names the token in reasons: "ID token" (NULL: "token") */
} idhub_jws_check;

/* ---- XML (revision 6) ----------------------------------------------------------------------- */

/* What xml_read and xml_check hold an XML document (a SAML message, metadata) to, besides being
 * well-formed without a DTD. Element names are written "{namespace}local". Fixed for ABI 2: new
 * rules come as flags, which an older hub refuses (check the revision). */
typedef struct idhub_xml_rules {
	const char *what; /* names the document in reasons: "the response" (NULL: "the document") */
	uint32_t flags;   /* IDHUB_XML_* */
	/* The root element; no other element of that name may occur anywhere (a second Response
	 * hidden inside the first). NULL: any root. */
	const char *root;
	/* Elements of which exactly one, all names together, must occur in the whole document, and
	 * as a child of the root (SAML: Assertion and EncryptedAssertion). NULL-terminated; NULL:
	 * no such rule. */
	const char *const *one_child;
	/* The elements a ds:Signature may be a direct child of. Each ds:Signature anywhere must be
	 * the only one of its parent, that parent one of these, and its SignedInfo must hold
	 * exactly one Reference, to "#" and the parent's ID: a signature over any other element
	 * would verify without covering the one read (signature wrapping). NULL-terminated; NULL:
	 * no placement rule. */
	const char *const *signed_by;
} idhub_xml_rules;

/* No comments and no processing instructions (canonicalisation drops them, so a comment can split
 * a signed text and the signature still verifies over another reading: CVE-2017-11427), and no
 * value twice among the attributes named ID (SAML's; not xml:id nor Id). */
#define IDHUB_XML_STRICT 1u
/* The root has exactly one ds:Signature child, and it covers the root (one Reference to "#" and
 * the root's ID, which is registered as an XML ID so that a signature library resolves it). */
#define IDHUB_XML_SIGNED_ROOT 2u
/* SHA-1 (and MD5) allowed as the signature or digest method of the signatures checked; else
 * refused. */
#define IDHUB_XML_ALLOW_SHA1 4u

/* ---- forms (revision 3) --------------------------------------------------------------------- */

/* One field of a form in the hub's patterns (form_html). Strings are escaped by the hub. Fixed
 * for ABI 2: adapters pass arrays of it, whose stride is their sizeof, so it never grows; new
 * options come as new kinds and flags, which an older hub ignores (check the revision). */
typedef enum {
	IDHUB_FIELD_RADIO = 1, /* one option of the radio group name: value, label, hint */
	IDHUB_FIELD_TEXT,      /* a text input name: value (the text shown), label, hint, error */
	IDHUB_FIELD_SELECT     /* a select name: options; value is the option selected */
} idhub_field_kind;

typedef struct idhub_field {
	idhub_field_kind kind;
	const char *name; /* the form parameter (and the element's id; a radio's is name-value) */
	const char
	    *value; /* RADIO: the option's value; TEXT: the text; SELECT: the value selected */
	const char *label;
	const char *hint;  /* shown under the label, or NULL */
	const char *error; /* TEXT: why the form came back (shown beside it, and in the error
	                      summary), or NULL */
	int checked;       /* RADIO */
	size_t reveal;     /* RADIO: how many of the fields after it are shown only while it is
	                      checked (CSS, no JavaScript), in a div with id name-value-fields */
	size_t max;        /* TEXT: maxlength (0: none) */
	const idhub_kv *options; /* SELECT: each option's value (name) and text (value) */
	size_t noptions;
	uint32_t flags; /* IDHUB_FIELD_NO_AUTOFILL: TEXT the browser must neither fill nor
	                   spell-check (a user name, a code) */
} idhub_field;

#define IDHUB_FIELD_NO_AUTOFILL 1u

/* ---- services ------------------------------------------------------------------------------- */

/* Services the hub offers, bound to one instance (inst is the first argument of each call that
 * takes one; adapters never name their own id). The struct is the hub's, valid from init until
 * destroy returns. */
typedef struct idhub_services {
	uint32_t version; /* the hub's IDHUB_ADAPTER_ABI_VERSION */
	uint32_t size;    /* sizeof(idhub_services) as the hub was built: see IDHUB_HAS_SERVICE */
	idhub_instance *inst;
	const char *instance_id;
	const char *state_dir; /* the hub's private state directory */

	int64_t (*now)(idhub_instance *inst);
	/* level: syslog numbers (3 error, 4 warning, 6 info). The line is prefixed "<adapter> <id>:
	 * ". */
	void (*log)(idhub_instance *inst, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
	/* base64url of 32 CSPRNG bytes into out[44]; 0 or -1 */
	int (*random_token)(idhub_instance *inst, char out[44]);
	int (*random_bytes)(idhub_instance *inst, void *out, size_t n);

	/* Arena allocation: zeroed, freed with the request. NULL only when a is NULL. */
	void *(*alloc)(idhub_arena *a, size_t n);
	char *(*strdup)(idhub_arena *a, const char *s);
	char *(*sprintf)(idhub_arena *a, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

	/* Replay cache: records id in this instance's cache until expires; 0 if new, 1 if seen
	 * before, -1 on a store error (refuse the login then). */
	int (*replay_seen)(idhub_instance *inst, const char *id, int64_t expires);
	/* Refuse anything issued before this time (0 if none): the store lost replay data. */
	int64_t (*replay_floor)(idhub_instance *inst);
	/* This instance's cache in the store: get returns a malloc'd copy (free()) or NULL. */
	char *(*cache_get)(idhub_instance *inst, const char *key);
	int (*cache_put)(idhub_instance *inst, const char *key, const char *val, int64_t ttl);

	/* The per-journey scratch record, keyed by the login's request_id (unguessable: start hands
	 * it to the other user agent, e.g. in a QR code, and serve reads it back from that agent's
	 * request): what start or serve parks (a result posted by a wallet) for finish, in the
	 * browser, to pick up. Scoped to this instance. put replaces; get returns a
	 * copy on the arena (NUL-terminated, length in *len) or NULL; take is get-and-delete,
	 * atomic. At most 64 KiB; kept ttl seconds (make it no longer than the login may take). 0
	 * or -1.
	 */
	int (*scratch_put)(idhub_instance *inst, const char *request_id, const void *data,
	                   size_t len, int64_t ttl);
	void *(*scratch_get)(idhub_instance *inst, idhub_arena *a, const char *request_id,
	                     size_t *len, int take);

	/* The HTTP client. 0 with *status and *body (malloc'd, free()) set, or -1 on a transport
	 * error, a timeout or a body over max_body. */
	int (*http)(idhub_instance *inst, const idhub_http_call *call, int *status, char **body);

	/* Remote documents. doc_watch (init only, not thread-safe) registers one; the hub loads the
	 * last good copy from the store, fetches when it can (not under --check-config) and keeps
	 * it fresh. doc_set_url changes its URL (the copy in hand stays until one from the new URL
	 * parses). doc_get returns the current parsed document with a reference (doc_put it), or
	 * NULL when there has never been a good one: a stale copy is refreshed first by one caller
	 * while the others use the copy in hand. doc_refetch fetches now unless one was fetched
	 * less than min_refetch seconds ago: 1 when a new copy was had, 0 when rate-limited, -1 on
	 * failure. */
	idhub_doc *(*doc_watch)(idhub_instance *inst, const idhub_doc_spec *spec);
	void (*doc_set_url)(idhub_doc *d, const char *url);
	const void *(*doc_get)(idhub_doc *d);
	void (*doc_put)(idhub_doc *d, const void *parsed);
	int (*doc_refetch)(idhub_doc *d);

	/* Verifies compact JWS token under chk. On 0, *payload is the payload text on the arena
	 * (NUL-terminated) and *alg its algorithm name. -1 with why filled (never token material).
	 */
	int (*jws_verify)(idhub_instance *inst, idhub_arena *a, const idhub_jws_check *chk,
	                  const char *token, const char **payload, const char **alg, char *why,
	                  size_t whylen);
	/* Signs a JWT with the hub's current key for alg ("ES256", "RS256", "PS256", "EdDSA"), the
	 * key published in the hub's JWKS (for private_key_jwt towards an upstream IdP).
	 * claims_json is the payload as JSON text. Returns the compact JWS on the arena, or NULL.
	 */
	const char *(*sign_jwt)(idhub_instance *inst, idhub_arena *a, const char *alg,
	                        const char *claims_json);

	/* Sealed tokens for an adapter's own round trips (a request handed to its pages): seal
	 * returns base64url(text) "." base64url(HMAC-SHA256) on the arena, keyed by a secret of
	 * this instance made at start (tokens do not survive a restart, nor verify at another
	 * instance). unseal checks the MAC in constant time and returns the text on the arena, or
	 * NULL for a token longer than max, malformed or not ours. */
	char *(*seal)(idhub_instance *inst, idhub_arena *a, const char *text);
	char *(*unseal)(idhub_instance *inst, idhub_arena *a, const char *token, size_t max);

	/* Renders an HTML page in the hub's layout (title, and a body fragment the adapter escaped
	 * with html_escape). */
	const char *(*page)(idhub_instance *inst, idhub_arena *a, const char *title,
	                    const char *body_html);
	char *(*html_escape)(idhub_arena *a, const char *s);
	/* application/x-www-form-urlencoded escaping of s (everything but A-Z a-z 0-9 - . _ ~). */
	char *(*url_escape)(idhub_arena *a, const char *s);

	/* Strict base64url without padding (RFC 4648 §5) and strict base64 with padding (§4): no
	 * whitespace (b64_decode with IDHUB_B64_WRAPPED: line breaks and spaces are skipped, as
	 * SAML bindings allow), no stray characters. decode returns the length (the output
	 * NUL-terminated on the arena) or -1. */
	char *(*b64url_encode)(idhub_arena *a, const void *p, size_t n);
	long (*b64url_decode)(idhub_arena *a, const char *s, unsigned char **out);
	char *(*b64_encode)(idhub_arena *a, const void *p, size_t n);
	long (*b64_decode)(idhub_arena *a, const char *s, size_t len, uint32_t flags,
	                   unsigned char **out);
	/* 0 when u is an absolute https URL (or http on a loopback host, or any http with
	 * IDHUB_SET_HTTP_ANY), with a host, no user info, no fragment (and no query with
	 * IDHUB_SET_NO_QUERY), at most 2048 bytes; -1 otherwise. */
	int (*url_check)(const char *u, uint32_t flags);
	/* Reads a whole file of at most max bytes into a malloc'd NUL-terminated buffer (free());
	 * NULL when it cannot be read or is longer. *len (if non-NULL) gets the length. */
	char *(*read_file)(const char *path, size_t max, size_t *len);

	/* Key pairs and times (appended to ABI 2: test with IDHUB_HAS_SERVICE). dev_key_pair (init
	 * only) returns this instance's development key pair, kept in state_dir as
	 * "<adapter>-<instance id>-<name>.key" and ".crt" (e.g. saml-gov-sp.key) and made on first
	 * use: RSA 3072 and a self-signed certificate (CN the instance id, 10 years), the key file
	 * mode 0600. 0 with *key_pem and *cert_pem set (PEM text, malloc'd, free()), or -1 with why
	 * filled: a pair that cannot be made, or one on disk that is incomplete or does not match
	 * (never replaced: the operator removes both files). */
	int (*dev_key_pair)(idhub_instance *inst, const char *name, char **key_pem, char **cert_pem,
	                    char *why, size_t whylen);
	/* The private key's type ("RSA", "EC" or "other") when key_pem is a PEM private key and
	 * cert_pem a PEM certificate of its public key; NULL otherwise. */
	const char *(*key_pair_check)(const char *key_pem, const char *cert_pem);
	/* The DER of the PEM certificate in pem, as base64 with no line breaks (malloc'd, free()),
	 * or NULL when pem holds no certificate. */
	char *(*cert_der_b64)(const char *pem);
	/* An RFC 3339 date-time, as xs:dateTime (SAML) and tdate (ISO 18013-5) are written: a date,
	 * "T", a time with optional fractional seconds, and "Z" or a +hh:mm / -hh:mm offset, to
	 * UNIX seconds; -1 when malformed (a time without a zone too) or before 1970. */
	int64_t (*parse_time)(const char *s);

	/* The hub's IDHUB_ADAPTER_REVISION: which fields appended to the hub-allocated structs
	 * (idhub_login_request, idhub_identity) it fills or reads, and whether it calls logout.
	 * Test it with IDHUB_HAS_REVISION. */
	uint32_t revision;

	/* The hub's message catalogs for the citizen's pages (English, Welsh): text is key's text
	 * in the language of the request being served (English when the Welsh catalog lacks it, key
	 * itself when neither has it); lang is that language's code, "en" or "cy". An adapter keeps
	 * its pages' words in the hub's catalogs (broker/pages/po/), under keys of its own. Added
	 * within ABI v2: check with IDHUB_HAS_SERVICE(svc, text). */
	const char *(*text)(idhub_instance *inst, const char *key);
	const char *(*lang)(idhub_instance *inst);

	/* ---- Revision 3: appended within ABI v2 (IDHUB_HAS_SERVICE(svc, url_param), the last of
	 * them). The plumbing adapters had copied: the hub's pages, level names, claim mapping,
	 * freshness, digests, query strings and the way back from an upstream logout. ---- */

	/* A page in the hub's layout, in the citizen's language, into resp: status, "text/html;
	 * charset=utf-8", and the whole document around body_html (safe HTML: escape what goes in
	 * with html_escape). title is escaped here; with IDHUB_PAGE_ERROR the document's title
	 * starts with the catalog's "Error:" (a form shown again with errors, as the GOV.UK pattern
	 * wants). Only the base fields of resp are set. 0, or -1 when out of memory (resp then
	 * untouched: return -1 from serve for a 404, or fail). */
	int (*respond_page)(idhub_instance *inst, idhub_arena *a, idhub_http_response *resp,
	                    int status, uint32_t flags, const char *title, const char *body_html);
	/* The HTTP-POST binding: a 200 page whose form POSTs fields (hidden, in order) to action,
	 * submitted by the one script the hub's CSP allows, or by its Continue button when
	 * JavaScript is off. heading and message are escaped here; fields and action too. 0 or
	 * -1 (as respond_page). */
	int (*respond_autopost)(idhub_instance *inst, idhub_arena *a, idhub_http_response *resp,
	                        const char *action, const idhub_kv *fields, size_t nfields,
	                        const char *heading, const char *message);
	/* After an upstream logout that the adapter's own page checked (SAML's LogoutResponse at
	 * /idp/<id>/slo): a 303 into resp that sends the browser back to the hub's logout, which
	 * finishes there (the same place as idhub_logout_request.return_url). token is
	 * return_value as the IdP echoed it (RelayState); the hub checks it, so the adapter only
	 * bounds its size (at most 4096 bytes here, else -1). 0 or -1. */
	int (*respond_logout_done)(idhub_instance *inst, idhub_arena *a, idhub_http_response *resp,
	                           const char *token);
	/* A level of assurance as citizens read it, in the request's language: "Low",
	 * "Substantial", "High" when the hub has the three eIDAS levels, else "Level N" (the text
	 * the hub's own pages show). On the arena. */
	const char *(*level_name)(idhub_instance *inst, idhub_arena *a, int level);
	/* The level (1-based) a configured word names: one of the hub's level-of-assurance names
	 * (idhub_adapter_config.loa_acrs) or its number ("1".."N"); 0 when it names none. */
	int (*level_of)(idhub_instance *inst, const char *word);
	/* text(key) with its placeholders ("%s" or "%d", in order) filled by arg1 and arg2 (NULL:
	 * nothing), on the arena. Not escaped: escape the result. A catalog text is never used as
	 * a printf format. */
	const char *(*text_fill)(idhub_instance *inst, idhub_arena *a, const char *key,
	                         const char *arg1, const char *arg2);
	/* The identity's attributes from a JSON object of upstream claims (an ID token's payload,
	 * an assertion): for each map entry in order, name the upstream claim and value the hub's
	 * attribute (OIDC claim name; NULL: the same as name), the claim's value if it is a string
	 * of at most 1024 bytes ("true" / "false" for a boolean; any other type is skipped). One
	 * value per attribute: the first entry that yields one wins. Sets out->attrs and
	 * out->nattrs (on the arena); 0, or -1 when json is not a JSON object (out untouched). */
	int (*attrs_from_json)(idhub_instance *inst, idhub_arena *a, const char *json,
	                       const idhub_kv *map, size_t nmap, idhub_identity *out);
	/* Whether an upstream authentication at auth_time (UNIX seconds; 0 or less: the IdP did
	 * not say) meets the service's freshness demands in req (max_age, prompt=login), with
	 * leeway seconds for clocks: 0 when it does, else IDHUB_FRESH_NO_TIME (max_age sent and no
	 * time), IDHUB_FRESH_TOO_OLD (older than max_age) or IDHUB_FRESH_BEFORE_LOGIN (a fresh
	 * sign-in was demanded and it predates this login's start). The adapter words the refusal
	 * (IDHUB_ERR_INVALID). */
	int (*auth_fresh)(idhub_instance *inst, const idhub_login_request *req, int64_t auth_time,
	                  int64_t leeway);
	/* base64url (no padding) of the SHA-256 of p[0..n): PKCE's S256 challenge, an ID for a
	 * token in the replay cache. On the arena. */
	char *(*digest_b64url)(idhub_arena *a, const void *p, size_t n);
	/* Small records an adapter keeps as text (identity.logout_state): record encodes the
	 * pairs as a JSON object (pairs with a NULL or empty value are left out; on the arena), or
	 * NULL when that is longer than max bytes; record_get returns the string value of name in
	 * such a text (on the arena), or NULL. */
	const char *(*record)(idhub_arena *a, const idhub_kv *kv, size_t n, size_t max);
	const char *(*record_get)(idhub_arena *a, const char *text, const char *name);
	/* A form in the hub's patterns, for an adapter's own page (HTML on the arena, every value
	 * escaped here): POST to action (novalidate: the adapter checks), the hidden fields, a
	 * fieldset with legend around fields (radios with their hints and revealed fields, text
	 * inputs with their hint and error, selects), then buttons, each a submit named "action"
	 * with value name and text value, the first the primary one. */
	const char *(*form_html)(idhub_instance *inst, idhub_arena *a, const char *action,
	                         const idhub_kv *hidden, size_t nhidden, const char *legend,
	                         const idhub_field *fields, size_t nfields, const idhub_kv *buttons,
	                         size_t nbuttons);
	/* The error summary to put above the heading of a form that came back with errors ("There
	 * is a problem", a link to each field with an error, focused on load), or "" when no field
	 * has one. On the arena. */
	const char *(*error_summary_html)(idhub_instance *inst, idhub_arena *a,
	                                  const idhub_field *fields, size_t nfields);
	/* url with name=value added to its query ('?' or '&' as needed; value escaped as
	 * url_escape does), on the arena. */
	char *(*url_param)(idhub_arena *a, const char *url, const char *name, const char *value);

	/* ---- Revision 4: appended within ABI v2 (IDHUB_HAS_SERVICE(svc, count_refusal)). ---- */

	/* Counts one refusal the adapter made outside finish, under check, in the hub's metrics
	 * (idhub_idp_refusals_total{idp,check}), as the hub counts a refusing finish's err.check:
	 * e.g. a wallet's answer refused at the adapter's own response_uri (serve), which no
	 * finish ever sees. Only counts: the adapter still logs the refusal (naming the check) and
	 * answers it. IDHUB_CHECK_UNSAID, or a check outside the list, is not counted. Refusals a
	 * finish reports in err.check must not be counted again here. */
	void (*count_refusal)(idhub_instance *inst, idhub_check check);

	/* ---- Revision 6: appended within ABI v2 (IDHUB_HAS_SERVICE(svc, attrs_from_pairs)). */

	/* Parses text (len bytes) as XML with libxml2, safely: a DTD stops the parser where it
	 * stands, whatever encoding the document claims, so no entity is ever declared, expanded or
	 * fetched, and nothing is read from the network. With rules (NULL: well-formedness only)
	 * the whole tree is then held to them. 0 with *doc an xmlDocPtr the caller frees with
	 * xmlFreeDoc, or -1 with *doc NULL and err filled (IDHUB_ERR_INVALID, worded with
	 * rules->what; IDHUB_ERR_INTERNAL for flags this hub does not know, or no memory). The
	 * adapter links libxml2 to read the tree (the hub's own copy: one libxml2 in the process).
	 */
	int (*xml_read)(const char *text, size_t len, const idhub_xml_rules *rules, void **doc,
	                idhub_error *err);
	/* Holds the subtree at node (an xmlNodePtr; not its siblings) to rules, except root and
	 * one_child, which speak of a whole document: for a part that was read apart, such as a
	 * decrypted assertion. 0, or -1 with err filled as xml_read fills it (also when node or
	 * rules is NULL: nothing checked is not a pass). */
	int (*xml_check)(void *node, const idhub_xml_rules *rules, idhub_error *err);
	/* The identity's attributes from upstream name/value pairs (SAML attributes, each under its
	 * Name and its FriendlyName), in their order: a pair whose value is not empty and at most
	 * 1024 bytes gives its value to the hub's attribute of every map entry naming it (map.name
	 * the upstream name, map.value the hub's attribute; NULL: the same name). One value per
	 * attribute: the first pair that yields one wins (a pair with a NULL name yields nothing).
	 * Sets out->attrs and out->nattrs (on the arena); 0, or -1 when out of memory. */
	int (*attrs_from_pairs)(idhub_instance *inst, idhub_arena *a, const idhub_kv *pairs,
	                        size_t npairs, const idhub_kv *map, size_t nmap,
	                        idhub_identity *out);
} idhub_services;

#define IDHUB_PAGE_ERROR 1u /* respond_page: the title says "Error:" first */
#define IDHUB_FRESH_NO_TIME 1
#define IDHUB_FRESH_TOO_OLD 2
#define IDHUB_FRESH_BEFORE_LOGIN 3

#define IDHUB_B64_WRAPPED 1u /* b64_decode: white space between characters is skipped */

/* Whether the hub's services table has field (an adapter built against a newer header). */
#define IDHUB_HAS_SERVICE(svc, field)                                                              \
	((svc)->size >= offsetof(idhub_services, field) + sizeof((svc)->field) && (svc)->field)

/* Revisions within ABI 2. The hub allocates idhub_login_request and idhub_identity, so a field
 * appended to them is there only when the hub is recent enough: 1 = login_request.login_hint,
 * identity.logout_state and the logout hook; 2 = login_request.claims / nclaims,
 * error.check, http_response.headers / nheaders; 3 = the services from respond_page to
 * url_param, idhub_field and the IDHUB_SET_MAP setting type; 4 = count_refusal; 5 = the status
 * IDHUB_ERR_TIMEOUT; 6 = xml_read, xml_check, attrs_from_pairs and the setting flags
 * IDHUB_SET_URI and IDHUB_SET_LEVELS. */
#define IDHUB_ADAPTER_REVISION 6u
#define IDHUB_HAS_REVISION(svc, rev)                                                               \
	((svc)->size >= offsetof(idhub_services, revision) + sizeof(uint32_t) &&                   \
	 (svc)->revision >= (rev))

/* What the hub asks an adapter's logout hook to end: the upstream session of one hub session. */
typedef struct idhub_logout_request {
	/* identity.logout_state as finish set it at the session's login (from the vault) */
	const char *logout_state;
	/* The hub's URL where the browser must arrive when the upstream logout is over, with
	 * return_param=return_value added to its query: the IdP sends it there directly (OIDC:
	 * post_logout_redirect_uri, state), or the adapter's own page does after checking the IdP's
	 * answer (SAML: the LogoutResponse at /idp/<id>/slo, RelayState). */
	const char *return_url;
	const char *return_param; /* "state" */
	const char *return_value; /* the hub's sealed, short-lived token: pass it back as is */
} idhub_logout_request;

/* ---- the adapter ---------------------------------------------------------------------------- */

typedef struct idhub_adapter {
	uint32_t abi_version; /* IDHUB_ADAPTER_ABI_VERSION the adapter was built with */
	uint32_t struct_size; /* sizeof(idhub_adapter) as the adapter was built */
	const char *name;     /* "sandbox", "oidc", "saml" */
	/* The callback parameter holding request_id ("state", "RelayState"): the hub finds the
	 * journey by it before calling finish. */
	const char *state_param;
	const idhub_setting_decl *settings; /* what the settings group may hold */
	size_t nsettings;
	/* Creates the instance. cfg and svc (and the strings they point to) stay valid until
	 * destroy. Returns a ctx, or NULL with err filled. Runs before the hub's threads start;
	 * under --check-config (cfg->checking) it must only check, never fetch. */
	void *(*init)(const idhub_adapter_config *cfg, const idhub_services *svc, idhub_error *err);
	/* The first leg. req and everything it points to live as long as the arena. 0, or -1 with
	 * err filled (status IDHUB_ERR_*). */
	int (*start)(void *ctx, idhub_arena *a, const idhub_login_request *req,
	             idhub_start_result *out, idhub_error *err);
	/* The callback: cb is the request the hub matched to req by state_param. On 0, out holds a
	 * verified identity (on the arena); -1 with err filled. */
	int (*finish)(void *ctx, idhub_arena *a, const idhub_http_request *cb,
	              const idhub_login_request *req, idhub_identity *out, idhub_error *err);
	/* Optional (NULL): a document for the hub to publish at /idp/<id>/metadata. 0 or -1. */
	int (*metadata)(void *ctx, idhub_arena *a, const char **content_type, const char **body);
	/* Optional (NULL): handles requests under /idp/<id>/. Returns 0, or -1 for 404. */
	int (*serve)(void *ctx, idhub_arena *a, const idhub_http_request *r,
	             idhub_http_response *resp);
	/* Releases ctx; called once, after every other call has returned and after the hub has
	 * released the instance's documents (their release callbacks run before destroy). */
	void (*destroy)(void *ctx);
	uint32_t flags; /* IDHUB_ADAPTER_* */
	/* Optional (NULL; revision 1): ends the citizen's session at the upstream IdP when the hub
	 * session ends in the citizen's browser (RP-initiated logout at the hub, the sign-out
	 * page). Called only for a session whose login set identity.logout_state, after the hub
	 * session has ended (its record deleted, services' logouts queued): a failure here never
	 * keeps the citizen signed in at the hub. Threads: any, on the hub's blocking pool but
	 * outside the IdP's max_concurrent gate: it may read documents (doc_get), but makes no IdP
	 * round trip of its own (keep in logout_state what it needs, e.g. the IdP's logout endpoint
	 * as of the login). Memory: req and what it points to live as long as the arena; out's
	 * strings must be on the arena. Returns 0 with out set (IDHUB_START_REDIRECT or _POST_FORM:
	 * the hub sends the browser there, and expects it back at req->return_url with the return
	 * token), 1 when there is nothing to do upstream (the IdP offers no logout: the hub
	 * finishes its own logout at once), or -1 with err filled (logged; the hub finishes as with
	 * 1). */
	int (*logout)(void *ctx, idhub_arena *a, const idhub_logout_request *req,
	              idhub_start_result *out, idhub_error *err);
} idhub_adapter;

/* The adapter's logout hook, or NULL (an older adapter's struct ends before it). */
#define IDHUB_ADAPTER_LOGOUT(ops)                                                                  \
	((ops)->struct_size >= offsetof(idhub_adapter, logout) + sizeof(void *) ? (ops)->logout    \
	                                                                        : NULL)

/* start, finish and serve may wait on the network (an upstream IdP): the hub runs them on its
 * blocking pool, off the event-loop threads, each IdP limited to its max_concurrent calls at once,
 * so a slow IdP never stalls other citizens' connections nor another IdP. */
#define IDHUB_ADAPTER_NETWORK 1u

/* Fills the version fields of an adapter definition: IDHUB_ADAPTER_HEAD("name", "state"). */
#define IDHUB_ADAPTER_HEAD(nm, param)                                                              \
	.abi_version = IDHUB_ADAPTER_ABI_VERSION, .struct_size = sizeof(idhub_adapter),            \
	.name = nm, .state_param = param

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

/* Fills err (status and a printf-style message) and returns -1: `return idhub_fail(err, ...)`. */
__attribute__((format(printf, 3, 4))) static inline int
idhub_fail(idhub_error *err, idhub_status st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err->status = st;
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return -1;
}

/* The one symbol an adapter exports. */
const idhub_adapter *idhub_adapter_entry(void);
#define IDHUB_ADAPTER_ENTRY "idhub_adapter_entry"

#endif
