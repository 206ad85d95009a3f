/* jose.c — the adapter host's JWS verification (idhub_services.jws_verify): a compact JWS from an
 * upstream party checked against a JWKS document the host keeps fresh (docs.c), on the hub's one
 * JOSE implementation (broker/tokens). It owns the rules adapters used to carry: the alg
 * allow-list (never none nor HMAC), no "crit", embedded keys (jwk, jku, x5c) never used, the kid
 * rules, and the one rate-limited JWKS refetch on an unknown kid or a failed signature. */
#include "jose.h"
#include "host_int.h"
#include "../tokens/jwk.h"
#include "../tokens/jws.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 32 /* keys looked at in one JWKS */

enum { V_OK = 0, V_BAD = -1, V_NO_KEY = -2, V_BAD_SIG = -3 };

static int allowed(const char *const *algs, const char *alg)
{
	for (size_t i = 0; algs && algs[i]; i++)
		if (!strcmp(algs[i], alg))
			return jws_verify_alg_known(alg);
	return 0;
}

/* A JWK the JWKS offers for signatures: an object, "use" absent or "sig". */
static int sig_key(const json_t *k)
{
	const json_t *use = json_object_get(k, "use");
	return json_is_object(k) &&
	       (!use || (json_is_string(use) && !strcmp(json_string_value(use), "sig")));
}

/* Kid rules: with a kid, the keys of that kid; without one, the set's only key (OIDC Core §10.1:
 * an IdP holding several keys must say which one signed, so a token is never checked against a
 * key the IdP did not mean). A key whose JWK names another alg, or whose type does not fit the
 * token's alg, is never a candidate: the alg comes from the attacker-controlled header. */
static int try_keys(const json_t *jwks, const jws_parsed *p, const char *what, char *why, size_t wl)
{
	const json_t *keys = json_object_get(jwks, "keys"), *k;
	size_t i, usable = 0, ncand = 0;
	int verified = 0;
	json_array_foreach(keys, i, k)
	{
		EVP_PKEY *pk = i < MAX_KEYS && sig_key(k) ? jwk_to_pkey(k, NULL, 0) : NULL;
		if (!pk)
			continue;
		usable++;
		const char *kid = json_string_value(json_object_get(k, "kid"));
		const char *kalg = json_string_value(json_object_get(k, "alg"));
		if ((!p->kid || (kid && !strcmp(kid, p->kid))) &&
		    (!kalg || !strcmp(kalg, p->alg)) && jws_key_fits_named(pk, p->alg)) {
			ncand++;
			verified = verified || jws_verify_named(p, pk, p->alg) == 0;
		}
		EVP_PKEY_free(pk);
	}
	if (!p->kid && usable > 1) {
		snprintf(why, wl, "%s has no kid and the IdP's JWKS holds several keys", what);
		return V_BAD;
	}
	if (!ncand) {
		snprintf(why, wl, "no key of the IdP's JWKS matches the %s's kid and alg", what);
		return V_NO_KEY;
	}
	if (verified)
		return V_OK;
	snprintf(why, wl, "%s signature does not verify", what);
	/* under a kid we know: the IdP may have reused the kid for a new key */
	return p->kid ? V_BAD_SIG : V_BAD;
}

static int check_header(const jws_parsed *p, const idhub_jws_check *chk, const char *what,
                        char *why, size_t wl)
{
	if (!allowed(chk->algs, p->alg)) {
		snprintf(why, wl, "%s alg not allowed", what);
		return -1;
	}
	if (json_object_get(p->header, "crit")) {
		snprintf(why, wl, "%s header has crit extensions we do not understand", what);
		return -1;
	}
	const json_t *kid = json_object_get(p->header, "kid");
	if (kid && (!json_is_string(kid) || json_string_length(kid) > 256)) {
		snprintf(why, wl, "%s kid is not a short string", what);
		return -1;
	}
	return 0;
}

static int against_doc(idhub_doc *d, const jws_parsed *p, const char *what, char *why, size_t wl)
{
	const json_t *jwks = docs_get(d);
	int rc = V_NO_KEY;
	if (jwks)
		rc = try_keys(jwks, p, what, why, wl);
	else
		snprintf(why, wl, "the IdP's JWKS is not available");
	docs_put(d, jwks);
	return rc;
}

int jose_verify_set(const json_t *jwks, arena *a, const char *const *algs, size_t max,
                    const char *what, const char *token, json_t **payload, char *why, size_t wl)
{
	jws_parsed p;
	*payload = NULL;
	if (!token || strlen(token) > max || jws_parse(a, token, max, &p)) {
		snprintf(why, wl, "%s is not a compact JWS", what);
		return -1;
	}
	idhub_jws_check chk = {.algs = algs};
	int rc = check_header(&p, &chk, what, why, wl) ? V_BAD : try_keys(jwks, &p, what, why, wl);
	if (rc == V_OK)
		*payload = json_incref(p.payload);
	jws_parsed_free(&p);
	return rc == V_OK ? 0 : -1;
}

int jose_verify(idhub_instance *in, idhub_arena *a, const idhub_jws_check *chk, const char *token,
                const char **payload, const char **alg, char *why, size_t wl)
{
	(void)in;
	const char *what = chk->what ? chk->what : "token";
	size_t max = chk->max_len ? chk->max_len : 16384, tl = token ? strlen(token) : 0;
	*payload = NULL;
	if (tl == 0 || tl > max || !chk->jwks || !docs_is_jwks(chk->jwks)) {
		snprintf(why, wl, "no %s, or one too long", what);
		return -1;
	}
	jws_parsed p;
	if (jws_parse((arena *)a, token, max, &p)) {
		snprintf(why, wl, "%s is not a compact JWS", what);
		return -1;
	}
	int rc = check_header(&p, chk, what, why, wl) ? V_BAD
	                                              : against_doc(chk->jwks, &p, what, why, wl);
	if (rc == V_NO_KEY || rc == V_BAD_SIG) {
		/* key rollover: the IdP may sign with a key published after our last fetch, or
		 * under a kid it reused for a new key; docs_refetch holds the rate limit */
		int r = docs_refetch(chk->jwks);
		if (r == 1)
			rc = against_doc(chk->jwks, &p, what, why, wl);
		else if (rc == V_NO_KEY)
			snprintf(why, wl, "unknown signing key (JWKS refetch rate-limited)");
		else
			snprintf(why + strlen(why), wl - strlen(why),
			         " (JWKS refetch rate-limited)");
	}
	if (rc == V_OK) {
		char *js = json_dumps(p.payload, JSON_COMPACT);
		*payload = js ? arena_strdup((arena *)a, js) : NULL;
		*alg = arena_strdup((arena *)a, p.alg);
		free(js);
		if (!*payload) {
			snprintf(why, wl, "out of memory");
			rc = V_BAD;
		}
	}
	jws_parsed_free(&p);
	return rc == V_OK ? 0 : -1;
}
