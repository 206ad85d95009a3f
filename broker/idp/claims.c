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

/* Adds attribute to = v to kv[0..k) unless it is there already (one value per attribute: the
 * first that yields one wins); returns the new count. */
static size_t add(idhub_arena *a, idhub_kv *kv, size_t k, const char *to, const char *v)
{
	for (size_t j = 0; j < k; j++)
		if (strcmp(kv[j].name, to) == 0)
			return k;
	kv[k] = (idhub_kv){arena_strdup((arena *)a, to), arena_strdup((arena *)a, v)};
	return k + 1;
}

int idp_attrs_from_json(idhub_instance *in, idhub_arena *a, const char *json, const idhub_kv *map,
                        size_t nmap, idhub_identity *out)
{
	(void)in;
	json_t *o = json ? json_loads(json, JSON_REJECT_DUPLICATES, NULL) : NULL;
	idhub_kv *kv = arena_alloc((arena *)a, (nmap ? nmap : 1) * sizeof *kv);
	if (!json_is_object(o) || !kv) {
		json_decref(o);
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < nmap; i++) {
		const json_t *v = json_object_get(o, map[i].name);
		const char *s = NULL;
		if (json_is_string(v) && json_string_length(v) <= ATTR_MAX)
			s = json_string_value(v);
		else if (json_is_boolean(v))
			s = json_is_true(v) ? "true" : "false";
		if (s)
			k = add(a, kv, k, map[i].value ? map[i].value : map[i].name, s);
	}
	json_decref(o);
	out->attrs = kv;
	out->nattrs = k;
	return 0;
}

int idp_attrs_from_pairs(idhub_instance *in, idhub_arena *a, const idhub_kv *pairs, size_t npairs,
                         const idhub_kv *map, size_t nmap, idhub_identity *out)
{
	(void)in;
	idhub_kv *kv = arena_alloc((arena *)a, (nmap ? nmap : 1) * sizeof *kv);
	if (!kv)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < npairs; i++) {
		const char *name = pairs[i].name, *v = pairs[i].value;
		if (!name || !v || !*v || strlen(v) > ATTR_MAX)
			continue;
		for (size_t m = 0; m < nmap; m++)
			if (strcmp(map[m].name, name) == 0)
				k = add(a, kv, k, map[m].value ? map[m].value : name, v);
	}
	out->attrs = kv;
	out->nattrs = k;
	return 0;
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
