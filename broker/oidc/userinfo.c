/* userinfo.c — the UserInfo endpoint (OIDC Core §5.3) for the hub's own RFC 9068 access tokens,
 * sent in the Authorization header or a form-encoded POST body (RFC 6750 §2.1, §2.2), never both:
 * signature by a published hub key, typ at+jwt, iss, aud, exp, and not revoked (a replayed code
 * revokes the token its first redemption issued). */
#include "userinfo.h"
#include "access.h"
#include "respond.h"
#include "../tokens/jws.h"
#include "../util/log.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void refuse(http_req *r, http_resp *resp, const char *error, const char *why)
{
	http_add_header(
	    resp, "WWW-Authenticate",
	    arena_printf(r->a, "Bearer error=\"%s\", error_description=\"%s\"", error, why));
	oidc_json_error(r, resp, strcmp(error, "invalid_request") == 0 ? 400 : 401, error, why);
}

/* Verifies the token and returns its jti and sub, or a reason (access.h). */
static const char *check_token(hub *h, http_req *r, const char *tok, const char **jti,
                               const char **sub)
{
	access_info ai;
	const char *why = access_token_check(h, r->a, tok, &ai);
	*jti = ai.jti;
	*sub = ai.sub;
	return why;
}

/* The access token from the Authorization header (RFC 6750 §2.1) or a form-encoded POST body
 * (§2.2). *tok stays NULL when neither carries one. Returns an invalid_request reason when the
 * request uses more than one method (§2: "MUST NOT use more than one method") or a bad body. */
static const char *bearer_token(http_req *r, const char **tok)
{
	const char *authz = http_header(r, "Authorization");
	int n = 0;
	const char *body_tok = NULL;
	if (strcmp(r->method, "POST") == 0 && !r->body_error)
		body_tok = form_param(&r->body, "access_token", &n);
	else if (strcmp(r->method, "POST") == 0 && r->body_error != HTTP_BODY_NOT_FORM)
		return "the request body is malformed or too large";
	if (n > 1)
		return "access_token is repeated";
	if (authz && body_tok)
		return "the access token may be sent in the Authorization header or the body, not "
		       "both";
	if (body_tok)
		*tok = body_tok;
	else if (authz && strncasecmp(authz, "Bearer ", 7) == 0)
		*tok = authz + 7;
	return NULL;
}

void oidc_userinfo(hub *h, http_req *r, http_resp *resp)
{
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0) {
		http_add_header(resp, "Allow", "GET, POST");
		oidc_json_error(r, resp, 405, "invalid_request", "use GET or POST");
		return;
	}
	const char *tok = NULL, *jti, *sub;
	const char *why = bearer_token(r, &tok);
	if (why) {
		refuse(r, resp, "invalid_request", why);
		return;
	}
	if (!tok) {
		http_add_header(resp, "WWW-Authenticate", "Bearer realm=\"idhub\"");
		oidc_json_error(r, resp, 401, "invalid_token", "bearer access token required");
		return;
	}
	why = check_token(h, r, tok, &jti, &sub);
	if (why) {
		refuse(r, resp, "invalid_token", why);
		return;
	}
	void *v;
	size_t n;
	if (access_token_revoked(h, jti)) {
		refuse(r, resp, "invalid_token", "access token revoked");
		return;
	}
	if (store_get(h->st, NS_USERINFO, jti, strlen(jti), &v, &n, NULL) != 0) {
		refuse(r, resp, "invalid_token", "access token no longer valid");
		return;
	}
	http_json(resp, 200, arena_strndup(r->a, v, n));
	free(v);
}
