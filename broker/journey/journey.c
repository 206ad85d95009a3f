/* journey.c — journey records in the store and their binding to the browser (see journey.h). */
#include "journey.h"
#include "../util/b64url.h"
#include "../util/random.h"
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

int journey_token_eq(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}

void journey_binding_hash(const char *cookie, char bh[44])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)cookie, strlen(cookie), d);
	b64url_encode(bh, d, sizeof d);
}

int journey_bound(const journey *j, const http_req *r)
{
	const char *c = http_cookie(r, JOURNEY_COOKIE);
	if (!c || strlen(c) != 43)
		return 0;
	char bh[44];
	journey_binding_hash(c, bh);
	return journey_token_eq(bh, j->bh);
}

const char *journey_browser(hub *h, http_req *r, http_resp *resp, int create)
{
	const char *c = http_cookie(r, JOURNEY_COOKIE);
	if (c && strlen(c) == 43)
		return c;
	if (!create)
		return NULL;
	char *tok = arena_alloc(r->a, 44);
	if (random_token(tok))
		return NULL;
	http_add_header(resp, "Set-Cookie",
			arena_printf(r->a, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s", JOURNEY_COOKIE,
				     tok, h->cfg->secure_cookies ? "; Secure" : ""));
	return tok;
}

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static char *journey_json(const journey *j)
{
	json_t *o = json_object();
	set_str(o, "cid", j->client_id);
	set_str(o, "ruri", j->redirect_uri);
	set_str(o, "state", j->state);
	set_str(o, "nonce", j->nonce);
	set_str(o, "cc", j->code_challenge);
	set_str(o, "scope", j->scope);
	set_str(o, "hint", j->login_hint);
	json_object_set_new(o, "loa", json_integer(j->required_loa));
	set_str(o, "bh", j->bh);
	set_str(o, "csrf", j->csrf);
	json_object_set_new(o, "created", json_integer(j->created));
	set_str(o, "idp", j->idp);
	set_str(o, "rid", j->request_id);
	set_str(o, "unonce", j->upstream_nonce);
	set_str(o, "uver", j->upstream_verifier);
	json_object_set_new(o, "ustart", json_integer(j->upstream_started));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static int64_t journey_ttl_left(hub *h, const journey *j)
{
	int64_t left = j->created + h->cfg->journey_ttl - hub_now(h);
	return left > 0 ? left : 0;
}

int journey_create(hub *h, arena *a, journey *j)
{
	if (random_token(j->id) || random_token(j->csrf))
		return STORE_ERR;
	j->created = hub_now(h);
	char *s = journey_json(j);
	int rc = store_put_new(h->st, NS_JOURNEY, j->id, strlen(j->id), s, strlen(s),
			       h->cfg->journey_ttl);
	free(s);
	(void)a;
	return rc;
}

int journey_save_upstream(hub *h, const journey *j)
{
	int64_t ttl = journey_ttl_left(h, j);
	if (ttl <= 0)
		return STORE_NOTFOUND;
	char *s = journey_json(j);
	store_batch *b = store_batch_new();
	store_batch_put(b, NS_JOURNEY, j->id, strlen(j->id), s, strlen(s), ttl);
	store_batch_put(b, NS_USTATE, j->request_id, strlen(j->request_id), j->id, strlen(j->id),
			ttl);
	free(s);
	return store_batch_commit(h->st, b);
}

static const char *get_str(arena *a, json_t *o, const char *k)
{
	return arena_strdup(a, json_string_value(json_object_get(o, k)));
}

static int copy_fixed(char *dst, size_t n, const char *src)
{
	if (!src || strlen(src) >= n)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int journey_load(hub *h, arena *a, const char *id, journey *j)
{
	memset(j, 0, sizeof *j);
	if (!id || strlen(id) != 43)
		return STORE_NOTFOUND;
	void *v;
	size_t n;
	int rc = store_get(h->st, NS_JOURNEY, id, strlen(id), &v, &n, NULL);
	if (rc)
		return rc;
	json_t *o = json_loadb(v, n, 0, NULL);
	free(v);
	if (!o)
		return STORE_ERR;
	memcpy(j->id, id, 44);
	j->client_id = get_str(a, o, "cid");
	j->redirect_uri = get_str(a, o, "ruri");
	j->state = get_str(a, o, "state");
	j->nonce = get_str(a, o, "nonce");
	j->code_challenge = get_str(a, o, "cc");
	j->scope = get_str(a, o, "scope");
	j->login_hint = get_str(a, o, "hint");
	j->required_loa = (int)json_integer_value(json_object_get(o, "loa"));
	j->created = json_integer_value(json_object_get(o, "created"));
	j->idp = get_str(a, o, "idp");
	j->request_id = get_str(a, o, "rid");
	j->upstream_nonce = get_str(a, o, "unonce");
	j->upstream_verifier = get_str(a, o, "uver");
	j->upstream_started = json_integer_value(json_object_get(o, "ustart"));
	rc = 0;
	if (copy_fixed(j->bh, sizeof j->bh, json_string_value(json_object_get(o, "bh"))) ||
	    copy_fixed(j->csrf, sizeof j->csrf, json_string_value(json_object_get(o, "csrf"))) ||
	    !j->client_id || !j->redirect_uri)
		rc = STORE_ERR;
	json_decref(o);
	return rc;
}

int journey_delete(hub *h, const char *id)
{
	return store_del(h->st, NS_JOURNEY, id, strlen(id));
}
