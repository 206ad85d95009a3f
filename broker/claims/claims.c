/* claims.c — the standard claims, the claims request parameter and the release rule (see
 * claims.h). */
#include "claims.h"
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* OIDC Core §5.4: the standard claims each scope covers. */
static const struct {
	const char *claim, *scope;
} standard[] = {
    {"name", "profile"},
    {"given_name", "profile"},
    {"family_name", "profile"},
    {"middle_name", "profile"},
    {"nickname", "profile"},
    {"preferred_username", "profile"},
    {"profile", "profile"},
    {"picture", "profile"},
    {"website", "profile"},
    {"gender", "profile"},
    {"birthdate", "profile"},
    {"zoneinfo", "profile"},
    {"locale", "profile"},
    {"updated_at", "profile"},
    {"email", "email"},
    {"email_verified", "email"},
    {"address", "address"},
    {"phone_number", "phone"},
    {"phone_number_verified", "phone"},
};
#define NSTANDARD (sizeof standard / sizeof standard[0])
_Static_assert(NSTANDARD <= 32, "a reduced claims request holds the claims as 32-bit sets");

const char *claims_scope_of(const char *claim)
{
	for (size_t i = 0; claim && i < NSTANDARD; i++)
		if (!strcmp(standard[i].claim, claim))
			return standard[i].scope;
	return NULL;
}

static int has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; p && (p = strstr(p, word)); p += wl)
		if ((p == list || p[-1] == ' ') && (p[wl] == 0 || p[wl] == ' '))
			return 1;
	return 0;
}

static uint32_t claim_bit(const char *claim)
{
	for (size_t i = 0; claim && i < NSTANDARD; i++)
		if (!strcmp(standard[i].claim, claim))
			return (uint32_t)1 << i;
	return 0;
}

/* One member ("id_token" or "userinfo") of the request: the standard claims it asks for, as bits
 * of the table, in *bits; -1 when malformed. */
static int request_member(json_t *m, uint32_t *bits)
{
	*bits = 0;
	if (!m)
		return 0;
	if (!json_is_object(m))
		return -1;
	const char *k;
	json_t *v;
	json_object_foreach(m, k, v)
	{
		/* each claim is null or an object; its essential member, when present, a boolean */
		json_t *ess = json_is_object(v) ? json_object_get(v, "essential") : NULL;
		if ((!json_is_null(v) && !json_is_object(v)) || (ess && !json_is_boolean(ess)))
			return -1;
		*bits |= claim_bit(k); /* a claim the hub never releases is ignored */
	}
	return 0;
}

const char *claims_request_parse(arena *a, const char *param, const char **why)
{
	*why = NULL;
	if (!param)
		return NULL;
	if (strlen(param) > CLAIMS_PARAM_MAX) {
		*why = "claims is too long";
		return NULL;
	}
	json_t *o = json_loads(param, JSON_REJECT_DUPLICATES, NULL);
	uint32_t idt = 0, ui = 0;
	if (!json_is_object(o) || request_member(json_object_get(o, "id_token"), &idt) ||
	    request_member(json_object_get(o, "userinfo"), &ui))
		*why = "claims must be a JSON object of id_token and userinfo claim requests";
	json_decref(o);
	/* the reduced form: two bit sets of the standard claims, "<id_token>.<userinfo>" in hex */
	return !*why && (idt || ui) ? arena_printf(a, "%" PRIx32 ".%" PRIx32, idt, ui) : NULL;
}

/* An address asserted as a JSON object keeps its string members of OIDC Core §5.1.1; any other
 * text is the formatted address. */
static json_t *address_value(const char *v)
{
	static const char *const members[] = {"formatted", "street_address", "locality",
	                                      "region",    "postal_code",    "country"};
	json_t *in = v[0] == '{' ? json_loads(v, JSON_REJECT_DUPLICATES, NULL) : NULL;
	json_t *out = json_object();
	if (!json_is_object(in)) {
		json_object_set_new(out, "formatted", json_string(v));
	} else {
		for (size_t i = 0; i < sizeof members / sizeof members[0]; i++) {
			json_t *m = json_object_get(in, members[i]);
			if (json_is_string(m))
				json_object_set(out, members[i], m);
		}
	}
	json_decref(in);
	return out;
}

