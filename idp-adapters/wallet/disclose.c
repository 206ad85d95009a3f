/* disclose.c — SD-JWT selective disclosures (RFC 9901 §7.1): each disclosure's digest must be
 * found exactly once in an _sd array or an array's "..." element; no digest may appear twice and
 * no disclosure may go unreferenced (an extra disclosure is a forgery, not noise). The disclosed
 * claims are written into the payload, and _sd / _sd_alg removed. */
#include "wallet_int.h"
#include <stdarg.h>
#include <string.h>

typedef struct disc {
	const char *digest;
	json_t *arr; /* [salt, name, value] or [salt, value] */
	int used;
} disc;

typedef struct walk {
	disc *d;
	size_t n;
	json_t *seen; /* digests met in the payload */
	char *why;
	size_t whylen;
} walk;

__attribute__((format(printf, 2, 3))) static int bad(walk *k, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(k->why, k->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static disc *find(walk *k, const char *digest)
{
	if (json_object_get(k->seen, digest))
		return NULL;
	json_object_set_new(k->seen, digest, json_true());
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->d[i].digest, digest))
			return &k->d[i];
	return (disc *)k; /* a decoy digest: fine, nothing disclosed */
}

static int walk_node(walk *k, json_t *node, int depth);

static int walk_object(walk *k, json_t *obj, int depth)
{
	json_t *sd = json_object_get(obj, "_sd"), *v;
	size_t i;
	if (sd && !json_is_array(sd))
		return bad(k, "disclosures: _sd is not an array%s", "");
	json_incref(sd);
	json_object_del(obj, "_sd");
	json_array_foreach(sd, i, v)
	{
		const char *dg = json_string_value(v);
		disc *d = dg ? find(k, dg) : NULL;
		if (!d) {
			/* word the reason before sd, which holds dg, is released */
			if (dg)
				bad(k, "disclosures: digest %s appears twice", dg);
			else
				bad(k, "disclosures: an _sd digest is not a string");
			json_decref(sd);
			return -1;
		}
		if (d == (disc *)k)
			continue;
		const char *name = json_string_value(json_array_get(d->arr, 1));
		if (json_array_size(d->arr) != 3 || !name || !strcmp(name, "_sd") ||
		    !strcmp(name, "...") || json_object_get(obj, name)) {
			json_decref(sd);
			return bad(k,
			           "disclosures: disclosure for %s is malformed or repeats a claim",
			           name ? name : "(no name)");
		}
		d->used = 1;
		json_object_set(obj, name, json_array_get(d->arr, 2));
	}
	json_decref(sd);
	const char *key;
	json_object_foreach(obj, key, v) if (walk_node(k, v, depth + 1)) return -1;
	return 0;
}

static int walk_array(walk *k, json_t *arr, int depth)
{
	for (size_t i = 0; i < json_array_size(arr);) {
		json_t *e = json_array_get(arr, i), *dots = json_object_get(e, "...");
		if (json_is_object(e) && dots && json_object_size(e) == 1) {
			const char *dg = json_string_value(dots);
			disc *d = dg ? find(k, dg) : NULL;
			if (!d)
				return bad(k, "disclosures: digest %s appears twice",
				           dg ? dg : "?");
			if (d == (disc *)k) {
				json_array_remove(arr, i);
				continue;
			}
			if (json_array_size(d->arr) != 2)
				return bad(k, "disclosures: array element disclosure malformed%s",
				           "");
			d->used = 1;
			json_array_set(arr, i, json_array_get(d->arr, 1));
		}
		if (walk_node(k, json_array_get(arr, i), depth + 1))
			return -1;
		i++;
	}
	return 0;
}

static int walk_node(walk *k, json_t *node, int depth)
{
	if (depth > 16)
		return bad(k, "disclosures: nested too deep%s", "");
	if (json_is_object(node))
		return walk_object(k, node, depth);
	if (json_is_array(node))
		return walk_array(k, node, depth);
	return 0;
}

int wallet_disclose(const wallet *w, idhub_arena *a, json_t *payload, char **disclosures, size_t n,
                    char *why, size_t whylen)
{
	const char *alg = json_string_value(json_object_get(payload, "_sd_alg"));
	walk k = {w->svc->alloc(a, (n + 1) * sizeof(disc)), n, json_object(), why, whylen};
	int rc = -1;
	if (json_object_get(payload, "_sd_alg") && (!alg || strcmp(alg, "sha-256"))) {
		bad(&k, "disclosures: _sd_alg %s is not sha-256", alg ? alg : "?");
		goto out;
	}
	json_object_del(payload, "_sd_alg");
	for (size_t i = 0; i < n; i++) {
		unsigned char *raw;
		long len = w->svc->b64url_decode(a, disclosures[i], &raw);
		k.d[i].digest = w->svc->digest_b64url(a, disclosures[i], strlen(disclosures[i]));
		k.d[i].arr = len > 0 ? json_loadb((char *)raw, (size_t)len, 0, NULL) : NULL;
		size_t m = json_array_size(k.d[i].arr);
		if ((m != 2 && m != 3) || !json_is_string(json_array_get(k.d[i].arr, 0))) {
			bad(&k, "disclosures: disclosure %s is malformed", disclosures[i]);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(k.d[i].digest, k.d[j].digest)) {
				bad(&k, "disclosures: disclosure %s given twice", k.d[i].digest);
				goto out;
			}
	}
	if (walk_node(&k, payload, 0))
		goto out;
	for (size_t i = 0; i < n; i++)
		if (!k.d[i].used) {
			bad(&k,
			    "disclosures: disclosure %s is not referenced by the issuer (extra)",
			    k.d[i].digest);
			goto out;
		}
	rc = 0;
out:
	for (size_t i = 0; i < n; i++)
		json_decref(k.d[i].arr);
	json_decref(k.seen);
	return rc;
}
