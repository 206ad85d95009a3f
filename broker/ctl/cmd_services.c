/* cmd_services.c — idhubctl services: relying parties registered in the store. Config-file services
 * are listed too, but cannot be changed here (the config file wins). Secrets are generated here,
 * shown once, and stored only as SHA-256 hashes. */
#include "ctl.h"
#include "clients/clients.h"
#include "keys/keys.h"
#include "util/arena.h"
#include "util/b64url.h"
#include "util/random.h"
#include <getopt.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LIST 16

typedef struct svc_args {
	const char *id, *name, *auth, *jwks_file, *jwks_uri, *sector, *min_loa, *alg;
	const char *require_pkce, *require_nonce, *require_state; /* "true" / "false" */
	const char *refresh, *offline, *introspect;               /* "true" / "false" */
	const char *backchannel; /* --backchannel-logout-uri ("" removes it) */
	const char *uris[MAX_LIST], *scopes[MAX_LIST], *idps[MAX_LIST], *plouts[MAX_LIST];
	int nuris, nscopes, nidps, nplouts;
	long grace;
} svc_args;

static const struct option svc_opts[] = {{"id", required_argument, NULL, 'i'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"auth-method", required_argument, NULL, 'm'},
                                         {"jwks", required_argument, NULL, 'j'},
                                         {"jwks-uri", required_argument, NULL, 'J'},
                                         {"sector", required_argument, NULL, 's'},
                                         {"min-loa", required_argument, NULL, 'l'},
                                         {"alg", required_argument, NULL, 'a'},
                                         {"redirect-uri", required_argument, NULL, 'r'},
                                         {"scope", required_argument, NULL, 'S'},
                                         {"idp", required_argument, NULL, 'p'},
                                         {"grace", required_argument, NULL, 'g'},
                                         {"require-pkce", required_argument, NULL, 'P'},
                                         {"require-nonce", required_argument, NULL, 'N'},
                                         {"require-state", required_argument, NULL, 'T'},
                                         {"refresh-tokens", required_argument, NULL, 'R'},
                                         {"offline-access", required_argument, NULL, 'O'},
                                         {"introspection", required_argument, NULL, 'I'},
                                         {"backchannel-logout-uri", required_argument, NULL, 'B'},
                                         {"post-logout-redirect-uri", required_argument, NULL, 'L'},
                                         {NULL, 0, NULL, 0}};

/* The token-lifecycle and logout options (--refresh-tokens, --offline-access, --introspection,
 * --backchannel-logout-uri): 1 when o was one of them. */
static int lifecycle_opt(int o, svc_args *a)
{
	const char **dst = o == 'R'   ? &a->refresh
	                   : o == 'O' ? &a->offline
	                   : o == 'I' ? &a->introspect
	                   : o == 'B' ? &a->backchannel
	                              : NULL;
	if (dst)
		*dst = optarg;
	return dst != NULL;
}

static int parse_args(int argc, char **argv, svc_args *a, int *rest)
{
	int o;
	a->grace = 86400;
	optind = 0; /* glibc: 0 resets getopt's state; scanning starts after the subcommand */
	while ((o = getopt_long(argc - 1, argv + 1, "", svc_opts, NULL)) != -1) {
		if (lifecycle_opt(o, a))
			continue;
		switch (o) {
		case 'i':
			a->id = optarg;
			break;
		case 'n':
			a->name = optarg;
			break;
		case 'm':
			a->auth = optarg;
			break;
		case 'j':
			a->jwks_file = optarg;
			break;
		case 'J':
			a->jwks_uri = optarg;
			break;
		case 's':
			a->sector = optarg;
			break;
		case 'l':
			a->min_loa = optarg;
			break;
		case 'a':
			a->alg = optarg;
			break;
		case 'r':
		case 'S':
		case 'L':
		case 'p': {
			const char **list = o == 'r'   ? a->uris
			                    : o == 'S' ? a->scopes
			                    : o == 'L' ? a->plouts
			                               : a->idps;
			int *n = o == 'r'   ? &a->nuris
			         : o == 'S' ? &a->nscopes
			         : o == 'L' ? &a->nplouts
			                    : &a->nidps;
			if (*n >= MAX_LIST)
				return ctl_usage("services", "at most %d of each list", MAX_LIST);
			list[(*n)++] = optarg;
			break;
		}
		case 'P':
			a->require_pkce = optarg;
			break;
		case 'N':
			a->require_nonce = optarg;
			break;
		case 'T':
			a->require_state = optarg;
			break;
		case 'g':
			a->grace = ctl_number(optarg);
			if (a->grace < 0 || a->grace > 30 * 86400)
				return ctl_usage("services",
				                 "--grace must be 0 to 2592000 seconds");
			break;
		default:
			return ctl_usage("services", "unknown option");
		}
	}
	*rest = optind + 1;
	return 0;
}

