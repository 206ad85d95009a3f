/* clients.c — the relying-party registry: config-file services and store-registered ones (see
 * clients.h). */
#include "clients.h"
#include "clients_int.h"
#include "../util/b64url.h"
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char **str_array(arena *a, json_t *arr, size_t *n, size_t max)
{
	*n = 0;
	if (!json_is_array(arr) || json_array_size(arr) > max)
		return NULL;
	char **v = arena_alloc(a, (json_array_size(arr) + 1) * sizeof(*v));
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
	{
		if (!json_is_string(e))
			return NULL;
		v[(*n)++] = arena_strdup(a, json_string_value(e));
	}
	return v;
}

static int hash_from(const char *s, unsigned char out[32])
{
	unsigned char d[40];
	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s + 7) != 43)
		return -1;
	if (b64url_decode(d, s + 7, 43) != 32)
		return -1;
	memcpy(out, d, 32);
	return 0;
}

/* The policy flags: absent means true (strict), so a record written before they existed keeps the
 * strict behaviour. -1 when one is present but not a boolean. */
static int policy_parse(json_t *o, service_conf *s)
{
	static const struct {
		const char *name;
		size_t off;
	} flags[] = {{"require_pkce", offsetof(service_conf, require_pkce)},
	             {"require_nonce", offsetof(service_conf, require_nonce)},
	             {"require_state", offsetof(service_conf, require_state)}};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		json_t *v = json_object_get(o, flags[i].name);
		if (v && !json_is_boolean(v))
			return -1;
		*(int *)((char *)s + flags[i].off) = v ? json_is_true(v) : 1;
	}
	return 0;
}

/* The token-lifecycle settings (config.h): absent means off / none. -1 when malformed. */
static int lifecycle_parse(arena *a, json_t *o, service_conf *s)
{
	static const struct {
		const char *name;
		size_t off;
	} flags[] = {{"refresh_tokens", offsetof(service_conf, refresh_tokens)},
	             {"offline_access", offsetof(service_conf, offline_access)},
	             {"introspection", offsetof(service_conf, introspection)}};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		json_t *v = json_object_get(o, flags[i].name);
		if (v && !json_is_boolean(v))
			return -1;
		*(int *)((char *)s + flags[i].off) = json_is_true(v);
	}
	char w[128];
	json_t *bc = json_object_get(o, "backchannel_logout_uri");
	if (bc &&
	    (!json_is_string(bc) || !config_redirect_uri_ok(json_string_value(bc), w, sizeof w)))
		return -1;
	s->backchannel_logout_uri = arena_strdup(a, json_string_value(bc));
	json_t *pl = json_object_get(o, "post_logout_redirect_uris");
	if (!pl)
		return 0;
	s->post_logout_redirect_uris = str_array(a, pl, &s->npost_logout_redirect_uris, 16);
	if (!s->post_logout_redirect_uris)
		return -1;
	for (size_t i = 0; i < s->npost_logout_redirect_uris; i++)
		if (!config_redirect_uri_ok(s->post_logout_redirect_uris[i], w, sizeof w))
			return -1;
	return 0;
}

#define BAD(msg)                                                                                   \
	do {                                                                                       \
		snprintf(why, whylen, "%s", msg);                                                  \
		goto bad;                                                                          \
	} while (0)

