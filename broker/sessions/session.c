/* session.c — hub session records, their cookie and their lifetimes (see session.h). */
#include "session.h"
#include "sessions_int.h"
#include "../util/b64url.h"
#include "../util/log.h"
#include "../util/random.h"
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

const char *session_cookie_name(const hub *h)
{
	return h->cfg->secure_cookies ? SESSION_COOKIE_HOST : SESSION_COOKIE;
}

static void key_of(const char *cookie, char key[44])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)cookie, strlen(cookie), d);
	b64url_encode(key, d, sizeof d);
}

/* Seconds the record may still live: the sooner of the idle and the absolute limits. */
static int64_t ttl_left(const hub *h, const session *s, int64_t now)
{
	int64_t idle = s->last_used + h->cfg->session_idle_ttl,
	        abs = s->created + h->cfg->session_max_ttl;
	return (idle < abs ? idle : abs) - now;
}

static char *session_json(const session *s)
{
	json_t *svcs = json_object();
	for (size_t i = 0; i < s->nsvcs; i++)
		json_object_set_new(
		    svcs, s->svcs[i].client_id,
		    json_pack("{s:s, s:s}", "sid", s->svcs[i].sid, "sub", s->svcs[i].sub));
	json_t *o =
	    json_pack("{s:s, s:i, s:I, s:I, s:I, s:s, s:s, s:o}", "idp", s->idp, "loa", s->loa,
	              "at", (json_int_t)s->auth_time, "created", (json_int_t)s->created, "last",
	              (json_int_t)s->last_used, "vault", s->vault, "csrf", s->csrf, "svcs", svcs);
	if (!o)
		return NULL;
	if (s->upstream_id)
		json_object_set_new(o, "uid", json_string(s->upstream_id));
	char *js = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return js;
}

static const char *get_str(arena *a, json_t *o, const char *k)
{
	return arena_strdup(a, json_string_value(json_object_get(o, k)));
}

static int from_json(arena *a, const char *text, size_t n, session *s)
{
	json_t *o = json_loadb(text, n, 0, NULL), *svcs = json_object_get(o, "svcs");
	const char *csrf = json_string_value(json_object_get(o, "csrf"));
	s->idp = get_str(a, o, "idp");
	s->vault = get_str(a, o, "vault");
	s->upstream_id = get_str(a, o, "uid");
	s->loa = (int)json_integer_value(json_object_get(o, "loa"));
	s->auth_time = json_integer_value(json_object_get(o, "at"));
	s->created = json_integer_value(json_object_get(o, "created"));
	s->last_used = json_integer_value(json_object_get(o, "last"));
	if (!s->idp || !s->vault || !csrf || strlen(csrf) != 43 || !json_is_object(svcs)) {
		json_decref(o);
		return STORE_ERR;
	}
	memcpy(s->csrf, csrf, 44);
	s->svcs = arena_alloc(a, (json_object_size(svcs) + 1) * sizeof *s->svcs);
	const char *cid;
	json_t *v;
	json_object_foreach(svcs, cid, v)
	{
		session_service *e = &s->svcs[s->nsvcs];
		e->client_id = arena_strdup(a, cid);
		e->sid = get_str(a, v, "sid");
		e->sub = get_str(a, v, "sub");
		if (e->sid && e->sub)
			s->nsvcs++;
	}
	json_decref(o);
	return 0;
}

int session_load_key(hub *h, arena *a, const char *key, session *s)
{
	memset(s, 0, sizeof *s);
	if (!key || strlen(key) != 43)
		return STORE_NOTFOUND;
	void *v;
	size_t n;
	int rc = store_get(h->st, NS_SESSION, key, 43, &v, &n, NULL);
	if (rc)
		return rc;
	memcpy(s->key, key, 44);
	rc = from_json(a, v, n, s);
	free(v);
	/* the record's expiry is the sooner limit as of its last save; the settings may have been
	 * lowered since, and the hub's clock may not match the store's: check again */
	if (rc == 0 && ttl_left(h, s, hub_now(h)) <= 0)
		rc = STORE_NOTFOUND;
	return rc;
}

int session_take(hub *h, arena *a, const char *key, session *s)
{
	memset(s, 0, sizeof *s);
	if (!key || strlen(key) != 43)
		return STORE_NOTFOUND;
	void *v;
	size_t n;
	int rc = store_take(h->st, NS_SESSION, key, 43, &v, &n);
	if (rc)
		return rc;
	memcpy(s->key, key, 44);
	rc = from_json(a, v, n, s);
	free(v);
	return rc;
}

int session_load(hub *h, http_req *r, session *s)
{
	memset(s, 0, sizeof *s);
	const char *c = http_cookie(r, session_cookie_name(h));
	if (!c || strlen(c) != 43)
		return STORE_NOTFOUND;
	char key[44];
	key_of(c, key);
	int rc = session_load_key(h, r->a, key, s);
	if (rc == 0)
		s->cookie = c;
	return rc;
}

int session_identity(hub *h, arena *a, const session *s, idhub_identity *id)
{
	memset(id, 0, sizeof *id);
	if (vault_open(h, a, s->cookie, s->key, s->vault, id))
		return -1;
	id->loa = s->loa;
	id->auth_time = s->auth_time;
	id->upstream_id = s->upstream_id;
	return 0;
}

/* Whether the request's previous session s was the same citizen as id at idp. */
static int same_citizen(hub *h, arena *a, const session *s, const char *idp,
                        const idhub_identity *id)
{
	idhub_identity old;
	if (strcmp(s->idp, idp) != 0 || session_identity(h, a, s, &old))
		return 0;
	size_t n = strlen(old.subject);
	return n == strlen(id->subject) && CRYPTO_memcmp(old.subject, id->subject, n) == 0;
}