static int valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-",
		            s[i]))
			return 0;
	return 1;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = calloc(1, 65537);
	size_t n = buf ? fread(buf, 1, 65536, f) : 0;
	int more = fgetc(f) != EOF;
	fclose(f);
	if (!buf || more || n == 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* 1 for true/yes, 0 for false/no, -1 otherwise. */
static int bool_arg(const char *v)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes"))
		return 1;
	if (!strcmp(v, "false") || !strcmp(v, "no"))
		return 0;
	return -1;
}

/* --require-pkce, --require-nonce, --require-state. 0 or CTL_USAGE (already reported). */
static int apply_policy(const svc_args *a, service_conf *s)
{
	const struct {
		const char *opt, *val;
		int *flag;
	} p[] = {{"--require-pkce", a->require_pkce, &s->require_pkce},
	         {"--require-nonce", a->require_nonce, &s->require_nonce},
	         {"--require-state", a->require_state, &s->require_state},
	         {"--refresh-tokens", a->refresh, &s->refresh_tokens},
	         {"--offline-access", a->offline, &s->offline_access},
	         {"--introspection", a->introspect, &s->introspection}};
	for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
		if (!p[i].val)
			continue;
		int v = bool_arg(p[i].val);
		if (v < 0)
			return ctl_usage("services", "%s must be true or false", p[i].opt);
		*p[i].flag = v;
	}
	if (s->offline_access && !s->refresh_tokens)
		return ctl_usage("services", "--offline-access needs --refresh-tokens true");
	const char *why = service_policy_error(s);
	return why ? ctl_usage("services", "%s", why) : 0;
}

/* --backchannel-logout-uri and --post-logout-redirect-uri: a redirect URI's rules. */
static int apply_logout(arena *ar, const svc_args *a, service_conf *s)
{
	char why[160];
	if (a->backchannel && !*a->backchannel)
		s->backchannel_logout_uri = NULL;
	else if (a->backchannel) {
		if (!config_redirect_uri_ok(a->backchannel, why, sizeof why))
			return ctl_usage("services", "--backchannel-logout-uri: %s", why);
		s->backchannel_logout_uri = arena_strdup(ar, a->backchannel);
	}
	if (!a->nplouts)
		return 0;
	s->post_logout_redirect_uris = arena_alloc(ar, (size_t)a->nplouts * sizeof(char *));
	for (int i = 0; i < a->nplouts; i++) {
		if (!config_redirect_uri_ok(a->plouts[i], why, sizeof why))
			return ctl_usage("services", "--post-logout-redirect-uri %s: %s",
			                 a->plouts[i], why);
		s->post_logout_redirect_uris[i] = arena_strdup(ar, a->plouts[i]);
	}
	s->npost_logout_redirect_uris = (size_t)a->nplouts;
	return 0;
}

