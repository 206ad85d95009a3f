/* status.c — Token Status List (draft-ietf-oauth-status-list): a PID that names a status list
 * entry (status.status_list {idx, uri}) is looked up in the list token fetched from uri. The
 * token must be typ statuslist+jwt, signed ES256 by a key whose x5c chain ends at the PID trust
 * anchors, with sub equal to uri and not expired; its lst is inflated with zlib (bounded) and the
 * entry's bits read: 0 valid, 1 revoked (invalid), 2 suspended, anything else refused. A token
 * with a ttl claim is kept in the instance's cache for that long (at most an hour, never past its
 * exp), as the draft allows, and verified again at each use: a PID checked again within it costs
 * no fetch. */
#include "wallet_int.h"
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define STATUS_MAX_LIST (4u << 20) /* inflated bytes: 32 Mi one-bit entries */

static int no(char *why, size_t whylen, const char *m)
{
	snprintf(why, whylen, "status list: %s", m);
	return -1;
}

/* Inflates zlib data into at most STATUS_MAX_LIST bytes (a zip bomb stops there). */
static unsigned char *inflate_list(const unsigned char *in, size_t inlen, size_t *outlen)
{
	size_t cap = 4096;
	unsigned char *out = malloc(cap);
	z_stream z = {.next_in = (unsigned char *)in, .avail_in = (uInt)inlen};
	if (!out || inflateInit(&z) != Z_OK) {
		free(out);
		return NULL;
	}
	int rc = Z_OK;
	while (rc == Z_OK) {
		if (z.total_out == cap) {
			unsigned char *n = cap < STATUS_MAX_LIST ? realloc(out, cap * 2) : NULL;
			if (!n)
				break;
			out = n, cap *= 2;
		}
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
	}
	*outlen = z.total_out;
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

static int entry(const wallet *w, idhub_arena *a, json_t *p, json_int_t idx, char *why,
                 size_t whylen)
{
	json_t *sl = json_object_get(p, "status_list");
	json_int_t bits = json_integer_value(json_object_get(sl, "bits"));
	const char *lst = json_string_value(json_object_get(sl, "lst"));
	unsigned char *z;
	long zlen = lst ? w->svc->b64url_decode(a, lst, &z) : -1;
	if ((bits != 1 && bits != 2 && bits != 4 && bits != 8) || zlen <= 0)
		return no(why, whylen, "bits or lst malformed");
	size_t n = 0;
	unsigned char *list = inflate_list(z, (size_t)zlen, &n);
	if (!list)
		return no(why, whylen, "lst does not inflate");
	uint64_t bit = (uint64_t)idx * (uint64_t)bits;
	int st = -1;
	if (bit / 8 < n)
		st = (list[bit / 8] >> (bit % 8)) & ((1 << bits) - 1);
	free(list);
	if (st < 0)
		return no(why, whylen, "idx beyond the list");
	if (st == 1)
		return no(why, whylen, "PID revoked (status 1, invalid)");
	if (st == 2)
		return no(why, whylen, "PID suspended (status 2)");
	if (st != 0)
		return no(why, whylen, "PID status not valid");
	return 0;
}

/* How long a verified token p may be kept: its ttl, at most an hour, never past its exp. */
static int64_t keep_for(json_t *p, int64_t now)
{
	json_int_t ttl = json_integer_value(json_object_get(p, "ttl"));
	json_t *exp = json_object_get(p, "exp");
	int64_t keep = ttl > 0 ? (ttl < 3600 ? ttl : 3600) : 0;
	if (exp && json_integer_value(exp) - now < keep)
		keep = json_integer_value(exp) - now;
	return keep;
}

static int list_token(const wallet *w, idhub_arena *a, const char *uri, const char *tok,
                      json_int_t idx, int64_t *keep, char *why, size_t whylen)
{
	json_t *h, *p;
	EVP_PKEY *k = NULL;
	char sub[200];
	if (wallet_jws_parts(w, a, tok, &h, &p))
		return no(why, whylen, "token malformed");
	json_decref(p);
	const char *typ = json_string_value(json_object_get(h, "typ"));
	/* typ points into h: decided before h goes */
	int typ_ok = typ && !strcmp(typ, "statuslist+jwt");
	int rc = !typ_ok
	             ? no(why, whylen, "typ is not statuslist+jwt")
	             : wallet_x5c_key(w, a, json_object_get(h, "x5c"), NULL, &k, sub, sizeof sub);
	json_decref(h);
	if (rc) {
		if (k == NULL && typ_ok)
			snprintf(why, whylen, "status list: %s", sub);
		return -1;
	}
	rc = wallet_es256_verify(w, a, k, tok, &h, &p, sub, sizeof sub);
	EVP_PKEY_free(k);
	if (rc) {
		snprintf(why, whylen, "status list: signature: %s", sub);
		return -1;
	}
	json_decref(h);
	const char *s = json_string_value(json_object_get(p, "sub"));
	json_t *exp = json_object_get(p, "exp");
	int64_t now = w->svc->now(w->svc->inst);
	if (!s || strcmp(s, uri))
		rc = no(why, whylen, "sub is not the uri the PID names");
	else if (exp && (!json_is_integer(exp) || json_integer_value(exp) <= now))
		rc = no(why, whylen, "token expired");
	else {
		*keep = keep_for(p, now);
		rc = entry(w, a, p, idx, why, whylen);
	}
	json_decref(p);
	return rc;
}

/* The list token at uri (malloc'd, trimmed), or NULL. */
static char *fetch(const wallet *w, const char *uri)
{
	const idhub_kv accept[] = {{"Accept", "application/statuslist+jwt"}};
	idhub_http_call call = {.method = "GET",
	                        .url = uri,
	                        .headers = accept,
	                        .nheaders = 1,
	                        .timeout_s = 5,
	                        .max_body = 1u << 20};
	int status = 0;
	char *body = NULL;
	if (w->svc->http(w->svc->inst, &call, &status, &body) || status != 200) {
		free(body);
		return NULL;
	}
	/* the body is one compact JWS: trim the trailing line break some servers add */
	body[strcspn(body, "\r\n \t")] = 0;
	return body;
}

int wallet_status_check(const wallet *w, idhub_arena *a, json_t *claims, char *why, size_t whylen)
{
	json_t *st = json_object_get(json_object_get(claims, "status"), "status_list");
	if (!st)
		return w->cfg->values[S_REQUIRE_STATUS].num ? no(why, whylen, "the PID names none")
		                                            : 0;
	const char *uri = json_string_value(json_object_get(st, "uri"));
	json_t *idx = json_object_get(st, "idx");
	if (!uri || !json_is_integer(idx) || json_integer_value(idx) < 0 ||
	    w->svc->url_check(uri, 0))
		return no(why, whylen, "status_list idx or uri malformed");
	/* cached under a digest of the uri (any length fits a store key) */
	const char *key =
	    w->svc->sprintf(a, "statuslist %s", w->svc->digest_b64url(a, uri, strlen(uri)));
	char *body = w->svc->cache_get(w->svc->inst, key);
	int cached = body != NULL;
	if (!body && !(body = fetch(w, uri)))
		return no(why, whylen, "the list could not be fetched");
	int64_t keep = 0;
	int rc = list_token(w, a, uri, body, json_integer_value(idx), &keep, why, whylen);
	if (!cached && keep > 0)
		w->svc->cache_put(w->svc->inst, key, body, keep);
	free(body);
	return rc;
}
