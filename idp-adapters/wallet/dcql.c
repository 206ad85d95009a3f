/* dcql.c — the DCQL query (OpenID4VP 1.0 §6): one PID in SD-JWT VC format (dc+sd-jwt) of the
 * configured vct values, asking only for the configured claims plus those the subject is made
 * from (data minimisation: nothing else is requested, so nothing else is disclosed). */
#include "wallet_int.h"
#include <string.h>

/* the claims the subject falls back to when the issuer assigned no identifier */
const char *const wallet_hash_claims[] = {"given_name", "family_name", "birthdate",
                                          "place_of_birth", NULL};

static void add_claim(json_t *claims, json_t *seen, const char *name)
{
	if (json_object_get(seen, name))
		return;
	json_object_set_new(seen, name, json_true());
	json_array_append_new(claims, json_pack("{s:[s]}", "path", name));
}

json_t *wallet_dcql(const wallet *w)
{
	const idhub_value *v = w->cfg->values;
	json_t *vcts = json_array(), *claims = json_array(), *seen = json_object();
	for (size_t i = 0; i < v[S_VCT].nitems; i++)
		json_array_append_new(vcts, json_string(v[S_VCT].items[i]));
	for (size_t i = 0; i < v[S_CLAIMS].nitems; i++)
		add_claim(claims, seen, v[S_CLAIMS].items[i]);
	if (v[S_SUBJECT_CLAIM].set && *v[S_SUBJECT_CLAIM].str)
		add_claim(claims, seen, v[S_SUBJECT_CLAIM].str);
	for (int i = 0; wallet_hash_claims[i]; i++)
		add_claim(claims, seen, wallet_hash_claims[i]);
	json_decref(seen);
	return json_pack("{s:[{s:s,s:s,s:{s:o},s:o}]}", "credentials", "id", "pid", "format",
	                 "dc+sd-jwt", "meta", "vct_values", vcts, "claims", claims);
}