/* --auth-method, --jwks FILE and --jwks-uri. 0 or CTL_USAGE (already reported). */
static int apply_auth(arena *ar, const svc_args *a, service_conf *s)
{
	char why[160];
	if (a->auth) {
		int m = -1;
		for (int i = 0; i < AUTH_METHOD_COUNT; i++)
			if (strcmp(a->auth, client_auth_method_name((client_auth_method)i)) == 0)
				m = i;
		if (m < 0)
			return ctl_usage("services", "--auth-method must be client_secret_basic, "
			                             "client_secret_post or private_key_jwt");
		s->auth_method = (client_auth_method)m;
	}
	if (a->jwks_file) {
		char *doc = read_file(a->jwks_file);
		json_t *j = doc ? json_loads(doc, JSON_REJECT_DUPLICATES, NULL) : NULL;
		if (!json_is_array(json_object_get(j, "keys")) || strstr(doc, "\"d\"")) {
			free(doc);
			json_decref(j);
			return ctl_usage("services",
			                 "--jwks must name a file holding a public JWKS "
			                 "({\"keys\": [...]}, no private members)");
		}
		char *compact = json_dumps(j, JSON_COMPACT);
		s->jwks_json = arena_strdup(ar, compact);
		s->jwks_uri = NULL;
		free(compact);
		free(doc);
		json_decref(j);
	}
	if (a->jwks_uri) {
		if (!config_redirect_uri_ok(a->jwks_uri, why, sizeof why))
			return ctl_usage("services", "--jwks-uri: %s", why);
		s->jwks_uri = arena_strdup(ar, a->jwks_uri);
		s->jwks_json = NULL;
	}
	return 0;
}

/* --redirect-uri, --scope and --idp: each list replaces the service's. 0 or CTL_USAGE. */
static int apply_lists(ctl *c, arena *ar, const svc_args *a, service_conf *s)
{
	char why[160];
	if (a->nuris) {
		s->redirect_uris = arena_alloc(ar, (size_t)a->nuris * sizeof(char *));
		for (int i = 0; i < a->nuris; i++) {
			/* https except loopback, no fragment, no wildcard: the config file's rules
			 */
			if (!config_redirect_uri_ok(a->uris[i], why, sizeof why))
				return ctl_usage("services", "--redirect-uri %s: %s", a->uris[i],
				                 why);
			s->redirect_uris[i] = arena_strdup(ar, a->uris[i]);
		}
		s->nredirect_uris = (size_t)a->nuris;
	}
	if (a->nscopes) {
		s->scopes = arena_alloc(ar, (size_t)(a->nscopes + 1) * sizeof(char *));
		s->nscopes = 0;
		s->scopes[s->nscopes++] = "openid";
		for (int i = 0; i < a->nscopes; i++) {
			if (!config_scope_known(a->scopes[i]))
				return ctl_usage("services",
				                 "--scope must be openid, profile, email, "
				                 "address or phone");
			if (strcmp(a->scopes[i], "openid"))
				s->scopes[s->nscopes++] = arena_strdup(ar, a->scopes[i]);
		}
	}
	if (a->nidps) {
		s->idps = arena_alloc(ar, (size_t)a->nidps * sizeof(char *));
		for (int i = 0; i < a->nidps; i++) {
			if (!config_idp(c->cfg, a->idps[i]))
				return ctl_usage("services",
				                 "--idp '%s' is not an IdP in the config",
				                 a->idps[i]);
			s->idps[i] = arena_strdup(ar, a->idps[i]);
		}
		s->nidps = (size_t)a->nidps;
	}
	return 0;
}

