/* token.c — the token endpoint (RFC 6749 §4.1.3, PKCE RFC 7636 §4.6, OIDC Core §3.1.3). */
#include "token.h"
#include "client_auth.h"
#include "code.h"
#include "mint.h"
#include "refresh_grant.h"
#include "respond.h"
#include "../issue/issue.h"
#include "../audit/audit.h"
#include "../util/b64url.h"
#include "../util/log.h"
#include "../util/random.h"
#include "../metrics/metrics.h"
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

static int fail(token_result *out, const char *error, const char *description)
{
	out->status = 400;
	out->error = error;
	out->description = description;
	return -1;
}

/* RFC 7636 §4.1: 43-128 unreserved characters. */
static int verifier_ok(const char *v)
{
	size_t n = strlen(v);
	if (n < 43 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.' || c == '_' || c == '~'))
			return 0;
	}
	return 1;
}

static int pkce_matches(const char *verifier, const char *challenge)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	char enc[44];
	SHA256((const unsigned char *)verifier, strlen(verifier), d);
	b64url_encode(enc, d, sizeof d);
	return strlen(challenge) == 43 && CRYPTO_memcmp(enc, challenge, 43) == 0;
}

/* PKCE at redemption (RFC 7636 §4.6, RFC 9700 §2.1.1). NULL when it passes, else why not. A code
 * issued with a code_challenge is redeemed only with its verifier. A code issued without one is
 * refused when a verifier is presented (an attacker who injected a code obtained without PKCE
 * cannot make the redemption look protected), and when the service's policy requires PKCE (it may
 * have changed since the authorization request). */
static const char *pkce_refusal(const service_conf *svc, const char *verifier,
                                const char *challenge)
{
	if (challenge) {
		if (!verifier)
			return "code_verifier is required: the authorization request used PKCE";
		return pkce_matches(verifier, challenge)
		           ? NULL
		           : "code_verifier does not match the code_challenge";
	}
	if (verifier)
		return "code_verifier sent, but the authorization request had no code_challenge";
	if (svc->require_pkce)
		return "the service requires PKCE, and the authorization request did not use it";
	return NULL;
}

/* A replayed code: the token its first redemption issued is revoked (RFC 6749 §4.1.2). The log
 * says "revoked" only when the revocation was recorded. */
static void revoke(hub *h, const char *jti)
{
	store_del(h->st, NS_USERINFO, jti, strlen(jti));
	if (store_put(h->st, NS_REVOKED, jti, strlen(jti), "", 0, h->cfg->access_token_ttl + 60))
		log_err("token: authorization code replayed; could not revoke access token %s",
		        jti);
	else
		log_warn("token: authorization code replayed; access token %s revoked", jti);
}

/* A code already redeemed: refused; when the same client presents it again the token it issued is
 * revoked. Another client cannot revoke a service's tokens by presenting its code. */
static int refuse_redeemed(hub *h, const hub_client *c, const code_record *cr, token_result *out)
{
	if (strcmp(cr->client_id, c->conf->client_id) != 0)
		return fail(out, "invalid_grant", "unknown or expired code");
	metrics_code(MX_CODE_REPLAYED);
	revoke(h, cr->jti);
	return fail(out, "invalid_grant", "code already used");
}

/* Why a live code cannot be redeemed by this request, or NULL. Nothing is written: a request of
 * another client, with another redirect_uri or a wrong verifier leaves the code usable. */
static const char *code_mismatch(hub *h, const hub_client *c, const code_record *cr,
                                 const char *redirect_uri, const char *verifier)
{
	if (strcmp(cr->client_id, c->conf->client_id) != 0)
		return "code was issued to another client";
	if (strcmp(cr->redirect_uri, redirect_uri) != 0)
		return "redirect_uri differs from the authorization request";
	if (cr->issued < store_unclean_floor(h->st) || hub_now(h) - cr->issued > h->cfg->code_ttl)
		return "unknown or expired code";
	return pkce_refusal(c->conf, verifier, cr->code_challenge);
}

static int unavailable(token_result *out)
{
	out->status = 503;
	out->error = "temporarily_unavailable";
	return -1;
}

/* Reads and checks the code (no write), then consumes it by swapping in a tombstone naming jti. On
 * success *cr is the record consumed (release with code_record_release). */
static int consume_code(hub *h, arena *a, const hub_client *c, const char *code,
                        const char *redirect_uri, const char *verifier, const char *jti,
                        code_record *cr, token_result *out)
{
	void *old;
	size_t oldlen;
	int rc = store_get(h->st, NS_CODE, code, strlen(code), &old, &oldlen, NULL);
	if (rc == STORE_NOTFOUND)
		return fail(out, "invalid_grant", "unknown or expired code");
	if (rc)
		return unavailable(out);
	rc = code_record_parse(a, old, oldlen, cr);
	free(old);
	if (rc)
		return fail(out, "invalid_grant", "unknown or expired code");
	if (cr->redeemed)
		return refuse_redeemed(h, c, cr, out);
	const char *why = code_mismatch(h, c, cr, redirect_uri, verifier);
	code_record_release(cr);
	if (why)
		return fail(out, "invalid_grant", why);
	/* one transaction: the code becomes a tombstone naming the token we are about to issue */
	char *tomb = code_tombstone_json(c->conf->client_id, jti);
	rc = store_swap(h->st, NS_CODE, code, strlen(code), tomb, strlen(tomb),
	                h->cfg->access_token_ttl + 60, &old, &oldlen);
	free(tomb);
	if (rc == STORE_NOTFOUND)
		return fail(out, "invalid_grant", "unknown or expired code");
	if (rc)
		return unavailable(out);
	/* what the swap took is what was checked, unless a concurrent redemption won the race: then
	 * its tombstone (naming the token it issued) goes back */
	rc = code_record_parse(a, old, oldlen, cr);
	if (rc == 0 && cr->redeemed)
		store_put(h->st, NS_CODE, code, strlen(code), old, oldlen,
		          h->cfg->access_token_ttl + 60);
	free(old);
	if (rc)
		return fail(out, "invalid_grant", "unknown or expired code");
	if (cr->redeemed)
		return refuse_redeemed(h, c, cr, out);
	return 0;
}