/* The claim's JSON value from an attribute's text: booleans and numbers where §5.1 says so. */
static json_t *claim_value(const char *claim, const char *v)
{
	if (!strcmp(claim, "email_verified") || !strcmp(claim, "phone_number_verified"))
		return json_boolean(!strcmp(v, "true"));
	if (!strcmp(claim, "updated_at")) {
		char *end;
		long long n = strtoll(v, &end, 10);
		return *v && !*end ? json_integer(n) : NULL;
	}
	if (!strcmp(claim, "address"))
		return address_value(v);
	return json_string(v);
}

void claims_release(const service_conf *svc, const char *scope, const char *request,
                    const idhub_identity *id, json_t **userinfo, json_t **id_token)
{
	*userinfo = json_object();
	*id_token = json_object();
	unsigned int idt_bits = 0, ui_bits = 0;
	if (!request || sscanf(request, "%x.%x", &idt_bits, &ui_bits) != 2)
		idt_bits = ui_bits = 0;
	for (size_t i = 0; i < id->nattrs; i++) {
		const char *claim = id->attrs[i].name, *v = id->attrs[i].value;
		const char *sc = claims_scope_of(claim);
		/* never a claim outside what the service is allowed, whatever was asked */
		if (!sc || !v || !service_allows_scope(svc, sc))
			continue;
		int by_scope = has_word(scope, sc);
		int to_ui = by_scope || (ui_bits & claim_bit(claim));
		int to_idt = by_scope || (idt_bits & claim_bit(claim));
		json_t *val = to_ui || to_idt ? claim_value(claim, v) : NULL;
		if (!val)
			continue;
		if (to_ui)
			json_object_set(*userinfo, claim, val);
		if (to_idt)
			json_object_set(*id_token, claim, val);
		json_decref(val);
	}
}

const char **claims_wanted(arena *a, const service_conf *svc, const char *scope,
                           const char *request, size_t *n)
{
	unsigned int idt_bits = 0, ui_bits = 0;
	if (!request || sscanf(request, "%x.%x", &idt_bits, &ui_bits) != 2)
		idt_bits = ui_bits = 0;
	const char **out = arena_alloc(a, (NSTANDARD + 1) * sizeof *out);
	*n = 0;
	for (size_t i = 0; svc && i < NSTANDARD; i++) {
		const char *sc = standard[i].scope;
		if (service_allows_scope(svc, sc) &&
		    (has_word(scope, sc) || ((idt_bits | ui_bits) & ((uint32_t)1 << i))))
			out[(*n)++] = standard[i].claim;
	}
	return out;
}

/* What each kind of adapter can assert at most: the sandbox its test people's claims; the oidc
 * and saml adapters the attributes their claim and attribute maps can produce. */
static const char *const sandbox_claims[] = {
    "name",           "given_name",   "family_name",           "birthdate", "email",
    "email_verified", "phone_number", "phone_number_verified", "address",   NULL};
static const char *const oidc_claims[] = {"name",           "given_name", "family_name",
                                          "middle_name",    "birthdate",  "email",
                                          "email_verified", NULL};
static const char *const saml_claims[] = {"given_name", "family_name", "birthdate", "email", NULL};

static const char *const *adapter_claims(const char *adapter)
{
	if (!strcmp(adapter, "sandbox"))
		return sandbox_claims;
	if (!strcmp(adapter, "saml"))
		return saml_claims;
	return oidc_claims; /* oidc, and the same assumption for an adapter the hub does not know */
}

int claims_idps_assert(const hub *h, const char *claim)
{
	for (size_t i = 0; i < h->nidps; i++) {
		if (!h->idps[i].conf->enabled)
			continue;
		for (const char *const *c = adapter_claims(h->idps[i].conf->adapter); *c; c++)
			if (!strcmp(*c, claim))
				return 1;
	}
	return 0;
}

json_t *claims_idp_claims(const hub *h)
{
	json_t *a = json_array();
	for (size_t i = 0; i < NSTANDARD; i++)
		if (claims_idps_assert(h, standard[i].claim))
			json_array_append_new(a, json_string(standard[i].claim));
	return a;
}