/* Applies the given options to s (lists replace), validating each. 0 or CTL_USAGE. */
static int apply(ctl *c, arena *ar, const svc_args *a, service_conf *s)
{
	if (a->name) {
		if (!*a->name || strlen(a->name) > 100)
			return ctl_usage("services", "--name must be 1 to 100 characters");
		s->name = arena_strdup(ar, a->name);
	}
	if (apply_auth(ar, a, s))
		return CTL_USAGE;
	if (a->sector) {
		if (!*a->sector || strlen(a->sector) > 255)
			return ctl_usage("services", "--sector must be 1 to 255 characters");
		s->sector = arena_strdup(ar, a->sector);
	}
	if (a->min_loa) {
		s->min_loa = config_loa_level(c->cfg, a->min_loa);
		if (s->min_loa < 1)
			return ctl_usage("services", "--min-loa '%s' is not a level in the config",
			                 a->min_loa);
	}
	if (a->alg) {
		s->id_token_alg = jws_alg_from_name(a->alg);
		if (s->id_token_alg == JWS_ALG_NONE)
			return ctl_usage("services", "--alg must be ES256, RS256, PS256 or EdDSA");
	}
	if (apply_lists(c, ar, a, s) || apply_policy(a, s) || apply_logout(ar, a, s))
		return CTL_USAGE;
	if (!s->nredirect_uris)
		return ctl_usage("services", "at least one --redirect-uri is required");
	if (s->auth_method == AUTH_PRIVATE_KEY_JWT && !s->jwks_json && !s->jwks_uri)
		return ctl_usage("services", "private_key_jwt needs --jwks FILE or --jwks-uri URL");
	return 0;
}

/* Makes a new secret, puts its hash in s, and returns it (shown once). */
static int new_secret(service_conf *s, char secret[44])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	if (random_token(secret))
		return -1;
	SHA256((const unsigned char *)secret, strlen(secret), d);
	memcpy(s->secret_hash, d, 32);
	s->has_secret = 1;
	return 0;
}

/* The service's ID tokens need a current key of its algorithm (RS256 by default, which the hub
 * may not have yet): made before the service is stored, so a stored service never lacks one.
 * Running daemons re-read the keys when they see the key generation move, checking at most once a
 * second; after making a key we wait longer than that, so that no daemon can see the service before
 * it can see the key. */
static int ensure_signing_key(ctl *c, jws_alg alg)
{
	keyring *kr = keyring_load(c->st, NULL);
	int have = kr && keyring_current(kr, alg);
	keyring_unref(kr);
	if (have)
		return 0;
	if (keys_ensure_current(c->st, alg))
		return -1;
	struct timespec wait = {1, 100 * 1000 * 1000};
	nanosleep(&wait, NULL);
	return 0;
}

static int save(ctl *c, const service_conf *s, int is_new, const json_t *before, const char *what)
{
	if (ensure_signing_key(c, s->id_token_alg))
		return ctl_fail("cannot create a current %s signing key",
		                jws_alg_name(s->id_token_alg));
	json_t *rec = client_record_json(c->cfg, s);
	json_object_set_new(rec, "updated", json_integer((json_int_t)time(NULL)));
	char *js = json_dumps(rec, JSON_COMPACT);
	/* the audit log gets no secret material, not even hashes */
	json_object_del(rec, "secret_hash");
	json_object_del(rec, "old_secret_hash");
	if (before) {
		json_object_del((json_t *)before, "secret_hash");
		json_object_del((json_t *)before, "old_secret_hash");
	}
	int rc = ctl_audit_attach(c, what, s->client_id, before, rec);
	json_decref(rec);
	if (rc) {
		free(js);
		return rc;
	}
	rc = is_new ? store_put_new(c->st, NS_CLIENTS, s->client_id, strlen(s->client_id), js,
	                            strlen(js), 0)
	            : store_put(c->st, NS_CLIENTS, s->client_id, strlen(s->client_id), js,
	                        strlen(js), 0);
	free(js);
	store_attach_drop(c->st); /* committed with the change, or dropped with it */
	if (rc == STORE_EXISTS)
		return ctl_fail("service %s already exists", s->client_id);
	if (rc)
		return ctl_fail("cannot store service %s", s->client_id);
	return CTL_OK;
}