int session_begin(hub *h, http_req *r, http_resp *resp, const char *idp, const idhub_identity *id,
                  int loa, session *s, session *ended)
{
	session prev;
	memset(ended, 0, sizeof *ended);
	int had = session_load(h, r, &prev) == 0;
	memset(s, 0, sizeof *s);
	char *cookie = arena_alloc(r->a, 44);
	if (random_token(cookie) || random_token(s->csrf))
		return -1;
	key_of(cookie, s->key);
	s->cookie = cookie;
	s->idp = idp;
	s->loa = loa;
	int64_t now = hub_now(h);
	s->auth_time = id->auth_time ? id->auth_time : now;
	s->created = s->last_used = now;
	s->upstream_id = id->upstream_id;
	s->vault = vault_seal(h, r->a, cookie, s->key, id);
	if (!s->vault)
		return -1;
	if (had && same_citizen(h, r->a, &prev, idp, id)) {
		/* a re-authentication (prompt=login, max_age, step-up at the same IdP): the
		 * services stay signed in under their sids; the old cookie's record goes */
		s->svcs = prev.svcs;
		s->nsvcs = prev.nsvcs;
		store_del(h->st, NS_SESSION, prev.key, 43);
	} else if (had) {
		*ended = prev;
	}
	/* On https the __Host- prefix: the browser accepts the cookie only with Secure, Path=/
	 * and no Domain, so no sibling host or plain-http page can set or shadow it. No
	 * Max-Age: the hub enforces the lifetimes, and the cookie goes with the browser. */
	http_add_header(resp, "Set-Cookie",
	                arena_printf(r->a, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s",
	                             session_cookie_name(h), cookie,
	                             h->cfg->secure_cookies ? "; Secure" : ""));
	return 0;
}

const session_service *session_find_service(const session *s, const char *client_id)
{
	for (size_t i = 0; i < s->nsvcs; i++)
		if (strcmp(s->svcs[i].client_id, client_id) == 0)
			return &s->svcs[i];
	return NULL;
}

const char *session_service_sid(hub *h, arena *a, session *s, const char *client_id,
                                const char *sub)
{
	(void)h;
	const session_service *e = session_find_service(s, client_id);
	if (e && strcmp(e->sub, sub) == 0)
		return e->sid;
	if (!e && s->nsvcs >= SESSION_MAX_SERVICES)
		return NULL;
	char *sid = arena_alloc(a, 44);
	if (random_token(sid))
		return NULL;
	session_service *n = arena_alloc(a, (s->nsvcs + 1) * sizeof *n);
	size_t k = 0;
	for (size_t i = 0; i < s->nsvcs; i++)
		if (&s->svcs[i] != e)
			n[k++] = s->svcs[i];
	n[k++] = (session_service){
	    .client_id = arena_strdup(a, client_id), .sid = sid, .sub = arena_strdup(a, sub)};
	s->svcs = n;
	s->nsvcs = k;
	return sid;
}

void session_batch_save(hub *h, store_batch *b, session *s)
{
	int64_t now = hub_now(h);
	s->last_used = now;
	char *js = session_json(s);
	int64_t ttl = ttl_left(h, s, now);
	if (js && ttl > 0)
		store_batch_put(b, NS_SESSION, s->key, 43, js, strlen(js), ttl);
	free(js);
}

/* Adds to s the services of o that s lacks. 1 when it added any. */
static int merge_services(arena *a, session *s, const session *o)
{
	size_t missing = 0;
	for (size_t i = 0; i < o->nsvcs; i++)
		missing += !session_find_service(s, o->svcs[i].client_id);
	if (!missing || s->nsvcs + missing > SESSION_MAX_SERVICES)
		return 0;
	session_service *n = arena_alloc(a, (s->nsvcs + missing) * sizeof *n);
	memcpy(n, s->svcs, s->nsvcs * sizeof *n);
	size_t k = s->nsvcs;
	for (size_t i = 0; i < o->nsvcs; i++)
		if (!session_find_service(s, o->svcs[i].client_id))
			n[k++] = o->svcs[i];
	s->svcs = n;
	s->nsvcs = k;
	return 1;
}

int session_save(hub *h, arena *a, session *s)
{
	/* swap, then look at what was replaced: a service another request added since s was
	 * loaded is merged in and written again (bounded: each round only adds services) */
	for (int round = 0; round < 8; round++) {
		int64_t now = hub_now(h);
		s->last_used = now;
		char *js = session_json(s);
		int64_t ttl = ttl_left(h, s, now);
		if (!js || ttl <= 0) {
			free(js);
			return ttl <= 0 ? STORE_NOTFOUND : STORE_ERR;
		}
		void *old;
		size_t n;
		int rc = store_swap(h->st, NS_SESSION, s->key, 43, js, strlen(js), ttl, &old, &n);
		free(js);
		if (rc)
			return rc;
		session o;
		memset(&o, 0, sizeof o);
		rc = from_json(a, old, n, &o);
		free(old);
		if (rc || !merge_services(a, s, &o))
			return 0;
	}
	return 0;
}

void session_clear_cookie(hub *h, http_req *r, http_resp *resp)
{
	http_add_header(resp, "Set-Cookie",
	                arena_printf(r->a, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
	                             session_cookie_name(h),
	                             h->cfg->secure_cookies ? "; Secure" : ""));
}
