/* config_services.c — the config's services (relying parties): client authentication, secrets as
 * hashes, JWKS, redirect URIs, sectors, scopes, levels and allowed IdPs. */
#include "config_int.h"
#include "../util/b64url.h"
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* the scopes a service gets when its entry names none */
static const char *const default_scopes[] = {"openid", "profile", "email"};

/* ---- services ----------------------------------------------------------------------------- */

enum {
	S_CLIENT_ID,
	S_NAME,
	S_AUTH_METHOD,
	S_SECRET_HASH,
	S_JWKS,
	S_JWKS_URI,
	S_REDIRECT_URIS,
	S_SECTOR,
	S_MIN_LOA,
	S_ID_TOKEN_ALG,
	S_IDPS,
	S_SCOPES,
	S_REQUIRE_PKCE,
	S_REQUIRE_NONCE,
	S_REQUIRE_STATE,
	S_REFRESH_TOKENS,
	S_OFFLINE_ACCESS,
	S_INTROSPECTION,
	S_BACKCHANNEL_LOGOUT_URI,
	S_POST_LOGOUT_REDIRECT_URIS,
	S_COUNT
};
static const char *const svc_names[S_COUNT] = {
    "client_id",
    "name",
    "auth_method",
    "secret_hash",
    "jwks",
    "jwks_uri",
    "redirect_uris",
    "sector",
    "min_loa",
    "id_token_alg",
    "idps",
    "scopes",
    "require_pkce",
    "require_nonce",
    "require_state",
    "refresh_tokens",
    "offline_access",
    "introspection",
    "backchannel_logout_uri",
    "post_logout_redirect_uris",
};

static int parse_secret_hash(loader *l, config_setting_t *s, service_conf *svc)
{
	const char *v = "";
	unsigned char buf[40];
	if (cfg_get_str(l, s, "service", &v))
		return -1;
	if (strncmp(v, "sha256:", 7) || strlen(v + 7) != 43 || b64url_decode(buf, v + 7, 43) != 32)
		return cfg_fail(
		    l, s,
		    "'secret_hash' in service must be \"sha256:\" and the base64url (43 "
		    "characters, no padding) of the SHA-256 of the secret");
	memcpy(svc->secret_hash, buf, 32);
	svc->has_secret = 1;
	return 0;
}