int oidc_redeem(hub *h, arena *a, const hub_client *c, const char *code, const char *redirect_uri,
                const char *verifier, token_result *out)
{
	memset(out, 0, sizeof *out);
	if (strlen(code) != 43)
		return fail(out, "invalid_grant", "unknown or expired code");
	/* a service that requires PKCE must send the verifier: refused before the code is touched
	 */
	if (!verifier && c->conf->require_pkce)
		return fail(out, "invalid_request", "code_verifier is required");
	if (verifier && !verifier_ok(verifier))
		return fail(out, "invalid_grant", "code_verifier is malformed");
	char jti[44];
	if (random_token(jti)) {
		out->status = 500;
		out->error = "server_error";
		return -1;
	}
	code_record cr;
	if (consume_code(h, a, c, code, redirect_uri, verifier, jti, &cr, out))
		return -1;
	mint_input in = {.sub = cr.sub,
	                 .nonce = cr.nonce,
	                 .scope = cr.scope,
	                 .sid = cr.sid,
	                 .loa = cr.loa,
	                 .auth_time = cr.auth_time,
	                 .claims = cr.claims,
	                 .id_claims = cr.id_claims,
	                 .jti = jti};
	int rc = oidc_refresh_start(h, a, c, &cr, &in.refresh_token);
	if (rc == 0)
		rc = oidc_mint(h, a, c, &in, out);
	else
		unavailable(out);
	if (rc == 0)
		metrics_code(MX_CODE_REDEEMED);
	if (rc == 0 &&
	    audit_token(h->st, cr.client_id, cr.sub, cr.idp, cr.loa, cr.upstream_id, jti))
		log_err("token: cannot write the issuance's audit record");
	code_record_release(&cr);
	return rc;
}

static const char *const single_params[] = {"grant_type",
                                            "code",
                                            "redirect_uri",
                                            "code_verifier",
                                            "client_id",
                                            "client_secret",
                                            "client_assertion",
                                            "client_assertion_type",
                                            "refresh_token",
                                            "scope",
                                            NULL};

void oidc_token(hub *h, http_req *r, http_resp *resp)
{
	if (strcmp(r->method, "POST") != 0) {
		http_add_header(resp, "Allow", "POST");
		oidc_json_error(r, resp, 405, "invalid_request", "use POST");
		return;
	}
	if (r->body_error == HTTP_BODY_TOO_LARGE) {
		oidc_json_error(r, resp, 413, "invalid_request", "request body too large");
		return;
	}
	if (r->body_error) {
		oidc_json_error(r, resp, 400, "invalid_request",
		                r->body_error == HTTP_BODY_NOT_FORM
		                    ? "the body must be application/x-www-form-urlencoded"
		                    : form_strerror(r->body_error));
		return;
	}
	for (int i = 0; single_params[i]; i++) {
		int c;
		form_param(&r->body, single_params[i], &c);
		if (c > 1) {
			oidc_json_error(
			    r, resp, 400, "invalid_request",
			    arena_printf(r->a, "parameter %s is repeated", single_params[i]));
			return;
		}
	}
	client_auth_error ae = {0};
	const hub_client *c = client_authenticate(h, r, &ae);
	if (!c) {
		if (ae.basic_challenge)
			http_add_header(resp, "WWW-Authenticate", "Basic realm=\"idhub\"");
		oidc_json_error(r, resp, ae.status, ae.error, ae.message);
		return;
	}
	const char *gt = form_param(&r->body, "grant_type", NULL);
	if (!gt) {
		oidc_json_error(r, resp, 400, "invalid_request", "grant_type is required");
		return;
	}
	token_result tr;
	if (strcmp(gt, "refresh_token") == 0) {
		const char *rt = form_param(&r->body, "refresh_token", NULL);
		if (!rt) {
			oidc_json_error(r, resp, 400, "invalid_request",
			                "refresh_token is required");
			return;
		}
		if (oidc_refresh_grant(h, r->a, c, rt, form_param(&r->body, "scope", NULL), &tr)) {
			log_info("token: %s refresh refused: %s", c->conf->client_id,
			         tr.description ? tr.description : tr.error);
			oidc_json_error(r, resp, tr.status, tr.error, tr.description);
			return;
		}
		http_json(resp, 200, tr.json);
		return;
	}
	if (strcmp(gt, "authorization_code") != 0) {
		oidc_json_error(r, resp, 400, "unsupported_grant_type",
		                "only authorization_code and refresh_token are supported");
		return;
	}
	const char *code = form_param(&r->body, "code", NULL);
	const char *ruri = form_param(&r->body, "redirect_uri", NULL);
	/* code_verifier: required or refused by the code's record (pkce_refusal) */
	const char *verifier = form_param(&r->body, "code_verifier", NULL);
	if (!code || !ruri) {
		oidc_json_error(r, resp, 400, "invalid_request",
		                "code and redirect_uri are required");
		return;
	}
	if (oidc_redeem(h, r->a, c, code, ruri, verifier, &tr)) {
		log_info("token: %s refused: %s", c->conf->client_id,
		         tr.description ? tr.description : tr.error);
		oidc_json_error(r, resp, tr.status, tr.error, tr.description);
		return;
	}
	http_json(resp, 200, tr.json);
}
