/* refresh_grant.c — starting refresh-token families and the refresh_token grant (see
 * refresh_grant.h). A refresh returns a new ID token with the family's sub, auth_time and level
 * (never a higher one), a new access token, and the next refresh token of the family. */
#include "refresh_grant.h"
#include "mint.h"
#include "../sessions/refresh.h"
#include "../util/form.h"
#include "../util/log.h"
#include "../util/random.h"
#include <string.h>

int oidc_refresh_start(hub *h, arena *a, const hub_client *c, const code_record *cr,
                       const char **rt)
{
	*rt = NULL;
	int offline = form_has_word(cr->scope, "offline_access") && c->conf->offline_access;
	/* a code from before sessions (no sid) starts no family: nothing could end it */
	if (!c->conf->refresh_tokens || (!offline && (!cr->sid || !cr->session_expires)))
		return 0;
	int64_t now = hub_now(h);
	refresh_grant g = {.client_id = c->conf->client_id,
	                   .sub = cr->sub,
	                   .sid = offline ? NULL : cr->sid,
	                   .scope = cr->scope,
	                   .idp = cr->idp ? cr->idp : "",
	                   .loa = cr->loa,
	                   .auth_time = cr->auth_time,
	                   .expires =
	                       offline ? now + h->cfg->refresh_offline_ttl : cr->session_expires,
	                   .offline = offline,
	                   .claims = cr->claims,
	                   .id_claims = cr->id_claims};
	if (g.expires <= now)
		return 0; /* the session ends now: a refresh token would be born dead */
	char *tok = arena_alloc(a, 44);
	if (refresh_issue(h, &g, tok))
		return -1;
	*rt = tok;
	return 0;
}

/* Every scope of want is in have. */
static int scope_within(const char *want, const char *have)
{
	char *copy = strdup(want), *save = NULL;
	int ok = copy != NULL;
	for (char *t = copy ? strtok_r(copy, " ", &save) : NULL; t && ok;
	     t = strtok_r(NULL, " ", &save))
		ok = form_has_word(have, t);
	free(copy);
	return ok;
}

static int fail(token_result *out, int status, const char *error, const char *why)
{
	out->status = status;
	out->error = error;
	out->description = why;
	return -1;
}

int oidc_refresh_grant(hub *h, arena *a, const hub_client *c, const char *token, const char *scope,
                       token_result *out)
{
	memset(out, 0, sizeof *out);
	if (!c->conf->refresh_tokens)
		return fail(out, 400, "unauthorized_client",
		            "this service is not configured for refresh tokens");
	refresh_grant g;
	char *next = arena_alloc(a, 44), jti[44];
	if (random_token(jti))
		return fail(out, 500, "server_error", NULL);
	int rc = refresh_rotate(h, a, c->conf->client_id, token, &g, next);
	if (rc == REFRESH_REUSED)
		log_warn("token: %s presented a used refresh token: its family is revoked",
		         c->conf->client_id);
	if (rc == REFRESH_INVALID || rc == REFRESH_REUSED)
		return fail(out, 400, "invalid_grant", "unknown, expired or revoked refresh token");
	if (rc)
		return fail(out, 503, "temporarily_unavailable", NULL);
	if (scope && !scope_within(scope, g.scope)) {
		refresh_grant_release(&g);
		return fail(out, 400, "invalid_scope", "scope exceeds the original grant");
	}
	mint_input in = {.sub = g.sub,
	                 .scope = scope ? scope : g.scope,
	                 .sid = g.sid,
	                 .loa = g.loa,
	                 .auth_time = g.auth_time,
	                 .claims = g.claims,
	                 .id_claims = g.id_claims,
	                 .jti = jti,
	                 .refresh_token = next};
	rc = oidc_mint(h, a, c, &in, out);
	refresh_grant_release(&g);
	return rc;
}