static int parse_jwks(loader *l, config_setting_t *s, service_conf *svc)
{
	json_error_t je;
	if (cfg_opt_str(l, s, "service", NULL, &svc->jwks_json))
		return -1;
	json_t *j = json_loads(svc->jwks_json, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return cfg_fail(l, s, "'jwks' in service is not valid JSON: %s (position %d)",
		                je.text, je.position);
	const char *msg = NULL;
	json_t *keys = json_object_get(j, "keys");
	if (!json_is_object(j) || !json_is_array(keys) || json_array_size(keys) == 0) {
		msg = "must be a JSON object with a non-empty \"keys\" array";
	} else {
		size_t i;
		json_t *k;
		json_array_foreach(keys, i, k)
		{
			if (!json_is_object(k) || !json_is_string(json_object_get(k, "kty"))) {
				msg = "has a key that is not an object with a \"kty\"";
				break;
			}
			if (json_object_get(k, "d")) {
				msg = "has a private key (\"d\"): register the public keys only";
				break;
			}
		}
	}
	json_decref(j);
	return msg ? cfg_fail(l, s, "'jwks' in service %s", msg) : 0;
}

static int parse_scopes(loader *l, config_setting_t *s, service_conf *svc)
{
	const char *want[16];
	size_t n = 0;
	char b[72];
	if (!s) {
		for (; n < 3; n++)
			want[n] = default_scopes[n];
	} else {
		int t = config_setting_type(s);
		if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
			return cfg_fail(l, s, "'scopes' in service must be a list of strings");
		int len = config_setting_length(s);
		if (len > 16)
			return cfg_fail(l, s, "'scopes' in service has too many entries");
		for (int i = 0; i < len; i++) {
			config_setting_t *e = cfg_elem(s, (size_t)i);
			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				return cfg_fail(
				    l, e, "each entry of 'scopes' in service must be a string");
			const char *v = config_setting_get_string(e);
			if (!config_scope_known(v))
				return cfg_fail(
				    l, e,
				    "unknown scope '%s' in service (openid, profile, email, "
				    "address or phone)",
				    cfg_shown(b, v));
			for (size_t j = 0; j < n; j++)
				if (!strcmp(want[j], v))
					return cfg_fail(l, e, "duplicate scope '%s' in service", v);
			want[n++] = v;
		}
	}
	int has_openid = 0;
	for (size_t i = 0; i < n; i++)
		has_openid |= !strcmp(want[i], "openid");
	svc->scopes = calloc(n + 1, sizeof *svc->scopes);
	if (!svc->scopes)
		return cfg_oom(l);
	/* "openid" is always allowed, and listed first */
	if (!has_openid && cfg_dup_into(l, "openid", &svc->scopes[svc->nscopes++]))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (cfg_dup_into(l, want[i], &svc->scopes[svc->nscopes++]))
			return -1;
	return 0;
}

/* require_pkce, require_nonce, require_state: each true unless the entry relaxes it. */
static int parse_policy(loader *l, config_setting_t **f, config_setting_t *g, service_conf *svc)
{
	if (cfg_opt_bool(l, f[S_REQUIRE_PKCE], "service", 1, &svc->require_pkce) ||
	    cfg_opt_bool(l, f[S_REQUIRE_NONCE], "service", 1, &svc->require_nonce) ||
	    cfg_opt_bool(l, f[S_REQUIRE_STATE], "service", 1, &svc->require_state))
		return -1;
	const char *why = service_policy_error(svc);
	if (why)
		return cfg_fail(l, f[S_REQUIRE_PKCE] ? f[S_REQUIRE_PKCE] : g, "service '%s': %s",
		                svc->client_id, why);
	return 0;
}

/* refresh_tokens, offline_access, introspection (all off by default), backchannel_logout_uri and
 * post_logout_redirect_uris (each URI as strict as a redirect URI: https, or http on loopback). */
static int parse_lifecycle(loader *l, config_setting_t **f, service_conf *svc)
{
	const char *w = "service";
	char b[72], why[128];
	if (cfg_opt_bool(l, f[S_REFRESH_TOKENS], w, 0, &svc->refresh_tokens) ||
	    cfg_opt_bool(l, f[S_OFFLINE_ACCESS], w, 0, &svc->offline_access) ||
	    cfg_opt_bool(l, f[S_INTROSPECTION], w, 0, &svc->introspection))
		return -1;
	if (svc->offline_access && !svc->refresh_tokens)
		return cfg_fail(l, f[S_OFFLINE_ACCESS],
		                "'offline_access' in service needs 'refresh_tokens = true'");
	if (f[S_BACKCHANNEL_LOGOUT_URI]) {
		if (cfg_opt_str(l, f[S_BACKCHANNEL_LOGOUT_URI], w, NULL,
		                &svc->backchannel_logout_uri))
			return -1;
		if (!config_redirect_uri_ok(svc->backchannel_logout_uri, why, sizeof why))
			return cfg_fail(l, f[S_BACKCHANNEL_LOGOUT_URI],
			                "'backchannel_logout_uri' in service: '%s' %s",
			                cfg_shown(b, svc->backchannel_logout_uri), why);
	}
	config_setting_t *r = f[S_POST_LOGOUT_REDIRECT_URIS];
	if (!r)
		return 0;
	if (cfg_get_strv(l, r, w, 0, MAX_REDIRECT_URIS, &svc->post_logout_redirect_uris,
	                 &svc->npost_logout_redirect_uris))
		return -1;
	for (size_t i = 0; i < svc->npost_logout_redirect_uris; i++)
		if (!config_redirect_uri_ok(svc->post_logout_redirect_uris[i], why, sizeof why))
			return cfg_fail(l, cfg_elem(r, i), "post-logout redirect URI '%s' %s",
			                cfg_shown(b, svc->post_logout_redirect_uris[i]), why);
	return 0;
}

/* client_id (unique among the first index services) and name. */
static int parse_names(loader *l, config_setting_t **f, service_conf *svc, size_t index)
{
	hub_conf *c = l->c;
	const char *w = "service";
	char b[72];
	if (cfg_opt_str(l, f[S_CLIENT_ID], w, NULL, &svc->client_id))
		return -1;
	if (!cfg_charset_ok(svc->client_id, 'c', 1, 64))
		return cfg_fail(l, f[S_CLIENT_ID],
		                "'client_id' in service must be 1 to 64 of "
		                "[A-Za-z0-9._:-]");
	for (size_t j = 0; j < index; j++)
		if (!strcmp(c->services[j].client_id, svc->client_id))
			return cfg_fail(l, f[S_CLIENT_ID],
			                "duplicate client_id '%s' (first at line %d)",
			                cfg_shown(b, svc->client_id), c->services[j].line);
	if (cfg_opt_str(l, f[S_NAME], w, NULL, &svc->name))
		return -1;
	long len = cfg_text_chars(svc->name);
	if (len < 1 || len > 100)
		return cfg_fail(l, f[S_NAME],
		                "'name' in service must be a text of 1 to 100 characters");
	return 0;
}

/* private_key_jwt: a jwks or a jwks_uri, and no secret_hash. */
static int parse_key_jwt(loader *l, config_setting_t **f, config_setting_t *g, service_conf *svc)
{
	char b[72], why[128];
	if (f[S_SECRET_HASH])
		return cfg_fail(l, f[S_SECRET_HASH],
		                "'secret_hash' in service is not used with private_key_jwt");
	if (f[S_JWKS] && f[S_JWKS_URI])
		return cfg_fail(l, f[S_JWKS_URI],
		                "service has both 'jwks' and 'jwks_uri': set only one");
	if (!f[S_JWKS] && !f[S_JWKS_URI])
		return cfg_fail(l, g, "service with private_key_jwt needs 'jwks' or 'jwks_uri'");
	if (f[S_JWKS] && parse_jwks(l, f[S_JWKS], svc))
		return -1;
	if (f[S_JWKS_URI]) {
		if (cfg_opt_str(l, f[S_JWKS_URI], "service", NULL, &svc->jwks_uri))
			return -1;
		if (!cfg_uri_check(svc->jwks_uri, NULL, why, sizeof why))
			return cfg_fail(l, f[S_JWKS_URI], "'jwks_uri' in service: '%s' %s",
			                cfg_shown(b, svc->jwks_uri), why);
	}
	return 0;
}

/* auth_method and what it needs: a secret_hash, or the keys of private_key_jwt. */
static int parse_auth(loader *l, config_setting_t **f, config_setting_t *g, service_conf *svc)
{
	svc->auth_method = AUTH_CLIENT_SECRET_BASIC;
	if (f[S_AUTH_METHOD]) {
		const char *m = "";
		if (cfg_get_str(l, f[S_AUTH_METHOD], "service", &m))
			return -1;
		int k = 0;
		while (k < AUTH_METHOD_COUNT && strcmp(m, client_auth_method_name(k)))
			k++;
		if (k == AUTH_METHOD_COUNT)
			return cfg_fail(l, f[S_AUTH_METHOD],
			                "'auth_method' in service must be \"client_secret_basic\", "
			                "\"client_secret_post\" or \"private_key_jwt\"");
		svc->auth_method = (client_auth_method)k;
	}
	if (svc->auth_method == AUTH_PRIVATE_KEY_JWT)
		return parse_key_jwt(l, f, g, svc);
	if (!f[S_SECRET_HASH])
		return cfg_fail(l, g, "missing required setting 'secret_hash' in service (%s)",
		                client_auth_method_name(svc->auth_method));
	if (parse_secret_hash(l, f[S_SECRET_HASH], svc))
		return -1;
	for (int k = S_JWKS; k <= S_JWKS_URI; k++)
		if (f[k])
			return cfg_fail(l, f[k],
			                "'%s' in service is used only with "
			                "private_key_jwt",
			                svc_names[k]);
	return 0;
}

/* redirect_uris: at least one, each acceptable, no duplicate. */
static int parse_redirects(loader *l, config_setting_t *r, service_conf *svc)
{
	char b[72], why[128];
	if (cfg_get_strv(l, r, "service", 1, MAX_REDIRECT_URIS, &svc->redirect_uris,
	                 &svc->nredirect_uris))
		return -1;
	for (size_t i = 0; i < svc->nredirect_uris; i++) {
		const char *u = svc->redirect_uris[i];
		if (!config_redirect_uri_ok(u, why, sizeof why))
			return cfg_fail(l, cfg_elem(r, i), "redirect URI '%s' %s", cfg_shown(b, u),
			                why);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(svc->redirect_uris[j], u))
				return cfg_fail(l, cfg_elem(r, i), "duplicate redirect URI '%s'",
				                cfg_shown(b, u));
	}
	return 0;
}

