/* mapping.c — from verified PID claims to the hub's identity: the upstream subject (the
 * issuer-assigned identifier named by subject_claim when present, else a keyed hash of given
 * name, family name, birth date and place of birth), the level, and the claims released under
 * their OIDC names. Every configured claim must have been disclosed. */
#include "wallet_int.h"
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

extern const char *const wallet_hash_claims[];

static const char *hashed_subject(const wallet *w, idhub_arena *a, json_t *claims)
{
	json_t *arr = json_array();
	for (int i = 0; wallet_hash_claims[i]; i++) {
		json_t *v = json_object_get(claims, wallet_hash_claims[i]);
		if (!v) {
			json_decref(arr);
			return NULL;
		}
		json_array_append(arr, v);
	}
	/* canonical: compact, keys sorted; a JSON array keeps the fields apart */
	char *s = json_dumps(arr, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(arr);
	unsigned char md[32];
	unsigned int mdlen = 0;
	int ok = s && HMAC(EVP_sha256(), w->subject_key, (int)w->subject_key_len,
	                   (unsigned char *)s, strlen(s), md, &mdlen);
	free(s);
	return ok ? w->svc->sprintf(a, "pid-hash:%s", w->svc->b64url_encode(a, md, mdlen)) : NULL;
}

/* issuer_levels is a MAP of "<iss>=<level>" (a number or a name of the hub's loa list). The iss
 * claim is the issuer's own word: every trust anchor is trusted to state it truthfully, so list
 * only issuers whose CAs you trust that far. With iss NULL, only checks the levels. */
int wallet_issuer_level(const wallet *w, const char *iss)
{
	const idhub_value *v = &w->cfg->values[S_ISSUER_LEVELS];
	for (size_t i = 0; v->set && i < v->nitems; i++) {
		int lv = w->svc->level_of(w->svc->inst, v->items[2 * i + 1]);
		if (!lv)
			return -1;
		if (iss && !strcmp(iss, v->items[2 * i]))
			return lv;
	}
	return (int)w->cfg->values[S_LEVEL].num;
}

/* What wallet_map will need, checked at the response_uri before the answer is parked: each
 * wanted claim (PID names) disclosed, and a subject (subject_claim, else every claim the keyed
 * hash is over). The same reasons as wallet_map's. */
int wallet_claims_ok(const wallet *w, json_t *wanted, json_t *claims, char *why, size_t whylen)
{
	const idhub_value *v = w->cfg->values;
	size_t i;
	json_t *c;
	json_array_foreach(wanted, i, c)
	{
		if (!json_is_string(c) || !json_object_get(claims, json_string_value(c))) {
			snprintf(why, whylen, "requested claim %.64s not disclosed",
			         json_is_string(c) ? json_string_value(c) : "(malformed)");
			return -1;
		}
	}
	const char *id = v[S_SUBJECT_CLAIM].set && *v[S_SUBJECT_CLAIM].str
	                     ? json_string_value(json_object_get(claims, v[S_SUBJECT_CLAIM].str))
	                     : NULL;
	if (id && *id)
		return 0;
	for (int k = 0; wallet_hash_claims[k]; k++)
		if (!json_object_get(claims, wallet_hash_claims[k])) {
			snprintf(
			    why, whylen,
			    "subject: neither %s nor all of given_name, family_name, birthdate, "
			    "place_of_birth disclosed",
			    v[S_SUBJECT_CLAIM].str);
			return -1;
		}
	return 0;
}

int wallet_map(const wallet *w, idhub_arena *a, const idhub_login_request *req, json_t *claims,
               int64_t auth_time, const char *upstream_id, idhub_identity *out, idhub_error *err)
{
	const idhub_services *s = w->svc;
	const idhub_value *v = w->cfg->values;
	/* the wanted claims, each disclosed (the others: neither required nor kept), by PID name
	 * and OIDC name */
	idhub_kv *map = s->alloc(a, (v[S_CLAIMS].nitems + 1) * sizeof *map);
	size_t n = 0;
	for (size_t i = 0; i < v[S_CLAIMS].nitems; i++) {
		const char *c = v[S_CLAIMS].items[i];
		if (!wallet_claim_wanted(w, req, i))
			continue;
		if (!json_object_get(claims, c))
			return idhub_fail(err, IDHUB_ERR_INVALID,
			                  "requested claim %s not disclosed", c);
		map[n++] = (idhub_kv){c, wallet_oidc_name(c)};
	}
	const char *id = v[S_SUBJECT_CLAIM].set && *v[S_SUBJECT_CLAIM].str
	                     ? json_string_value(json_object_get(claims, v[S_SUBJECT_CLAIM].str))
	                     : NULL;
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	const char *subject = id && *id ? s->sprintf(a, "pid:%s:%s", iss ? iss : "", id)
	                                : hashed_subject(w, a, claims);
	if (!subject)
		return idhub_fail(
		    err, IDHUB_ERR_INVALID,
		    "subject: neither %s nor all of given_name, family_name, birthdate, "
		    "place_of_birth disclosed",
		    v[S_SUBJECT_CLAIM].str);
	*out = (idhub_identity){.subject = subject,
	                        .loa = wallet_issuer_level(w, iss),
	                        .auth_time = auth_time,
	                        .upstream_id = upstream_id};
	char *txt = json_dumps(claims, JSON_COMPACT);
	int rc = txt ? s->attrs_from_json(s->inst, a, txt, map, n, out) : -1;
	free(txt);
	return rc ? idhub_fail(err, IDHUB_ERR_INTERNAL, "out of memory") : 0;
}