static void print_secret(ctl *c, const service_conf *s, const char *secret, const char *what)
{
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s}", "client_id", s->client_id, "result", what);
		if (secret)
			json_object_set_new(o, "client_secret", json_string(secret));
		ctl_print_json(o);
	} else {
		printf("service %s %s\n", s->client_id, what);
		if (secret)
			printf("client secret (shown once; the hub keeps only its hash): %s\n",
			       secret);
	}
}

static service_conf *load(ctl *c, arena *ar, const char *id, json_t **raw)
{
	void *v;
	size_t n;
	if (store_get(c->st, NS_CLIENTS, id, strlen(id), &v, &n, NULL) != 0)
		return NULL;
	char why[160];
	service_conf *s = client_record_parse(ar, c->cfg, v, n, why, sizeof why);
	if (raw)
		*raw = json_loadb(v, n, 0, NULL);
	free(v);
	return s;
}

static int in_config(ctl *c, const char *id)
{
	if (!config_service(c->cfg, id))
		return 0;
	fprintf(stderr, "idhubctl: service %s is defined in the config file %s; change it there\n",
	        id, c->config_path);
	return 1;
}

static int add(ctl *c, arena *ar, const svc_args *a)
{
	if (!a->id || !valid_id(a->id))
		return ctl_usage("services", "--id is required: 1 to 64 of A-Z a-z 0-9 . _ : -");
	if (!a->name)
		return ctl_usage("services", "--name is required");
	if (in_config(c, a->id))
		return CTL_FAIL;
	service_conf *s = arena_alloc(ar, sizeof *s);
	s->client_id = arena_strdup(ar, a->id);
	s->sector = s->client_id; /* sectors are shared only on purpose */
	s->min_loa = 1;
	s->id_token_alg = JWS_RS256; /* the registration default (OIDC Dynamic Registration §2) */
	s->require_pkce = s->require_nonce = s->require_state = 1; /* strict unless relaxed */
	static char *defaults[] = {"openid", "profile", "email"};
	s->scopes = defaults;
	s->nscopes = 3;
	int rc = apply(c, ar, a, s);
	if (rc)
		return rc;
	char secret[44];
	int has = s->auth_method != AUTH_PRIVATE_KEY_JWT;
	if (has && new_secret(s, secret))
		return ctl_fail("random number generator failed");
	if (!ctl_store(c))
		return CTL_FAIL;
	rc = save(c, s, 1, NULL, "services.add");
	if (rc == CTL_OK)
		print_secret(c, s, has ? secret : NULL, "added");
	return rc;
}

static void print_service(ctl *c, const service_conf *s, const char *source)
{
	json_t *o = client_record_json(c->cfg, s);
	json_object_set_new(o, "source", json_string(source));
	json_object_del(o, "secret_hash");
	json_object_del(o, "old_secret_hash");
	if (c->json) {
		ctl_print_json(o);
		return;
	}
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		char *t = json_is_string(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		printf("%-18s %s\n", k, t ? t : json_string_value(v));
		free(t);
	}
	json_decref(o);
}

struct list_ctx {
	ctl *c;
	json_t *arr;
};

static int list_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                    int64_t expires)
{
	(void)expires;
	struct list_ctx *l = arg;
	json_t *o = json_loadb(val, vlen, 0, NULL);
	if (!o)
		return 0;
	if (l->c->json) {
		json_object_del(o, "secret_hash");
		json_object_del(o, "old_secret_hash");
		json_object_set_new(o, "source", json_string("store"));
		json_array_append_new(l->arr, o);
	} else {
		printf("%-24.*s %-8s %-20s %s\n", (int)klen, (const char *)key, "store",
		       json_string_value(json_object_get(o, "auth_method")),
		       json_string_value(json_object_get(o, "name")));
		json_decref(o);
	}
	return 0;
}

