/* client_auth.c — token-endpoint client authentication (see client_auth.h). */
#include "client_auth.h"
#include "../idp/services.h"
#include "../tokens/jwk.h"
#include "../util/b64url.h"
#include "../util/log.h"
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ASSERTION_MAX 8192
#define ASSERTION_MAX_LIFETIME 600 /* an assertion may not be valid for longer than 10 minutes */
#define JWT_BEARER_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

int client_secret_matches(const service_conf *svc, const char *secret, int64_t now)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	if (!svc->has_secret || !secret)
		return 0;
	SHA256((const unsigned char *)secret, strlen(secret), d);
	int ok = CRYPTO_memcmp(d, svc->secret_hash, sizeof d) == 0;
	/* during a secret rotation's grace period the previous secret still works */
	int old =
	    now < svc->old_secret_until && CRYPTO_memcmp(d, svc->old_secret_hash, sizeof d) == 0;
	return ok | old;
}

static const hub_client *fail(client_auth_error *err, int status, const char *code, const char *msg,
                              int basic)
{
	err->status = status;
	err->error = code;
	err->message = msg;
	err->basic_challenge = basic;
	return NULL;
}

/* RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
static int parse_basic(arena *a, const char *hdr, const char **id, const char **secret)
{
	if (strncasecmp(hdr, "Basic ", 6) != 0)
		return -1;
	const char *b64 = hdr + 6;
	size_t len = strlen(b64);
	if (len > 2048)
		return -1;
	char *raw = arena_alloc(a, len + 1);
	long n = b64_decode(raw, b64, len);
	if (n < 0 || memchr(raw, 0, (size_t)n))
		return -1;
	char *colon = memchr(raw, ':', (size_t)n);
	if (!colon)
		return -1;
	*id = form_decode(a, raw, (size_t)(colon - raw), 1);
	*secret = form_decode(a, colon + 1, (size_t)(raw + n - colon - 1), 1);
	return *id && *secret ? 0 : -1;
}

/* The issuer or the token endpoint URL (OIDC Core §9; RFC 7523 §3), as one string. An array is
 * refused even when it holds one of them: an assertion with several audiences can be one the
 * client made for another server that lists us too (the 2025 audience-injection class), and
 * replayed here. */
static int aud_ok(hub *h, json_t *aud)
{
	if (!json_is_string(aud))
		return 0;
	return strcmp(json_string_value(aud), h->cfg->issuer) == 0 ||
	       strcmp(json_string_value(aud), h->oidc->token_endpoint) == 0;
}

/* After an unclean start the jti cache (volatile) was lost: an assertion that could have been
 * presented before that start may be a replay, so it is refused. Its iat says when it was made;
 * without iat, the earliest time our checks would have accepted it (its exp less the longest
 * lifetime, or its nbf) stands in. The start's own second counts as before. */
static int seen_before_floor(hub *h, json_t *iat, json_t *exp, json_t *nbf)
{
	int64_t floor = store_unclean_floor(h->st), leeway = h->cfg->clock_leeway;
	if (!floor)
		return 0;
	if (json_is_integer(iat))
		return json_integer_value(iat) <= floor;
	int64_t earliest = json_integer_value(exp) - ASSERTION_MAX_LIFETIME - leeway;
	if (json_is_integer(nbf) && json_integer_value(nbf) - leeway > earliest)
		earliest = json_integer_value(nbf) - leeway;
	return earliest <= floor;
}

static EVP_PKEY *client_key(hub *h, const hub_client *c, const char *kid, jws_alg alg, char *why,
                            size_t whylen)
{
	if (c->jwks)
		return jwks_find(c->jwks, kid, alg, why, whylen);
	if (c->conf->jwks_json) {
		/* a service registered in the store: its JWKS is parsed per use */
		json_t *jwks = json_loads(c->conf->jwks_json, JSON_REJECT_DUPLICATES, NULL);
		EVP_PKEY *k = jwks ? jwks_find(jwks, kid, alg, why, whylen) : NULL;
		json_decref(jwks);
		return k;
	}
	if (c->conf->jwks_uri) {
		/* fetched through the hub's HTTP client and cached for five minutes */
		char *doc = idp_cache_get(&h->idp, "client", c->conf->jwks_uri);
		if (!doc) {
			int status = 0;
			idhub_http_call call = {.url = c->conf->jwks_uri, .timeout_s = 5};
			if (idp_http(&h->idp, &call, &status, &doc) != 0 || status != 200) {
				free(doc);
				snprintf(why, whylen, "cannot fetch the client's jwks_uri");
				return NULL;
			}
			idp_cache_put(&h->idp, "client", c->conf->jwks_uri, doc, 300);
		}
		json_t *jwks = json_loads(doc, JSON_REJECT_DUPLICATES, NULL);
		free(doc);
		EVP_PKEY *k = jwks ? jwks_find(jwks, kid, alg, why, whylen) : NULL;
		json_decref(jwks);
		return k;
	}
	snprintf(why, whylen, "no keys registered");
	return NULL;
}

