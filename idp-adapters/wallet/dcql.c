/* dcql.c — the DCQL query (OpenID4VP 1.0 §6): one PID in SD-JWT VC format (dc+sd-jwt) of the
 * configured vct values, asking only for the configured claims plus those the subject is made
 * from (data minimisation: nothing else is requested, so nothing else is disclosed). The
 * configured claims are narrowed to those the requesting service may receive and asked for. */
#include "wallet_int.h"
#include <string.h>

/* the claims the subject falls back to when the issuer assigned no identifier */
const char *const wallet_hash_claims[] = {"given_name", "family_name", "birthdate",
                                          "place_of_birth", NULL};

/* A PID claim's OIDC name: the PID rulebook's older birth_date is the OIDC birthdate. */
const char *wallet_oidc_name(const char *pid)
{
	return !strcmp(pid, "birth_date") ? "birthdate" : pid;
}

/* Whether configured PID claim i is one this login may ask for: only when its OIDC name is
 * among the claims the service is allowed and asked for (the hub's claims_wanted). */
int wallet_claim_wanted(const wallet *w, const idhub_login_request *req, size_t i)
{
	const char *name = wallet_oidc_name(w->cfg->values[S_CLAIMS].items[i]);
	for (size_t k = 0; k < req->nclaims; k++)
		if (req->claims[k] && !strcmp(req->claims[k], name))
			return 1;
	return 0;
}

json_t *wallet_wanted(const wallet *w, const idhub_login_request *req)
{
	json_t *out = json_array();
	for (size_t i = 0; i < w->cfg->values[S_CLAIMS].nitems; i++)
		if (wallet_claim_wanted(w, req, i))
			json_array_append_new(out, json_string(w->cfg->values[S_CLAIMS].items[i]));
	return out;
}

static void add_claim(json_t *claims, json_t *seen, const char *name)
{
	if (json_object_get(seen, name))
		return;
	json_object_set_new(seen, name, json_true());
	json_array_append_new(claims, json_pack("{s:s,s:[s]}", "id", name, "path", name));
}

/* One claim set (§6.4.1): the wanted claims and the ids in extra. */
static json_t *claim_set(json_t *wanted, const char *const *extra)
{
	json_t *set = json_is_array(wanted) ? json_deep_copy(wanted) : json_array();
	for (int i = 0; extra[i]; i++)
		json_array_append_new(set, json_string(extra[i]));
	return set;
}

json_t *wallet_dcql(const wallet *w, json_t *wanted)
{
	const idhub_value *v = w->cfg->values;
	json_t *vcts = json_array(), *claims = json_array(), *seen = json_object();
	for (size_t i = 0; i < v[S_VCT].nitems; i++)
		json_array_append_new(vcts, json_string(v[S_VCT].items[i]));
	size_t i;
	json_t *c;
	json_array_foreach(wanted, i, c) add_claim(claims, seen, json_string_value(c));
	/* Always asked for, whatever the service may receive: what the subject is derived from
	 * (mapping.c). The hub needs them to name the person; they reach no service unless its
	 * scopes allow them. With a subject_claim, claim_sets say the verifier prefers the
	 * issuer-assigned identifier and needs the hashed claims only when the PID has none. */
	const char *id =
	    v[S_SUBJECT_CLAIM].set && *v[S_SUBJECT_CLAIM].str ? v[S_SUBJECT_CLAIM].str : NULL;
	json_t *sets = NULL;
	if (id) {
		add_claim(claims, seen, id);
		const char *only_id[] = {id, NULL};
		sets = json_pack("[o,o]", claim_set(wanted, only_id),
		                 claim_set(wanted, wallet_hash_claims));
	}
	for (int k = 0; wallet_hash_claims[k]; k++)
		add_claim(claims, seen, wallet_hash_claims[k]);
	json_decref(seen);
	json_t *q = json_pack("{s:s,s:s,s:{s:o},s:o}", "id", "pid", "format", "dc+sd-jwt", "meta",
	                      "vct_values", vcts, "claims", claims);
	if (sets)
		json_object_set_new(q, "claim_sets", sets);
	return json_pack("{s:[o]}", "credentials", q);
}
