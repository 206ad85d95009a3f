/* code.c — authorization-code records (see code.h). */
#include "code.h"
#include "../util/log.h"
#include <string.h>

char *code_record_json(const code_record *c)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:O}", "cid", c->client_id,
	                      "ruri", c->redirect_uri, "scope", c->scope, "sub", c->sub, "idp",
	                      c->idp, "loa", c->loa, "at", (json_int_t)c->auth_time, "iat",
	                      (json_int_t)c->issued, "claims", c->claims);
	if (!o)
		return NULL;
	/* absent when the service's policy let the request go without them */
	if (c->code_challenge)
		json_object_set_new(o, "cc", json_string(c->code_challenge));
	if (c->nonce)
		json_object_set_new(o, "nonce", json_string(c->nonce));
	if (c->sid)
		json_object_set_new(o, "sid", json_string(c->sid));
	if (c->session_expires)
		json_object_set_new(o, "sexp", json_integer(c->session_expires));
	if (c->id_claims)
		json_object_set(o, "idc", c->id_claims);
	if (c->upstream_id)
		json_object_set_new(o, "uid", json_string(c->upstream_id));
	/* the journey's log ID (a hash, see log.h), so the /token lines join the login's */
	if (*log_journey_id())
		json_object_set_new(o, "jid", json_string(log_journey_id()));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

char *code_tombstone_json(const char *client_id, const char *jti)
{
	json_t *o = json_pack("{s:b, s:s, s:s}", "redeemed", 1, "cid", client_id, "jti", jti);
	if (o && *log_journey_id()) /* a replay's lines join the login's too */
		json_object_set_new(o, "jid", json_string(log_journey_id()));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static const char *str(arena *a, json_t *o, const char *k)
{
	return arena_strdup(a, json_string_value(json_object_get(o, k)));
}

int code_record_parse(arena *a, const char *json, size_t len, code_record *out)
{
	memset(out, 0, sizeof *out);
	json_t *o = json_loadb(json, len, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	out->client_id = str(a, o, "cid");
	log_set_journey_id(json_string_value(json_object_get(o, "jid")));
	if (json_is_true(json_object_get(o, "redeemed"))) {
		out->redeemed = 1;
		out->jti = str(a, o, "jti");
		json_decref(o);
		return out->jti && out->client_id ? 0 : -1;
	}
	out->redirect_uri = str(a, o, "ruri");
	out->code_challenge = str(a, o, "cc");
	out->nonce = str(a, o, "nonce");
	out->scope = str(a, o, "scope");
	out->sub = str(a, o, "sub");
	out->idp = str(a, o, "idp");
	out->sid = str(a, o, "sid");
	out->upstream_id = str(a, o, "uid");
	out->loa = (int)json_integer_value(json_object_get(o, "loa"));
	out->auth_time = json_integer_value(json_object_get(o, "at"));
	out->issued = json_integer_value(json_object_get(o, "iat"));
	out->session_expires = json_integer_value(json_object_get(o, "sexp"));
	json_t *claims = json_object_get(o, "claims");
	out->claims = json_is_object(claims) ? json_incref(claims) : json_object();
	json_t *idc = json_object_get(o, "idc");
	/* absent means "not sent"; present it must be a string, so that nothing can turn a code
	 * issued with PKCE into one redeemable without */
	json_t *cc = json_object_get(o, "cc"), *nonce = json_object_get(o, "nonce");
	int mistyped = (cc && !json_is_string(cc)) || (nonce && !json_is_string(nonce));
	out->id_claims = json_is_object(idc) ? json_incref(idc) : json_incref(out->claims);
	json_decref(o);
	if (mistyped || !out->client_id || !out->redirect_uri || !out->sub || !out->scope) {
		code_record_release(out);
		return -1;
	}
	return 0;
}

void code_record_release(code_record *c)
{
	json_decref(c->claims);
	json_decref(c->id_claims);
	c->claims = c->id_claims = NULL;
}
