/* services.c — what the hub offers adapters: clock, randomness, arena allocation, replay cache and
 * document cache in the store, logging, page rendering, and an HTTP client on liboauth2. */
#include "services.h"
#include "../pages/pages.h"
#include "../util/b64url.h"
#include "../util/buf.h"
#include "../util/log.h"
#include "../util/random.h"
#include "../metrics/metrics.h"
#include <oauth2/http.h>
#include <oauth2/log.h>
#include <oauth2/mem.h>
#include <oauth2/util.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t svc_now(void *hp)
{
	return hub_now(hp);
}

__attribute__((format(printf, 3, 4))) static void svc_log(void *hp, int level, const char *fmt, ...)
{
	(void)hp;
	char line[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_msg(level, "adapter: %s", line);
}

static int svc_random_token(void *hp, char out[44])
{
	(void)hp;
	return random_token(out);
}

static int svc_random_bytes(void *hp, void *out, size_t n)
{
	(void)hp;
	return random_bytes(out, n);
}

static void *svc_alloc(idhub_arena *a, size_t n)
{
	return arena_alloc((arena *)a, n);
}

static char *svc_strdup(idhub_arena *a, const char *s)
{
	return arena_strdup((arena *)a, s);
}

static char *scoped_key(const char *instance, const char *id, size_t *len)
{
	char *k;
	int n = asprintf(&k, "%s%c%s", instance, 0, id);
	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return k;
}

static int svc_replay_seen(void *hp, const char *instance, const char *id, int64_t expires)
{
	hub *h = hp;
	size_t klen;
	char *k = scoped_key(instance, id, &klen);
	if (!k || klen > 400) {
		free(k);
		return -1;
	}
	int64_t ttl = expires - hub_now(h);
	if (ttl < 1)
		ttl = 1;
	int rc = store_put_new(h->st, NS_REPLAY, k, klen, "", 0, ttl);
	free(k);
	return rc == 0 ? 0 : rc == STORE_EXISTS ? 1 : -1;
}

static int64_t svc_replay_floor(void *hp)
{
	return store_unclean_floor(((hub *)hp)->st);
}

static char *svc_cache_get(void *hp, const char *instance, const char *key)
{
	size_t klen, vlen;
	char *k = scoped_key(instance, key, &klen);
	void *v = NULL;
	if (!k || klen > 400 || store_get(((hub *)hp)->st, NS_CACHE, k, klen, &v, &vlen, NULL) != 0)
		v = NULL;
	free(k);
	return v;
}

static int svc_cache_put(void *hp, const char *instance, const char *key, const char *val,
                         int64_t ttl)
{
	size_t klen;
	char *k = scoped_key(instance, key, &klen);
	if (!k || klen > 400) {
		free(k);
		return -1;
	}
	int rc = store_put(((hub *)hp)->st, NS_CACHE, k, klen, val, strlen(val), ttl);
	metrics_idp_document_age(instance, 0); /* an adapter caches what it just fetched */
	free(k);
	return rc ? -1 : 0;
}

static int svc_http(void *hp, const char *url, const idhub_kv *form, size_t nform,
                    const char *basic_user, const char *basic_pass, int timeout_s, int *status,
                    char **body)
{
	hub *h = hp;
	oauth2_log_t *lg = h->oauth2_log;
	oauth2_http_call_ctx_t *ctx = oauth2_http_call_ctx_init(lg);
	oauth2_http_call_ctx_timeout_set(lg, ctx, timeout_s > 0 ? timeout_s : 10);
	if (basic_user)
		oauth2_http_call_ctx_basic_auth_set(lg, ctx, basic_user, basic_pass, true);
	oauth2_nv_list_t *params = NULL;
	if (form) {
		params = oauth2_nv_list_init(lg);
		for (size_t i = 0; i < nform; i++)
			oauth2_nv_list_add(lg, params, form[i].name, form[i].value);
	}
	char *resp = NULL;
	oauth2_http_status_code_t code = 0;
	bool ok = form ? oauth2_http_post_form(lg, url, params, ctx, &resp, &code)
	               : oauth2_http_get(lg, url, NULL, ctx, &resp, &code);
	if (params)
		oauth2_nv_list_free(lg, params);
	oauth2_http_call_ctx_free(lg, ctx);
	*status = (int)code;
	*body = resp ? strdup(resp) : NULL;
	oauth2_mem_free(resp);
	if (!ok || code == 0) {
		free(*body);
		*body = NULL;
		return -1;
	}
	return 0;
}

static const char *svc_sign_jwt(void *hp, idhub_arena *a, const char *alg, const char *claims)
{
	hub *h = hp;
	jws_alg ja = jws_alg_from_name(alg);
	json_t *payload = json_loads(claims, JSON_REJECT_DUPLICATES, NULL);
	keyring *kr =
	    ja != JWS_ALG_NONE && json_is_object(payload) ? keys_cache_get(h->keys) : NULL;
	const signing_key *k = kr ? keyring_current(kr, ja) : NULL;
	const char *out = k ? jws_sign((arena *)a, k->pkey, k->alg, k->kid, "JWT", payload) : NULL;
	keyring_unref(kr);
	json_decref(payload);
	return out;
}

static const char *svc_page(void *hp, idhub_arena *a, const char *title, const char *body)
{
	(void)hp;
	return page_render((arena *)a, title, body);
}

static char *svc_html_escape(idhub_arena *a, const char *s)
{
	buf b;
	buf_init(&b, (arena *)a);
	buf_html(&b, s);
	return (char *)buf_str(&b);
}

static char *svc_b64url_encode(idhub_arena *a, const void *p, size_t n)
{
	char *out = arena_alloc((arena *)a, b64url_enc_len(n) + 1);
	b64url_encode(out, p, n);
	return out;
}

static long svc_b64url_decode(idhub_arena *a, const char *s, unsigned char **out)
{
	size_t len = strlen(s);
	*out = arena_alloc((arena *)a, len * 3 / 4 + 2);
	return b64url_decode(*out, s, len);
}

/* liboauth2's log lines at warning and above only: its debug output can include whole tokens. */
static void oauth2_sink(oauth2_log_sink_t *sink, const char *file, unsigned long line,
                        const char *fn, oauth2_log_level_t level, const char *msg)
{
	(void)sink;
	(void)file;
	(void)line;
	log_msg(level == OAUTH2_LOG_ERROR ? LOG_ERR_ : LOG_WARN_, "liboauth2: %s: %s", fn, msg);
}

int services_init(hub *h)
{
	oauth2_log_sink_t *sink = oauth2_log_sink_create(OAUTH2_LOG_WARN, oauth2_sink, NULL);
	h->oauth2_log = oauth2_init(OAUTH2_LOG_WARN, sink);
	if (!h->oauth2_log)
		return -1;
	idhub_services *s = &h->services;
	s->version = IDHUB_ADAPTER_ABI_VERSION;
	s->hub = h;
	s->now = svc_now;
	s->log = svc_log;
	s->random_token = svc_random_token;
	s->random_bytes = svc_random_bytes;
	s->alloc = svc_alloc;
	s->strdup = svc_strdup;
	s->replay_seen = svc_replay_seen;
	s->replay_floor = svc_replay_floor;
	s->cache_get = svc_cache_get;
	s->cache_put = svc_cache_put;
	s->http = svc_http;
	s->sign_jwt = svc_sign_jwt;
	s->page = svc_page;
	s->html_escape = svc_html_escape;
	s->b64url_encode = svc_b64url_encode;
	s->b64url_decode = svc_b64url_decode;
	s->state_dir = h->cfg->state_dir;
	return 0;
}

void services_shutdown(hub *h)
{
	if (h->oauth2_log)
		oauth2_shutdown(h->oauth2_log);
	h->oauth2_log = NULL;
}
