/* refresh.c — refresh-token families: issue, rotate with reuse detection, revoke (see refresh.h).
 */
#include "refresh.h"
#include "../util/b64url.h"
#include "../util/log.h"
#include "../util/random.h"
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

static void token_key(const char *token, char key[47])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)token, strlen(token), d);
	memcpy(key, "t:", 2);
	b64url_encode(key + 2, d, sizeof d);
}

static char *grant_json(const refresh_grant *g)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:I, s:I, s:b, s:O, s:O}", "cid",
	                      g->client_id, "sub", g->sub, "scope", g->scope, "idp", g->idp, "loa",
	                      g->loa, "at", (json_int_t)g->auth_time, "exp", (json_int_t)g->expires,
	                      "off", g->offline, "claims", g->claims ? g->claims : json_null(),
	                      "idc", g->id_claims ? g->id_claims : json_null());
	if (o && g->sid)
		json_object_set_new(o, "sid", json_string(g->sid));
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

static int grant_parse(arena *a, const char *js, size_t n, refresh_grant *g)
{
	memset(g, 0, sizeof *g);
	json_t *o = json_loadb(js, n, 0, NULL);
#define S(k) arena_strdup(a, json_string_value(json_object_get(o, k)))
	g->client_id = S("cid");
	g->sub = S("sub");
	g->sid = S("sid");
	g->scope = S("scope");
	g->idp = S("idp");
#undef S
	g->loa = (int)json_integer_value(json_object_get(o, "loa"));
	g->auth_time = json_integer_value(json_object_get(o, "at"));
	g->expires = json_integer_value(json_object_get(o, "exp"));
	g->offline = json_is_true(json_object_get(o, "off"));
	json_t *c = json_object_get(o, "claims"), *ic = json_object_get(o, "idc");
	g->claims = json_is_object(c) ? json_incref(c) : json_object();
	g->id_claims = json_is_object(ic) ? json_incref(ic) : json_object();
	json_decref(o);
	if (!g->client_id || !g->sub || !g->scope || !g->idp) {
		refresh_grant_release(g);
		return -1;
	}
	return 0;
}

void refresh_grant_release(refresh_grant *g)
{
	json_decref(g->claims);
	json_decref(g->id_claims);
	g->claims = g->id_claims = NULL;
}

static int64_t offline_ttl(const hub *h)
{
	return h->cfg->refresh_offline_ttl;
}

