/* discovery.c — provider metadata (complete for the OpenID Config OP profile) and JWKS (see
 * discovery.h). Both are public and cacheable; the JWKS max-age is the hub.jwks_max_age the key
 * lifecycle is planned around. */
#include "discovery.h"
#include "provider.h"
#include "../claims/claims.h"
#include <stdlib.h>
#include <string.h>

static json_t *strings(const char *const *v)
{
	json_t *a = json_array();
	for (; *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* openid, profile and email always; address and phone when a configured IdP can assert them. */
static json_t *scopes_supported(const hub *h)
{
	json_t *a =
	    strings((const char *const[]){"openid", "profile", "email", "offline_access", NULL});
	if (claims_idps_assert(h, "address"))
		json_array_append_new(a, json_string("address"));
	if (claims_idps_assert(h, "phone_number"))
		json_array_append_new(a, json_string("phone"));
	return a;
}

/* Every claim the hub can release: its own protocol claims and what the configured IdPs assert. */
static json_t *claims_supported(const hub *h)
{
	json_t *a = strings((const char *const[]){"iss", "sub", "aud", "exp", "iat", "auth_time",
	                                          "nonce", "acr", "at_hash", "sid", NULL});
	json_t *idp = claims_idp_claims(h);
	json_array_extend(a, idp);
	json_decref(idp);
	return a;
}

char *oidc_discovery_json(const hub *h)
{
	const char *iss = h->cfg->issuer;
	static const char *const algs[] = {"ES256", "RS256", "PS256", "EdDSA", NULL};
	static const char *const auth[] = {"client_secret_basic", "client_secret_post",
	                                   "private_key_jwt", NULL};
	json_t *acrs = json_array();
	for (int i = 0; i < h->cfg->nloas; i++)
		json_array_append_new(acrs, json_string(h->cfg->loa_acrs[i]));
	json_t *o = json_object();
	json_object_set_new(o, "issuer", json_string(iss));
	json_object_set_new(o, "authorization_endpoint", json_sprintf("%s/authorize", iss));
	json_object_set_new(o, "token_endpoint", json_string(h->oidc->token_endpoint));
	json_object_set_new(o, "userinfo_endpoint", json_string(h->oidc->userinfo_endpoint));
	json_object_set_new(o, "jwks_uri", json_sprintf("%s/jwks", iss));
	json_object_set_new(o, "scopes_supported", scopes_supported(h));
	json_object_set_new(o, "response_types_supported",
	                    strings((const char *const[]){"code", NULL}));
	json_object_set_new(o, "response_modes_supported",
	                    strings((const char *const[]){"query", NULL}));
	json_object_set_new(
	    o, "grant_types_supported",
	    strings((const char *const[]){"authorization_code", "refresh_token", NULL}));
	json_object_set_new(o, "subject_types_supported",
	                    strings((const char *const[]){"pairwise", NULL}));
	json_object_set_new(o, "id_token_signing_alg_values_supported", strings(algs));
	json_object_set_new(o, "userinfo_signing_alg_values_supported",
	                    strings((const char *const[]){"none", NULL}));
	json_object_set_new(o, "token_endpoint_auth_methods_supported", strings(auth));
	json_object_set_new(o, "token_endpoint_auth_signing_alg_values_supported", strings(algs));
	json_object_set_new(o, "code_challenge_methods_supported",
	                    strings((const char *const[]){"S256", NULL}));
	json_object_set_new(o, "claims_supported", claims_supported(h));
	json_object_set_new(o, "claim_types_supported",
	                    strings((const char *const[]){"normal", NULL}));
	json_object_set_new(o, "claims_parameter_supported", json_true());
	json_object_set_new(o, "acr_values_supported", acrs);
	/* the citizen's pages are in English */
	json_object_set_new(o, "ui_locales_supported", strings((const char *const[]){"en", NULL}));
	if (h->cfg->service_documentation)
		json_object_set_new(o, "service_documentation",
		                    json_string(h->cfg->service_documentation));
	json_object_set_new(o, "request_parameter_supported", json_false());
	json_object_set_new(o, "request_uri_parameter_supported", json_false());
	json_object_set_new(o, "authorization_response_iss_parameter_supported", json_true());
	/* sessions, single sign-on and the token lifecycle (README "Sessions and logout") */
	json_object_set_new(o, "prompt_values_supported",
	                    strings((const char *const[]){"none", "login", NULL}));
	json_object_set_new(o, "revocation_endpoint", json_sprintf("%s/revoke", iss));
	json_object_set_new(o, "revocation_endpoint_auth_methods_supported", strings(auth));
	json_object_set_new(o, "introspection_endpoint", json_sprintf("%s/introspect", iss));
	json_object_set_new(o, "introspection_endpoint_auth_methods_supported", strings(auth));
	json_object_set_new(o, "end_session_endpoint", json_sprintf("%s/logout", iss));
	json_object_set_new(o, "backchannel_logout_supported", json_true());
	json_object_set_new(o, "backchannel_logout_session_supported", json_true());
	json_object_set_new(o, "frontchannel_logout_supported", json_false());
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

void oidc_discovery(hub *h, http_req *r, http_resp *resp)
{
	(void)r;
	http_json(resp, 200, h->oidc->discovery_json);
	resp->max_age = (int)h->cfg->jwks_max_age > 0 ? (int)h->cfg->jwks_max_age : 1;
	http_add_header(resp, "Access-Control-Allow-Origin", "*");
}

void oidc_jwks(hub *h, http_req *r, http_resp *resp)
{
	keyring *kr = keys_cache_get(h->keys);
	if (!kr) {
		http_json(resp, 503, "{\"error\":\"temporarily_unavailable\"}");
		return;
	}
	http_json(resp, 200, arena_strdup(r->a, kr->jwks_json));
	keyring_unref(kr);
	resp->content_type = "application/jwk-set+json";
	/* RPs cache the JWKS this long: a new key is published at least this long before it signs
	 */
	resp->max_age = (int)h->cfg->jwks_max_age;
	http_add_header(resp, "Access-Control-Allow-Origin", "*");
}
