/* mint.c — signing the tokens of a token response (see mint.h). */
#include "mint.h"
#include "../issue/issue.h"
#include "../metrics/metrics.h"
#include "../util/log.h"
#include <stdlib.h>
#include <string.h>

static const char *token_response(arena *a, const char *at, const char *idt, int64_t ttl,
                                  const char *scope, const char *rt)
{
	json_t *o =
	    json_pack("{s:s, s:s, s:I, s:s, s:s}", "access_token", at, "token_type", "Bearer",
	              "expires_in", (json_int_t)ttl, "id_token", idt, "scope", scope);
	if (rt)
		json_object_set_new(o, "refresh_token", json_string(rt));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	const char *r = arena_strdup(a, s);
	free(s);
	return r;
}

int oidc_mint(hub *h, arena *a, const hub_client *c, const mint_input *in, token_result *out)
{
	keyring *kr = keys_cache_get(h->keys);
	token_input ti = {.issuer = h->cfg->issuer,
	                  .audience_at = h->oidc->userinfo_endpoint,
	                  .client_id = c->conf->client_id,
	                  .sub = in->sub,
	                  .nonce = in->nonce,
	                  .acr = config_loa_acr(h->cfg, in->loa),
	                  .scope = in->scope,
	                  .jti = in->jti,
	                  .sid = in->sid,
	                  .now = hub_now(h),
	                  .auth_time = in->auth_time,
	                  .id_ttl = h->cfg->id_token_ttl,
	                  .at_ttl = h->cfg->access_token_ttl,
	                  .claims = in->id_claims};
	const char *at = kr ? token_access(a, kr, &ti) : NULL;
	const char *idt = at ? token_id(a, kr, c->conf->id_token_alg, &ti, at) : NULL;
	keyring_unref(kr);
	/* userinfo answers from this record until the access token expires */
	json_t *ui = in->claims ? json_deep_copy(in->claims) : json_object();
	json_object_set_new(ui, "sub", json_string(in->sub));
	char *uis = json_dumps(ui, JSON_COMPACT);
	json_decref(ui);
	if (!idt || !uis ||
	    store_put(h->st, NS_USERINFO, in->jti, strlen(in->jti), uis, strlen(uis),
	              h->cfg->access_token_ttl)) {
		free(uis);
		log_err("token: cannot sign or record tokens (is there a current key?)");
		out->status = 500;
		out->error = "server_error";
		return -1;
	}
	free(uis);
	metrics_token(MX_TOKEN_ACCESS);
	metrics_token(MX_TOKEN_ID);
	if (in->refresh_token)
		metrics_token(MX_TOKEN_REFRESH);
	out->status = 200;
	out->access_token = at;
	out->id_token = idt;
	out->json =
	    token_response(a, at, idt, h->cfg->access_token_ttl, in->scope, in->refresh_token);
	return 0;
}