/* A token's record: {"fam": F, "used": bool} (malloc'd). */
static char *token_json(const char *fam, int used)
{
	json_t *o = json_pack("{s:s, s:b}", "fam", fam, "used", used);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

static int put_token(hub *h, const char *fam, const char *token, int64_t ttl)
{
	char key[47];
	token_key(token, key);
	char *v = token_json(fam, 0);
	int rc = v ? store_put_new(h->st, NS_REFRESH, key, 46, v, strlen(v), ttl) : STORE_ERR;
	free(v);
	return rc;
}

int refresh_issue(hub *h, const refresh_grant *g, char token[44])
{
	char fam[44];
	if (random_token(fam) || random_token(token))
		return STORE_ERR;
	int64_t ttl = g->expires - hub_now(h);
	if (ttl <= 0)
		return STORE_ERR;
	char *js = grant_json(g);
	char fkey[46];
	snprintf(fkey, sizeof fkey, "f:%s", fam);
	char tkey[47];
	token_key(token, tkey);
	char *tv = token_json(fam, 0);
	if (!js || !tv) {
		free(js);
		free(tv);
		return STORE_ERR;
	}
	store_batch *b = store_batch_new();
	store_batch_put(b, NS_REFRESH, fkey, strlen(fkey), js, strlen(js), ttl);
	store_batch_put_new(b, NS_REFRESH, tkey, 46, tv, strlen(tv), ttl);
	int rc = store_batch_commit(h->st, b);
	free(js);
	free(tv);
	return rc;
}

/* The token's record: its family id (arena) and whether it was used. 0 or REFRESH_INVALID. */
static int token_record(hub *h, arena *a, const char *token, const char **fam, int *used)
{
	if (!token || strlen(token) != 43)
		return REFRESH_INVALID;
	char key[47];
	token_key(token, key);
	void *v;
	size_t n;
	if (store_get(h->st, NS_REFRESH, key, 46, &v, &n, NULL))
		return REFRESH_INVALID;
	json_t *o = json_loadb(v, n, 0, NULL);
	free(v);
	*fam = arena_strdup(a, json_string_value(json_object_get(o, "fam")));
	*used = json_is_true(json_object_get(o, "used"));
	json_decref(o);
	return *fam && strlen(*fam) == 43 ? 0 : REFRESH_INVALID;
}

/* The family's live grant for client_id: 0, or REFRESH_INVALID (revoked, expired, another
 * client's, or its session ended). */
static int family(hub *h, arena *a, const char *fam, const char *client_id, refresh_grant *g)
{
	char fkey[46];
	snprintf(fkey, sizeof fkey, "f:%s", fam);
	void *v;
	size_t n;
	if (store_get(h->st, NS_REFRESH, fkey, strlen(fkey), &v, &n, NULL))
		return REFRESH_INVALID;
	int rc = grant_parse(a, v, n, g);
	free(v);
	if (rc)
		return REFRESH_INVALID;
	int ended = 0;
	if (g->sid) {
		char *x = arena_printf(a, "x:%s", g->sid);
		ended = store_get(h->st, NS_REFRESH, x, strlen(x), &v, &n, NULL) == 0;
		if (ended)
			free(v);
	}
	if (ended || strcmp(g->client_id, client_id) != 0 || g->expires <= hub_now(h)) {
		refresh_grant_release(g);
		return REFRESH_INVALID;
	}
	return 0;
}

static void revoke_family(hub *h, const char *fam, const char *why)
{
	char fkey[46];
	snprintf(fkey, sizeof fkey, "f:%s", fam);
	if (store_del(h->st, NS_REFRESH, fkey, strlen(fkey)) == STORE_ERR)
		log_err("refresh: cannot revoke a token family (%s)", why);
	else
		log_warn("refresh: token family revoked: %s", why);
}

int refresh_peek(hub *h, arena *a, const char *client_id, const char *token, refresh_grant *g)
{
	const char *fam;
	int used;
	memset(g, 0, sizeof *g);
	if (token_record(h, a, token, &fam, &used) || used)
		return REFRESH_INVALID;
	return family(h, a, fam, client_id, g);
}

int refresh_rotate(hub *h, arena *a, const char *client_id, const char *token, refresh_grant *g,
                   char next[44])
{
	const char *fam;
	int used;
	memset(g, 0, sizeof *g);
	if (token_record(h, a, token, &fam, &used))
		return REFRESH_INVALID;
	if (family(h, a, fam, client_id, g))
		return REFRESH_INVALID; /* a foreign client can neither use nor revoke it */
	if (used) {
		refresh_grant_release(g);
		revoke_family(h, fam, "a used refresh token was presented again");
		return REFRESH_REUSED;
	}
	/* the swap is the check-and-set: of two concurrent refreshes with one token, the second
	 * sees "used" in what it took, and is treated as reuse */
	char key[47];
	token_key(token, key);
	char *nv = token_json(fam, 1);
	void *old;
	size_t oldlen;
	int64_t ttl = g->offline ? offline_ttl(h) : g->expires - hub_now(h);
	int rc = store_swap(h->st, NS_REFRESH, key, 46, nv, strlen(nv), ttl, &old, &oldlen);
	free(nv);
	if (rc) {
		refresh_grant_release(g);
		return rc == STORE_NOTFOUND ? REFRESH_INVALID : STORE_ERR;
	}
	json_t *oj = json_loadb(old, oldlen, 0, NULL);
	int was_used = !oj || json_is_true(json_object_get(oj, "used"));
	json_decref(oj);
	free(old);
	if (was_used) {
		refresh_grant_release(g);
		revoke_family(h, fam, "a refresh token was used twice at once");
		return REFRESH_REUSED;
	}
	if (g->offline) {
		/* offline: the family lives hub.offline_ttl from its last use */
		g->expires = hub_now(h) + ttl;
		char *js = grant_json(g);
		char fkey[46];
		snprintf(fkey, sizeof fkey, "f:%s", fam);
		rc = store_put(h->st, NS_REFRESH, fkey, strlen(fkey), js, strlen(js), ttl);
		free(js);
	}
	if (rc == 0 && (random_token(next) || put_token(h, fam, next, ttl)))
		rc = STORE_ERR;
	if (rc)
		refresh_grant_release(g);
	return rc;
}

int refresh_revoke(hub *h, arena *a, const char *client_id, const char *token)
{
	const char *fam;
	int used;
	refresh_grant g;
	if (token_record(h, a, token, &fam, &used) || family(h, a, fam, client_id, &g))
		return REFRESH_INVALID;
	refresh_grant_release(&g);
	revoke_family(h, fam, "revoked by the service");
	return 0;
}

int refresh_revoke_sid(hub *h, const char *sid)
{
	char x[46];
	snprintf(x, sizeof x, "x:%s", sid);
	/* online families end with the session's absolute lifetime at the latest */
	return store_put(h->st, NS_REFRESH, x, strlen(x), "", 0, h->cfg->session_max_ttl + 60)
	           ? STORE_ERR
	           : 0;
}
