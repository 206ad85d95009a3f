/* verify.c — owns ID token verification for the upstream OIDC adapter: the signature is the
 * hub's (services->jws_verify: the JWKS it keeps fresh, the alg allow-list, no "crit", no embedded
 * keys, the kid rules and the rate-limited refetch), and here every claim check liboauth2's own
 * flow leaves out: iss, aud, azp, exp, iat, nonce, sub. oidc_claims_ok is pure (the fuzz target
 * calls it). */
#include "oidc_int.h"
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void say(char *why, size_t n, const char *msg)
{
	if (why && n)
		snprintf(why, n, "%s", msg);
}

static int json_int(const json_t *o, const char *name, int64_t *v)
{
	const json_t *x = json_object_get(o, name);
	if (json_is_integer(x)) {
		*v = (int64_t)json_integer_value(x);
		return 0;
	}
	if (json_is_real(x)) {
		double d = json_real_value(x);
		if (d > -9e15 && d < 9e15) {
			*v = (int64_t)d;
			return 0;
		}
	}
	return -1;
}

static int streq_ct(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

/* aud (a string or an array of strings) must contain client_id; with several audiences azp must be
 * present and be client_id (OIDC Core §3.1.3.7 items 3-5); a present azp must be client_id anyway.
 */
static int audience_ok(const json_t *pl, const char *client_id, char *why, size_t wl)
{
	const json_t *aud = json_object_get(pl, "aud");
	size_t naud = 0;
	int found = 0;
	if (json_is_string(aud)) {
		naud = 1;
		found = strcmp(json_string_value(aud), client_id) == 0;
	} else if (json_is_array(aud)) {
		size_t i;
		const json_t *v;
		json_array_foreach(aud, i, v)
		{
			if (!json_is_string(v)) {
				say(why, wl, "aud holds a value that is not a string");
				return 0;
			}
			naud++;
			if (strcmp(json_string_value(v), client_id) == 0)
				found = 1;
		}
	}
	if (!found) {
		say(why, wl, "aud does not contain our client_id");
		return 0;
	}
	const json_t *azp = json_object_get(pl, "azp");
	if (naud > 1 && !azp) {
		say(why, wl, "several audiences and no azp");
		return 0;
	}
	if (azp && (!json_is_string(azp) || strcmp(json_string_value(azp), client_id) != 0)) {
		say(why, wl, "azp is not our client_id");
		return 0;
	}
	return 1;
}

int oidc_claims_ok(const oidc_verify_params *p, const json_t *pl, char *why, size_t wl)
{
	const char *iss = json_string_value(json_object_get(pl, "iss"));
	/* exact comparison: no normalisation of case, trailing slash or port (mix-up defence) */
	if (!iss || strcmp(iss, p->issuer) != 0) {
		say(why, wl, "iss is not the discovered issuer");
		return -1;
	}
	if (!audience_ok(pl, p->client_id, why, wl))
		return -1;
	int64_t exp, iat;
	if (json_int(pl, "exp", &exp) || json_int(pl, "iat", &iat)) {
		say(why, wl, "exp or iat missing");
		return -1;
	}
	if (exp <= p->now - p->leeway) {
		say(why, wl, "ID token expired");
		return -1;
	}
	if (iat > p->now + p->leeway) {
		say(why, wl, "ID token issued in the future");
		return -1;
	}
	/* A token older than the login attempt (or max_age) cannot answer it, whatever its nonce.
	 */
	if (iat < p->now - p->max_age || iat < p->not_before - p->leeway) {
		say(why, wl, "ID token issued before this login began");
		return -1;
	}
	const char *nonce = json_string_value(json_object_get(pl, "nonce"));
	if (!nonce || !p->nonce || !streq_ct(nonce, p->nonce)) {
		say(why, wl, "nonce does not match this login");
		return -1;
	}
	const char *sub = json_string_value(json_object_get(pl, "sub"));
	if (!sub || !*sub || strlen(sub) > 255) {
		say(why, wl, "sub missing or too long");
		return -1;
	}
	return 0;
}

int oidc_idtoken_verify(oidc_ctx *c, idhub_arena *a, const oidc_verify_params *p, const char *token,
                        json_t **payload, const char **text, char *why, size_t whylen)
{
	const idhub_services *svc = c->svc;
	idhub_jws_check chk = {.jwks = c->jwks,
	                       .algs = c->v[S_ALLOWED_ALGS].items,
	                       .max_len = OIDC_MAX_TOKEN,
	                       .what = "ID token"};
	const char *alg = NULL;
	*payload = NULL;
	if (svc->jws_verify(svc->inst, a, &chk, token, text, &alg, why, whylen))
		return -1;
	json_t *pl = json_loads(*text, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(pl) || oidc_claims_ok(p, pl, why, whylen)) {
		if (!json_is_object(pl))
			say(why, whylen, "ID token payload is not a JSON object");
		json_decref(pl);
		return -1;
	}
	*payload = pl;
	return 0;
}
