/* claims.c — upstream claims into the hub's identity, for adapters: the attributes an upstream
 * JSON object of claims (OIDC's claim_map, the sandbox's assertion) or a list of name/value pairs
 * (SAML attributes) yields through an adapter's map, and the small JSON records adapters keep as
 * text (identity.logout_state). The idhub_services attrs_from_json, attrs_from_pairs, record and
 * record_get (include/idhub/adapter.h). */
#include "claims.h"
#include "../util/arena.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define ATTR_MAX 1024 /* longest attribute value taken from upstream */

/* The upstream value named name, or NULL: from a JSON object (attrs_from_json) or from pairs
 * (attrs_from_pairs, the first so named). Strings of at most ATTR_MAX bytes, and JSON booleans. */
typedef struct upstream {
	json_t *obj;
	const idhub_kv *pairs;
	size_t npairs;
} upstream;

static const char *upstream_value(const upstream *u, const char *name)
{
	if (!u->obj) {
		for (size_t i = 0; i < u->npairs; i++)
			if (u->pairs[i].name && u->pairs[i].value &&
			    !strcmp(u->pairs[i].name, name))
				return *u->pairs[i].value && strlen(u->pairs[i].value) <= ATTR_MAX
				           ? u->pairs[i].value
				           : NULL;
		return NULL;
	}
	const json_t *v = json_object_get(u->obj, name);
	if (json_is_string(v) && json_string_length(v) <= ATTR_MAX)
		return json_string_value(v);
	return json_is_boolean(v) ? (json_is_true(v) ? "true" : "false") : NULL;
}

/* For each map entry in order, its upstream value under the hub's attribute name; one value per
 * attribute: the first mapping that yields one wins. */
static int map_attrs(idhub_arena *a, const upstream *u, const idhub_kv *map, size_t nmap,
                     idhub_identity *out)
{
	idhub_kv *kv = arena_alloc((arena *)a, (nmap ? nmap : 1) * sizeof *kv);
	if (!kv)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < nmap; i++) {
		const char *s = upstream_value(u, map[i].name);
		const char *to = map[i].value ? map[i].value : map[i].name;
		int dup = 0;
		for (size_t j = 0; s && j < k; j++)
			dup |= strcmp(kv[j].name, to) == 0;
		if (s && !dup)
			kv[k++] =
			    (idhub_kv){arena_strdup((arena *)a, to), arena_strdup((arena *)a, s)};
	}
	out->attrs = kv;
	out->nattrs = k;
	return 0;
}

int idp_attrs_from_json(idhub_instance *in, idhub_arena *a, const char *json, const idhub_kv *map,
                        size_t nmap, idhub_identity *out)
{
	(void)in;
	upstream u = {.obj = json ? json_loads(json, JSON_REJECT_DUPLICATES, NULL) : NULL};
	int rc = json_is_object(u.obj) ? map_attrs(a, &u, map, nmap, out) : -1;
	json_decref(u.obj);
	return rc;
}

int idp_attrs_from_pairs(idhub_instance *in, idhub_arena *a, const idhub_kv *pairs, size_t npairs,
                         const idhub_kv *map, size_t nmap, idhub_identity *out)
{
	(void)in;
	upstream u = {.pairs = pairs, .npairs = npairs};
	return map_attrs(a, &u, map, nmap, out);
}

const char *idp_record(idhub_arena *a, const idhub_kv *kv, size_t n, size_t max)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < n; i++)
		if (kv[i].value && *kv[i].value)
			json_object_set_new(o, kv[i].name, json_string(kv[i].value));
	char *js = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	const char *out = js && strlen(js) <= max ? arena_strdup((arena *)a, js) : NULL;
	free(js);
	return out;
}

const char *idp_record_get(idhub_arena *a, const char *text, const char *name)
{
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;
	const char *v = json_string_value(json_object_get(o, name));
	const char *out = v ? arena_strdup((arena *)a, v) : NULL;
	json_decref(o);
	return out;
}
