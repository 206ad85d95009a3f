/* issue.c — token issuance, above the keys: building and signing ID tokens and access tokens with
 * the current keys (see issue.h); the JOSE primitives it signs with are below the keys, in
 * broker/tokens/. */
#include "issue.h"
#include <string.h>

char *token_access(arena *a, const keyring *kr, const token_input *in)
{
	const signing_key *k = keyring_current(kr, JWS_ES256);
	if (!k)
		return NULL;
	json_t *p = json_pack(
	    "{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s}", "iss", in->issuer, "sub", in->sub,
	    "aud", in->audience_at, "client_id", in->client_id, "iat", (json_int_t)in->now, "exp",
	    (json_int_t)(in->now + in->at_ttl), "auth_time", (json_int_t)in->auth_time, "acr",
	    in->acr, "scope", in->scope, "jti", in->jti);
	if (!p)
		return NULL;
	char *t = jws_sign(a, k->pkey, k->alg, k->kid, "at+jwt", p);
	json_decref(p);
	return t;
}

char *token_id(arena *a, const keyring *kr, jws_alg alg, const token_input *in,
               const char *access_token)
{
	const signing_key *k = keyring_current(kr, alg);
	if (!k)
		return NULL;
	json_t *p =
	    json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "iss", in->issuer, "sub", in->sub,
	              "aud", in->client_id, "exp", (json_int_t)(in->now + in->id_ttl), "iat",
	              (json_int_t)in->now, "auth_time", (json_int_t)in->auth_time, "acr", in->acr);
	if (!p)
		return NULL;
	/* absent when the request sent none (a service whose policy does not require it) */
	if (in->nonce)
		json_object_set_new(p, "nonce", json_string(in->nonce));
	if (in->sid)
		json_object_set_new(p, "sid", json_string(in->sid));
	if (access_token)
		json_object_set_new(p, "at_hash", json_string(jws_half_hash(a, alg, access_token)));
	if (in->claims)
		json_object_update_missing(p, (json_t *)in->claims);
	char *t = jws_sign(a, k->pkey, k->alg, k->kid, "JWT", p);
	json_decref(p);
	return t;
}

char *token_logout(arena *a, const keyring *kr, jws_alg alg, const logout_input *in)
{
	const signing_key *k = keyring_current(kr, alg);
	if (!k)
		return NULL;
	json_t *p =
	    json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:{s:{}}}", "iss", in->issuer, "sub",
	              in->sub, "aud", in->client_id, "iat", (json_int_t)in->now, "exp",
	              (json_int_t)(in->now + in->ttl), "jti", in->jti, "sid", in->sid, "events",
	              "http://schemas.openid.net/event/backchannel-logout");
	if (!p)
		return NULL;
	char *t = jws_sign(a, k->pkey, k->alg, k->kid, "logout+jwt", p);
	json_decref(p);
	return t;
}