static const hub_client *auth_private_key_jwt(hub *h, http_req *r, const char *assertion,
                                              const char *client_id_param, client_auth_error *err)
{
	jws_parsed p;
	if (jws_parse(r->a, assertion, ASSERTION_MAX, &p))
		return fail(err, 401, "invalid_client", "client_assertion is not a valid JWT", 0);
	const hub_client *c = NULL;
	const char *msg = NULL;
	const char *iss = json_string_value(json_object_get(p.payload, "iss"));
	const char *sub = json_string_value(json_object_get(p.payload, "sub"));
	const char *jti = json_string_value(json_object_get(p.payload, "jti"));
	json_t *exp = json_object_get(p.payload, "exp");
	json_t *iat = json_object_get(p.payload, "iat");
	json_t *nbf = json_object_get(p.payload, "nbf");
	int64_t now = hub_now(h), leeway = h->cfg->clock_leeway;
	jws_alg alg = jws_alg_from_name(p.alg);
	if (!iss || !sub || strcmp(iss, sub) != 0)
		msg = "client_assertion iss and sub must both be the client_id";
	else if (client_id_param && strcmp(client_id_param, sub) != 0)
		msg = "client_id does not match the client_assertion";
	else if (!(c = hub_find_client(h, r->a, sub)))
		msg = "unknown client";
	else if (c->conf->auth_method != AUTH_PRIVATE_KEY_JWT)
		msg = "this client is not registered for private_key_jwt";
	else if (alg == JWS_ALG_NONE)
		msg = "client_assertion algorithm not allowed";
	else if (!aud_ok(h, json_object_get(p.payload, "aud")))
		msg = "client_assertion audience must be the issuer or the token endpoint";
	else if (!json_is_integer(exp) || json_integer_value(exp) + leeway < now)
		msg = "client_assertion expired or without exp";
	else if (json_integer_value(exp) > now + ASSERTION_MAX_LIFETIME + leeway)
		msg = "client_assertion lives too long";
	else if (iat && (!json_is_integer(iat) || json_integer_value(iat) > now + leeway))
		msg = "client_assertion issued in the future";
	else if (nbf && (!json_is_integer(nbf) || json_integer_value(nbf) > now + leeway))
		msg = "client_assertion not yet valid";
	else if (!jti || !*jti || strlen(jti) > 256)
		msg = "client_assertion needs a jti";
	else if (seen_before_floor(h, iat, exp, nbf))
		msg = "client_assertion made before the hub's last restart after a crash";
	if (!msg) {
		char why[128] = "";
		EVP_PKEY *k = client_key(h, c, p.kid, alg, why, sizeof why);
		if (!k || jws_verify(&p, k, alg) != 0)
			msg = "client_assertion signature does not verify";
		EVP_PKEY_free(k);
	}
	if (!msg) {
		/* each assertion once: remember its jti until it could no longer be accepted */
		char *key = arena_printf(r->a, "client:%s:%s", c->conf->client_id, jti);
		int64_t ttl = json_integer_value(exp) + leeway - now + 1;
		int rc = store_put_new(h->st, NS_REPLAY, key, strlen(key), "", 0, ttl);
		if (rc == STORE_EXISTS)
			msg = "client_assertion replayed";
		else if (rc)
			msg = "cannot record the client_assertion";
	}
	jws_parsed_free(&p);
	if (msg) {
		log_info("token: private_key_jwt refused: %s", msg);
		return fail(err, 401, "invalid_client", msg, 0);
	}
	return c;
}

const hub_client *client_authenticate(hub *h, http_req *r, client_auth_error *err)
{
	const char *authz = http_header(r, "Authorization");
	int n_secret, n_atype, n_assert, n_cid;
	const char *secret = form_param(&r->body, "client_secret", &n_secret);
	const char *atype = form_param(&r->body, "client_assertion_type", &n_atype);
	const char *assertion = form_param(&r->body, "client_assertion", &n_assert);
	const char *cid = form_param(&r->body, "client_id", &n_cid);
	/* counts include empty repetitions (form_param): "client_secret=&client_secret=" is a
	 * method used twice, refused below */
	int methods = (authz != NULL) + (n_secret > 0) + (n_assert > 0 || n_atype > 0);
	if (methods > 1)
		return fail(err, 400, "invalid_request",
		            "more than one client authentication method", 0);
	if (methods == 0)
		return fail(err, 401, "invalid_client", "client authentication required", 1);

	if (authz) {
		const char *id, *sec;
		if (parse_basic(r->a, authz, &id, &sec))
			return fail(err, 401, "invalid_client", "malformed Basic credentials", 1);
		if (cid && strcmp(cid, id) != 0)
			return fail(err, 400, "invalid_request", "client_id does not match", 0);
		const hub_client *c = hub_find_client(h, r->a, id);
		if (!c || c->conf->auth_method != AUTH_CLIENT_SECRET_BASIC ||
		    !client_secret_matches(c->conf, sec, hub_now(h)))
			return fail(err, 401, "invalid_client", "client authentication failed", 1);
		return c;
	}
	if (n_secret > 0) {
		if (n_secret != 1 || n_cid != 1)
			return fail(err, 400, "invalid_request",
			            "client_id and client_secret must appear once", 0);
		const hub_client *c = hub_find_client(h, r->a, cid);
		if (!c || c->conf->auth_method != AUTH_CLIENT_SECRET_POST ||
		    !client_secret_matches(c->conf, secret, hub_now(h)))
			return fail(err, 401, "invalid_client", "client authentication failed", 0);
		return c;
	}
	if (n_atype != 1 || n_assert != 1 || n_cid > 1 || strcmp(atype, JWT_BEARER_TYPE) != 0)
		return fail(err, 400, "invalid_request",
		            "client_assertion_type must be " JWT_BEARER_TYPE, 0);
	return auth_private_key_jwt(h, r, assertion, cid, err);
}