service_conf *client_record_parse(arena *a, const hub_conf *cfg, const char *json, size_t len,
                                  char *why, size_t whylen)
{
	json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	service_conf *s = arena_alloc(a, sizeof(*s));
	const char *v;
	if (!json_is_object(o))
		BAD("not a JSON object");
	s->client_id = arena_strdup(a, json_string_value(json_object_get(o, "client_id")));
	s->name = arena_strdup(a, json_string_value(json_object_get(o, "name")));
	if (!s->client_id || !s->name)
		BAD("client_id and name are required");
	v = json_string_value(json_object_get(o, "auth_method"));
	s->auth_method = AUTH_METHOD_COUNT;
	for (int m = 0; v && m < AUTH_METHOD_COUNT; m++)
		if (strcmp(v, client_auth_method_name((client_auth_method)m)) == 0)
			s->auth_method = (client_auth_method)m;
	if (s->auth_method == AUTH_METHOD_COUNT)
		BAD("unknown auth_method");
	if (s->auth_method == AUTH_PRIVATE_KEY_JWT) {
		s->jwks_json = arena_strdup(a, json_string_value(json_object_get(o, "jwks")));
		s->jwks_uri = arena_strdup(a, json_string_value(json_object_get(o, "jwks_uri")));
		if (!s->jwks_json == !s->jwks_uri)
			BAD("private_key_jwt needs exactly one of jwks and jwks_uri");
	} else {
		if (hash_from(json_string_value(json_object_get(o, "secret_hash")), s->secret_hash))
			BAD("secret_hash must be sha256:<base64url>");
		s->has_secret = 1;
		const char *old = json_string_value(json_object_get(o, "old_secret_hash"));
		if (old) {
			if (hash_from(old, s->old_secret_hash))
				BAD("old_secret_hash must be sha256:<base64url>");
			s->old_secret_until =
			    json_integer_value(json_object_get(o, "old_secret_until"));
		}
	}
	s->redirect_uris =
	    str_array(a, json_object_get(o, "redirect_uris"), &s->nredirect_uris, 16);
	if (!s->redirect_uris || !s->nredirect_uris)
		BAD("redirect_uris must list 1 to 16 URIs");
	for (size_t i = 0; i < s->nredirect_uris; i++) {
		char w[128];
		if (!config_redirect_uri_ok(s->redirect_uris[i], w, sizeof w))
			BAD("a redirect URI is not acceptable");
	}
	v = json_string_value(json_object_get(o, "sector"));
	s->sector = arena_strdup(a, v ? v : s->client_id);
	if (strlen(s->sector) > 255)
		BAD("sector too long");
	v = json_string_value(json_object_get(o, "min_loa"));
	s->min_loa = v ? config_loa_level(cfg, v) : 1;
	if (s->min_loa < 1)
		BAD("min_loa is not a configured level");
	v = json_string_value(json_object_get(o, "id_token_alg"));
	/* the registration default (OIDC Dynamic Client Registration §2) */
	s->id_token_alg = jws_alg_from_name(v ? v : "RS256");
	if (s->id_token_alg == JWS_ALG_NONE)
		BAD("unknown id_token_alg");
	s->idps = str_array(a, json_object_get(o, "idps"), &s->nidps, 64);
	if (!s->idps && json_object_get(o, "idps"))
		BAD("idps must be a list of IdP ids");
	s->scopes = str_array(a, json_object_get(o, "scopes"), &s->nscopes, 8);
	if (!s->scopes)
		BAD("scopes must be a list");
	for (size_t i = 0; i < s->nscopes; i++)
		if (!config_scope_known(s->scopes[i]))
			BAD("scopes names an unknown scope");
	if (policy_parse(o, s))
		BAD("require_pkce, require_nonce and require_state must be booleans");
	if ((v = service_policy_error(s)))
		BAD(v);
	if (lifecycle_parse(a, o, s))
		BAD("the logout and token settings are malformed");
	json_decref(o);
	return s;
bad:
	json_decref(o);
	return NULL;
}

static json_t *strings(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *hash_json(const unsigned char h[32])
{
	char enc[44];
	b64url_encode(enc, h, 32);
	return json_sprintf("sha256:%s", enc);
}

json_t *client_record_json(const hub_conf *cfg, const service_conf *s)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "client_id", s->client_id, "name",
	                      s->name, "auth_method", client_auth_method_name(s->auth_method),
	                      "sector", s->sector, "min_loa", config_loa_acr(cfg, s->min_loa),
	                      "id_token_alg", jws_alg_name(s->id_token_alg));
	if (s->has_secret)
		json_object_set_new(o, "secret_hash", hash_json(s->secret_hash));
	if (s->old_secret_until) {
		json_object_set_new(o, "old_secret_hash", hash_json(s->old_secret_hash));
		json_object_set_new(o, "old_secret_until", json_integer(s->old_secret_until));
	}
	if (s->jwks_json)
		json_object_set_new(o, "jwks", json_string(s->jwks_json));
	if (s->jwks_uri)
		json_object_set_new(o, "jwks_uri", json_string(s->jwks_uri));
	json_object_set_new(o, "redirect_uris", strings(s->redirect_uris, s->nredirect_uris));
	json_object_set_new(o, "idps", strings(s->idps, s->nidps));
	json_object_set_new(o, "scopes", strings(s->scopes, s->nscopes));
	json_object_set_new(o, "require_pkce", json_boolean(s->require_pkce));
	json_object_set_new(o, "require_nonce", json_boolean(s->require_nonce));
	json_object_set_new(o, "require_state", json_boolean(s->require_state));
	json_object_set_new(o, "refresh_tokens", json_boolean(s->refresh_tokens));
	json_object_set_new(o, "offline_access", json_boolean(s->offline_access));
	json_object_set_new(o, "introspection", json_boolean(s->introspection));
	if (s->backchannel_logout_uri)
		json_object_set_new(o, "backchannel_logout_uri",
		                    json_string(s->backchannel_logout_uri));
	json_object_set_new(o, "post_logout_redirect_uris",
	                    strings(s->post_logout_redirect_uris, s->npost_logout_redirect_uris));
	return o;
}

const service_conf *clients_lookup(const hub_conf *cfg, store *s, arena *a, const char *client_id)
{
	if (!client_id || !*client_id)
		return NULL;
	const service_conf *c = config_service(cfg, client_id);
	if (c)
		return c;
	void *v;
	size_t n;
	if (strlen(client_id) > 128 || clients_cache_get(s, client_id, &v, &n) != 0)
		return NULL;
	char why[128];
	service_conf *sc = client_record_parse(a, cfg, v, n, why, sizeof why);
	free(v);
	return sc;
}