static int list(ctl *c)
{
	struct list_ctx l = {c, json_array()};
	if (!c->json)
		printf("%-24s %-8s %-20s %s\n", "CLIENT_ID", "SOURCE", "AUTH", "NAME");
	for (size_t i = 0; i < c->cfg->nservices; i++) {
		const service_conf *s = &c->cfg->services[i];
		if (c->json)
			json_array_append_new(
			    l.arr,
			    json_pack("{s:s, s:s, s:s, s:s}", "client_id", s->client_id, "name",
			              s->name, "auth_method",
			              client_auth_method_name(s->auth_method), "source", "config"));
		else
			printf("%-24s %-8s %-20s %s\n", s->client_id, "config",
			       client_auth_method_name(s->auth_method), s->name);
	}
	if (!ctl_store(c) || store_iter(c->st, NS_CLIENTS, list_one, &l) < 0) {
		json_decref(l.arr);
		return CTL_FAIL;
	}
	if (c->json)
		ctl_print_json(l.arr);
	else
		json_decref(l.arr);
	return CTL_OK;
}

int cmd_services(ctl *c, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage("services", "a subcommand is required");
	const char *sub = argv[1];
	svc_args a = {0};
	int first = argc, rc = parse_args(argc, argv, &a, &first);
	if (rc)
		return rc;
	int rest = argc - first;
	char **args = argv + first;
	arena *ar = arena_new();
	if (!ar)
		return CTL_FAIL;
	if (strcmp(sub, "add") == 0 && rest == 0) {
		rc = add(c, ar, &a);
	} else if (strcmp(sub, "list") == 0 && rest == 0) {
		rc = list(c);
	} else if ((strcmp(sub, "show") == 0 || strcmp(sub, "remove") == 0 ||
	            strcmp(sub, "update") == 0 || strcmp(sub, "rotate-secret") == 0) &&
	           rest == 1) {
		const char *id = args[0];
		const service_conf *cs = config_service(c->cfg, id);
		json_t *before = NULL;
		service_conf *s = NULL;
		if (cs && strcmp(sub, "show") == 0) {
			print_service(c, cs, "config");
			rc = CTL_OK;
		} else if (in_config(c, id)) {
			rc = CTL_FAIL;
		} else if (!ctl_store(c)) {
			rc = CTL_FAIL;
		} else if (!(s = load(c, ar, id, &before))) {
			rc = ctl_fail("no service %s", id);
		} else if (strcmp(sub, "show") == 0) {
			print_service(c, s, "store");
			rc = CTL_OK;
		} else if (strcmp(sub, "remove") == 0) {
			json_object_del(before, "secret_hash");
			json_object_del(before, "old_secret_hash");
			rc = ctl_audit_attach(c, "services.remove", id, before, NULL);
			if (rc == CTL_OK)
				rc = store_del(c->st, NS_CLIENTS, id, strlen(id))
				         ? ctl_fail("cannot remove %s", id)
				         : CTL_OK;
			store_attach_drop(c->st);
			if (rc == CTL_OK)
				print_secret(c, s, NULL, "removed");
		} else if (strcmp(sub, "update") == 0) {
			if (a.id)
				rc = ctl_usage("services", "--id cannot be changed");
			else if (!(rc = apply(c, ar, &a, s)) &&
			         !(rc = save(c, s, 0, before, "services.update")))
				print_secret(c, s, NULL, "updated");
		} else {
			char secret[44];
			if (!s->has_secret) {
				rc = ctl_fail("service %s uses private_key_jwt: it has no secret",
				              id);
			} else {
				/* the old secret keeps working for the grace period, so the service
				 * can roll out the new one without failed logins */
				memcpy(s->old_secret_hash, s->secret_hash, 32);
				s->old_secret_until = a.grace ? (int64_t)time(NULL) + a.grace : 0;
				if (new_secret(s, secret))
					rc = ctl_fail("random number generator failed");
				else if (!(rc = save(c, s, 0, NULL, "services.rotate-secret")))
					print_secret(c, s, secret, "has a new secret");
			}
		}
		json_decref(before);
	} else {
		rc = ctl_usage("services", "unknown subcommand or wrong arguments: %s", sub);
	}
	arena_free(ar);
	return rc;
}