/* sector (default: the client_id), min_loa and id_token_alg. */
static int parse_subject(loader *l, config_setting_t **f, service_conf *svc)
{
	const char *w = "service";
	char b[72];
	if (cfg_opt_str(l, f[S_SECTOR], w, svc->client_id, &svc->sector))
		return -1;
	if (!cfg_charset_ok(svc->sector, 'p', 1, 255))
		return cfg_fail(l, f[S_SECTOR],
		                "'sector' in service must be 1 to 255 printable "
		                "characters without spaces");
	svc->min_loa = 1;
	if (f[S_MIN_LOA] && cfg_get_level(l, f[S_MIN_LOA], w, &svc->min_loa))
		return -1;
	/* OpenID Connect Dynamic Client Registration §2: id_token_signed_response_alg defaults to
	 * RS256, so a service that names none gets what every certified RP library expects */
	svc->id_token_alg = JWS_RS256;
	if (f[S_ID_TOKEN_ALG]) {
		const char *a = "";
		if (cfg_get_str(l, f[S_ID_TOKEN_ALG], w, &a))
			return -1;
		svc->id_token_alg = jws_alg_from_name(a);
		if (svc->id_token_alg == JWS_ALG_NONE)
			return cfg_fail(l, f[S_ID_TOKEN_ALG],
			                "unknown id_token_alg '%s' (ES256, RS256, PS256 or EdDSA)",
			                cfg_shown(b, a));
	}
	return 0;
}

