/* sdjwt.c — an SD-JWT VC presentation (issuer-jwt~disclosure~...~kb-jwt): the issuer's ES256
 * signature with the key of its x5c chain (trusted only through the configured anchors), typ
 * dc+sd-jwt, the vct allow-list, exp and nbf, the disclosures (disclose.c) and the key binding
 * (kb.c). Each refusal says which check failed. */
#include "wallet_int.h"
#include <string.h>

#define MAX_DISCLOSURES 64

static int vct_allowed(const wallet *w, const char *vct)
{
	const idhub_value *v = &w->cfg->values[S_VCT];
	for (size_t i = 0; vct && i < v->nitems; i++)
		if (!strcmp(v->items[i], vct))
			return 1;
	return 0;
}

static int times_ok(const wallet *w, json_t *p, int64_t now, char *why, size_t whylen)
{
	int64_t leeway = w->cfg->values[S_LEEWAY].num;
	json_t *exp = json_object_get(p, "exp"), *nbf = json_object_get(p, "nbf");
	if (!json_is_integer(exp) || json_integer_value(exp) <= now - leeway) {
		snprintf(why, whylen, "PID expired (exp)");
		return -1;
	}
	if (nbf && (!json_is_integer(nbf) || json_integer_value(nbf) > now + leeway)) {
		snprintf(why, whylen, "PID not yet valid (nbf)");
		return -1;
	}
	return 0;
}

static int issuer_jwt(const wallet *w, idhub_arena *a, const char *jwt, int64_t now,
                      json_t **payload, char *why, size_t whylen)
{
	json_t *h, *p;
	EVP_PKEY *k = NULL;
	char sub[200];
	if (wallet_jws_parts(w, a, jwt, &h, &p)) {
		snprintf(why, whylen, "issuer JWT: malformed");
		return -1;
	}
	const char *typ = json_string_value(json_object_get(h, "typ")),
	           *iss = json_string_value(json_object_get(p, "iss"));
	int rc = -1;
	if (!typ || strcmp(typ, "dc+sd-jwt"))
		snprintf(why, whylen, "issuer JWT: typ is not dc+sd-jwt");
	else if (!iss || !*iss)
		snprintf(why, whylen, "issuer JWT: iss missing");
	/* the certificate must name iss (SD-JWT VC §3.5): iss is what issuer_levels and the
	 * subject are keyed on, so one trusted issuer cannot speak as another */
	else if (wallet_x5c_key(w, a, json_object_get(h, "x5c"), iss, &k, sub, sizeof sub))
		snprintf(why, whylen, "issuer: %s", sub);
	else
		rc = 0;
	json_decref(h);
	json_decref(p);
	if (rc)
		return -1;
	rc = wallet_es256_verify(w, a, k, jwt, &h, &p, sub, sizeof sub);
	EVP_PKEY_free(k);
	if (rc) {
		snprintf(why, whylen, "issuer signature: %s", sub);
		return -1;
	}
	json_decref(h);
	const char *vct = json_string_value(json_object_get(p, "vct"));
	if (!vct_allowed(w, vct)) {
		snprintf(why, whylen, "vct %.100s is not allowed", vct ? vct : "(missing)");
		json_decref(p);
		return -1;
	}
	if (times_ok(w, p, now, why, whylen)) {
		json_decref(p);
		return -1;
	}
	*payload = p;
	return 0;
}

int wallet_sdjwt_verify(const wallet *w, idhub_arena *a, const char *sdjwt,
                        const wallet_kb_expect *kb, json_t **claims, int64_t *auth_time, char *why,
                        size_t whylen)
{
	char *parts[MAX_DISCLOSURES + 2], *c = w->svc->strdup(a, sdjwt);
	size_t n = 0;
	const char *last = strrchr(sdjwt, '~');
	if (strlen(sdjwt) > WALLET_MAX_RESPONSE || !last) {
		snprintf(why, whylen, "presentation: not an SD-JWT");
		return -1;
	}
	for (char *t = c; t; n++) {
		if (n == MAX_DISCLOSURES + 2) {
			snprintf(why, whylen, "presentation: more than %d disclosures",
			         MAX_DISCLOSURES);
			return -1;
		}
		parts[n] = t;
		t = strchr(t, '~');
		if (t)
			*t++ = 0;
	}
	/* parts[0] the issuer JWT, parts[1..n-2] disclosures, parts[n-1] the KB-JWT ("" if none) */
	json_t *p;
	if (issuer_jwt(w, a, parts[0], kb->now, &p, why, whylen))
		return -1;
	for (size_t i = 1; i + 1 < n; i++)
		if (!*parts[i]) {
			snprintf(why, whylen, "presentation: empty disclosure");
			json_decref(p);
			return -1;
		}
	if (wallet_kb_verify(w, a, p, parts[n - 1], sdjwt, (size_t)(last - sdjwt) + 1, kb,
	                     auth_time, why, whylen) ||
	    wallet_disclose(w, a, p, parts + 1, n - 2, why, whylen)) {
		json_decref(p);
		return -1;
	}
	*claims = p;
	return 0;
}
