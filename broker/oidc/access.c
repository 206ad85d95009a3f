/* access.c — the hub's access tokens: verification and revocation (see access.h). */
#include "access.h"
#include "provider.h"
#include "../tokens/jws.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *access_token_check(hub *h, arena *a, const char *tok, access_info *out)
{
	memset(out, 0, sizeof *out);
	jws_parsed p;
	if (!tok || jws_parse(a, tok, ACCESS_TOKEN_MAX, &p))
		return "malformed access token";
	const char *why = NULL;
	keyring *kr = keys_cache_get(h->keys);
	const signing_key *k = p.kid && kr ? keyring_find(kr, p.kid) : NULL;
	const char *typ = json_string_value(json_object_get(p.header, "typ"));
	json_t *exp = json_object_get(p.payload, "exp");
	json_t *iat = json_object_get(p.payload, "iat");
	const char *iss = json_string_value(json_object_get(p.payload, "iss"));
	const char *aud = json_string_value(json_object_get(p.payload, "aud"));
#define S(k) arena_strdup(a, json_string_value(json_object_get(p.payload, k)))
	out->jti = S("jti");
	out->sub = S("sub");
	out->client_id = S("client_id");
	out->scope = S("scope");
	out->acr = S("acr");
#undef S
	out->iat = json_integer_value(iat);
	out->exp = json_integer_value(exp);
	out->auth_time = json_integer_value(json_object_get(p.payload, "auth_time"));
	if (!k || jws_verify(&p, k->pkey, k->alg) != 0)
		why = "access token signature does not verify";
	else if (!typ || strcasecmp(typ, "at+jwt") != 0)
		why = "not an access token";
	else if (!iss || strcmp(iss, h->cfg->issuer) != 0 || !aud ||
	         strcmp(aud, h->oidc->userinfo_endpoint) != 0)
		why = "access token not issued for this endpoint";
	else if (!json_is_integer(exp) || out->exp <= hub_now(h))
		why = "access token expired";
	else if (!json_is_integer(iat) || out->iat < store_unclean_floor(h->st))
		why = "access token issued before the hub restarted";
	else if (!out->jti || !*out->jti || !out->sub || !*out->sub || !out->client_id)
		why = "access token without jti, sub or client_id";
	keyring_unref(kr);
	jws_parsed_free(&p);
	return why;
}

int access_token_revoked(hub *h, const char *jti)
{
	void *v;
	size_t n;
	if (store_get(h->st, NS_REVOKED, jti, strlen(jti), &v, &n, NULL) != 0)
		return 0;
	free(v);
	return 1;
}

int access_token_revoke(hub *h, const char *jti, int64_t exp)
{
	int64_t ttl = exp - hub_now(h) + h->cfg->clock_leeway + 1;
	store_batch *b = store_batch_new();
	store_batch_put(b, NS_REVOKED, jti, strlen(jti), "", 0, ttl > 0 ? ttl : 1);
	store_batch_del(b, NS_USERINFO, jti, strlen(jti));
	return store_batch_commit(h->st, b);
}
