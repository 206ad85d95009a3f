/* jwks.c — owns the upstream IdP's signing keys: parsing its JWKS (cjose keys, asymmetric signing
 * keys only), the shared key set, its periodic refresh, the refetch on an unknown kid (key rollover
 * without a restart) under a rate limit, and the last-known-good copy in the hub's store cache.
 *
 * The rate limit is the guard against liboauth2's trap of refetching the JWKS for every unknown
 * kid: a stream of forged tokens with random kids would otherwise make the hub hammer the IdP. At
 * most one fetch runs at a time (others wait for its result), and a fetch caused by an unknown kid
 * happens at most once per jwks_min_refetch_interval seconds. */
#include "oidc_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void oidc_keyset_free(oidc_keyset *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++) {
		free(ks->keys[i].kid);
		free(ks->keys[i].alg);
		cjose_jwk_release(ks->keys[i].jwk);
	}
	free(ks);
}

static char *dup_str(const json_t *v)
{
	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

oidc_keyset *oidc_keyset_parse(const char *text, char *why, size_t whylen)
{
	json_t *doc = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	json_t *arr = json_object_get(doc, "keys");
	if (!json_is_array(arr)) {
		snprintf(why, whylen, "the JWKS is not a JSON object with a keys array");
		json_decref(doc);
		return NULL;
	}
	oidc_keyset *ks = calloc(1, sizeof *ks);
	if (!ks) {
		json_decref(doc);
		return NULL;
	}
	ks->refs = 1;
	size_t i;
	json_t *k;
	json_array_foreach(arr, i, k)
	{
		if (ks->n == OIDC_MAX_KEYS)
			break;
		if (!json_is_object(k))
			continue;
		const char *kty = json_string_value(json_object_get(k, "kty"));
		const char *use = json_string_value(json_object_get(k, "use"));
		/* Only RSA and EC public keys for signatures. A symmetric ("oct") key in an IdP's
		 * JWKS is never a verification key for us; neither is an encryption key. Private
		 * parts, if an IdP ever published them, are not needed and not kept apart either:
		 * cjose imports the public key material we verify with. */
		if (!kty || (strcmp(kty, "RSA") != 0 && strcmp(kty, "EC") != 0))
			continue;
		if (use && strcmp(use, "sig") != 0)
			continue;
		const json_t *kid = json_object_get(k, "kid");
		if (kid && !json_is_string(kid))
			continue;
		cjose_err err;
		cjose_jwk_t *jwk = cjose_jwk_import_json((cjose_header_t *)k, &err);
		if (!jwk)
			continue;
		oidc_key *o = &ks->keys[ks->n];
		o->jwk = jwk;
		o->kty = cjose_jwk_get_kty(jwk, &err);
		o->bits = cjose_jwk_get_keysize(jwk, &err);
		o->curve = o->kty == CJOSE_JWK_KTY_EC ? (int)cjose_jwk_EC_get_curve(jwk, &err) : 0;
		o->kid = dup_str(kid);
		o->alg = dup_str(json_object_get(k, "alg"));
		ks->n++;
	}
	json_decref(doc);
	return ks;
}

static int64_t now_of(oidc_ctx *c)
{
	return c->svc->now(c->svc->hub);
}

/* Fetches the JWKS (no lock held); returns the parsed set and its text, or NULL. */
static oidc_keyset *fetch(oidc_ctx *c, const char *uri, char **text)
{
	int status = 0;
	char *body = NULL;
	char why[128] = "";
	*text = NULL;
	if (c->svc->http(c->svc->hub, uri, NULL, 0, NULL, NULL, c->timeout, &status, &body)) {
		c->svc->log(c->svc->hub, 4, "oidc %s: JWKS fetch failed (unreachable or timed out)",
		            c->instance_id);
		return NULL;
	}
	oidc_keyset *ks = NULL;
	if (status != 200 || !body || strlen(body) > OIDC_MAX_DOC)
		snprintf(why, sizeof why, "HTTP status %d", status);
	else
		ks = oidc_keyset_parse(body, why, sizeof why);
	if (!ks) {
		c->svc->log(c->svc->hub, 4, "oidc %s: JWKS refused: %s", c->instance_id, why);
		free(body);
		return NULL;
	}
	*text = body;
	return ks;
}

/* Installs a new set (lock held); the old one goes when its last user puts it. */
static void install(oidc_ctx *c, oidc_keyset *ks, int64_t fetched)
{
	oidc_keyset *old = c->keys;
	c->keys = ks;
	c->keys_fetched = fetched;
	if (old && --old->refs == 0)
		oidc_keyset_free(old);
}

void oidc_keys_put(oidc_ctx *c, oidc_keyset *ks)
{
	if (!ks)
		return;
	pthread_mutex_lock(&c->mu);
	int last = --ks->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (last)
		oidc_keyset_free(ks);
}

oidc_keyset *oidc_keys_get(oidc_ctx *c, const oidc_disco *d, int refetch)
{
	int64_t now = now_of(c);
	pthread_mutex_lock(&c->mu);
	oidc_keyset *seen = c->keys;
	while (c->keys_busy)
		pthread_cond_wait(&c->cv, &c->mu);
	/* Someone else fetched while we waited: that answers our unknown kid too. */
	int fresh = c->keys && c->keys != seen;
	int due = !c->keys || now - c->keys_fetched >= c->discovery_refresh;
	int allowed = now - c->keys_attempt >= c->jwks_min_refetch || !c->keys_attempt;
	int go = !fresh && (due || refetch) && allowed && d && d->jwks_uri;
	if (!go) {
		oidc_keyset *ks = c->keys;
		if (ks && (!refetch || fresh))
			ks->refs++;
		else if (refetch)
			ks = NULL; /* nothing newer: the rate limit holds */
		pthread_mutex_unlock(&c->mu);
		return ks;
	}
	c->keys_busy = 1;
	c->keys_attempt = now;
	char *uri = strdup(d->jwks_uri);
	pthread_mutex_unlock(&c->mu);

	char *text = NULL;
	int lkg_used = 0;
	oidc_keyset *ks = uri ? fetch(c, uri, &text) : NULL;
	free(uri);
	if (!ks && !c->keys) {
		/* The IdP is down and we have nothing in memory: the last-known-good copy. */
		char *lkg = c->svc->cache_get(c->svc->hub, c->instance_id, "jwks");
		char why[128];
		ks = lkg ? oidc_keyset_parse(lkg, why, sizeof why) : NULL;
		free(lkg);
		lkg_used = ks != NULL;
	} else if (ks) {
		c->svc->cache_put(c->svc->hub, c->instance_id, "jwks", text, OIDC_LKG_TTL);
	}
	free(text);

	pthread_mutex_lock(&c->mu);
	if (ks)
		install(c, ks, lkg_used ? 0 : now); /* a stored copy is retried soon */
	c->keys_busy = 0;
	pthread_cond_broadcast(&c->cv);
	oidc_keyset *out = c->keys;
	if (out && (ks || !refetch))
		out->refs++;
	else
		out = NULL;
	pthread_mutex_unlock(&c->mu);
	return out;
}