/* idps (optional): configured IdPs, no duplicate. */
static int parse_idps(loader *l, config_setting_t *ids, service_conf *svc)
{
	char b[72];
	if (!ids)
		return 0;
	if (cfg_get_strv(l, ids, "service", 0, 1024, &svc->idps, &svc->nidps))
		return -1;
	for (size_t i = 0; i < svc->nidps; i++) {
		if (!config_idp(l->c, svc->idps[i]))
			return cfg_fail(l, cfg_elem(ids, i), "unknown idp '%s' in service",
			                cfg_shown(b, svc->idps[i]));
		for (size_t j = 0; j < i; j++)
			if (!strcmp(svc->idps[j], svc->idps[i]))
				return cfg_fail(l, cfg_elem(ids, i),
				                "duplicate idp '%s' in service",
				                cfg_shown(b, svc->idps[i]));
	}
	return 0;
}

static int parse_service(loader *l, config_setting_t *g, service_conf *svc, size_t index)
{
	config_setting_t *f[S_COUNT];
	svc->line = config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return cfg_fail(l, g, "each entry of 'services' must be a group { ... }");
	if (cfg_collect(l, g, "service", svc_names, S_COUNT, f))
		return -1;
	for (int k = 0; k < S_COUNT; k++)
		if (!f[k] && (k == S_CLIENT_ID || k == S_NAME || k == S_REDIRECT_URIS))
			return cfg_missing(l, g, svc_names[k], "service");
	if (parse_names(l, f, svc, index) || parse_auth(l, f, g, svc) ||
	    parse_redirects(l, f[S_REDIRECT_URIS], svc) || parse_subject(l, f, svc) ||
	    parse_idps(l, f[S_IDPS], svc) || parse_policy(l, f, g, svc) ||
	    parse_lifecycle(l, f, svc))
		return -1;
	return parse_scopes(l, f[S_SCOPES], svc);
}

int cfg_parse_services(loader *l, config_setting_t *s)
{
	hub_conf *c = l->c;
	if (!s)
		return 0;
	if (cfg_list_of_groups(l, s))
		return -1;
	size_t n = (size_t)config_setting_length(s);
	c->services = calloc(n ? n : 1, sizeof *c->services);
	if (!c->services)
		return cfg_oom(l);
	c->nservices = n;
	for (size_t i = 0; i < n; i++)
		if (parse_service(l, cfg_elem(s, i), &c->services[i], i))
			return -1;
	return 0;
}
