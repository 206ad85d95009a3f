/* services.c — the idhub_services table each adapter instance gets, bound to it: clock,
 * randomness, arena allocation and formatting, replay cache, instance cache and scratch records in
 * the store, logging, page rendering, strict base64, the URL check, the file reader, JWT signing
 * and the HTTP client on liboauth2, digests, query strings and refusal counts. Documents are in
 * docs.c, JWS verification in jose.c, XML in xml.c, pages and levels in responses.c, forms in
 * forms.c, claims and records in claims.c. */
#include "services.h"
#include "host_int.h"
#include "claims.h"
#include "datetime.h"
#include "forms.h"
#include "keypair.h"
#include "responses.h"
#include "xml.h"
#include "../audit/audit.h"
#include "../metrics/metrics.h"
#include "../pages/pages.h"
#include "../tokens/jws.h"
#include "../util/b64url.h"
#include "../util/buf.h"
#include "../util/log.h"
#include "../util/random.h"
#include <oauth2/http.h>
#include <oauth2/log.h>
#include <oauth2/mem.h>
#include <oauth2/util.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SCRATCH_MAX (64 * 1024)

static int64_t svc_now(idhub_instance *in)
{
	return store_now(in->h->st);
}

__attribute__((format(printf, 3, 4))) static void svc_log(idhub_instance *in, int level,
                                                          const char *fmt, ...)
{
	char line[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_msg(level, "%s %s: %s", in->adapter_name, in->id, line);
}

static int svc_random_token(idhub_instance *in, char out[44])
{
	(void)in;
	return random_token(out);
}

static int svc_random_bytes(idhub_instance *in, void *out, size_t n)
{
	(void)in;
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

__attribute__((format(printf, 2, 3))) static char *svc_sprintf(idhub_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *out = n >= 0 ? arena_alloc((arena *)a, (size_t)n + 1) : NULL;
	if (!out)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(out, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return out;
}

/* Store keys of an instance: "<instance>\0<id>" (and "<instance>\0<kind>\0<id>" for scratch), so
 * one IdP can never read or fill another's entries. */
static char *scoped_key(const char *instance, const char *kind, const char *id, size_t *len)
{
	char *k;
	int n = kind ? asprintf(&k, "%s%c%s%c%s", instance, 0, kind, 0, id)
	             : asprintf(&k, "%s%c%s", instance, 0, id);
	if (n < 0 || n > 400) {
		if (n >= 0)
			free(k);
		return NULL;
	}
	*len = (size_t)n;
	return k;
}

static int svc_replay_seen(idhub_instance *in, const char *id, int64_t expires)
{
	size_t klen;
	char *k = scoped_key(in->id, NULL, id, &klen);
	if (!k)
		return -1;
	int64_t ttl = expires - store_now(in->h->st);
	int rc = store_put_new(in->h->st, NS_REPLAY, k, klen, "", 0, ttl < 1 ? 1 : ttl);
	free(k);
	return rc == 0 ? 0 : rc == STORE_EXISTS ? 1 : -1;
}

static int64_t svc_replay_floor(idhub_instance *in)
{
	return store_unclean_floor(in->h->st);
}

char *idp_cache_get(idp_host *h, const char *scope, const char *key)
{
	size_t klen, vlen;
	char *k = scoped_key(scope, NULL, key, &klen);
	void *v = NULL;
	if (!k || store_get(h->st, NS_CACHE, k, klen, &v, &vlen, NULL) != 0)
		v = NULL;
	free(k);
	return v;
}

int idp_cache_put(idp_host *h, const char *scope, const char *key, const char *val, int64_t ttl)
{
	size_t klen;
	char *k = scoped_key(scope, NULL, key, &klen);
	int rc = k ? store_put(h->st, NS_CACHE, k, klen, val, strlen(val), ttl) : -1;
	free(k);
	return rc ? -1 : 0;
}

static char *svc_cache_get(idhub_instance *in, const char *key)
{
	return idp_cache_get(in->h, in->id, key);
}

static int svc_cache_put(idhub_instance *in, const char *key, const char *val, int64_t ttl)
{
	return idp_cache_put(in->h, in->id, key, val, ttl);
}

static int svc_scratch_put(idhub_instance *in, const char *rid, const void *data, size_t len,
                           int64_t ttl)
{
	size_t klen;
	if (len > SCRATCH_MAX || ttl < 1)
		return -1;
	char *k = scoped_key(in->id, "scratch", rid, &klen);
	int rc = k ? store_put(in->h->st, NS_CACHE, k, klen, data, len, ttl) : -1;
	free(k);
	return rc ? -1 : 0;
}

static void *svc_scratch_get(idhub_instance *in, idhub_arena *a, const char *rid, size_t *len,
                             int take)
{
	size_t klen, vlen = 0;
	void *v = NULL;
	char *k = scoped_key(in->id, "scratch", rid, &klen);
	int rc = !k     ? -1
	         : take ? store_take(in->h->st, NS_CACHE, k, klen, &v, &vlen)
	                : store_get(in->h->st, NS_CACHE, k, klen, &v, &vlen, NULL);
	free(k);
	if (rc != 0)
		return NULL;
	char *out = arena_alloc((arena *)a, vlen + 1);
	memcpy(out, v, vlen);
	free(v);
	if (len)
		*len = vlen;
	return out;
}

static oauth2_http_call_ctx_t *call_ctx(oauth2_log_t *lg, const idhub_http_call *c)
{
	oauth2_http_call_ctx_t *ctx = oauth2_http_call_ctx_init(lg);
	oauth2_http_call_ctx_timeout_set(lg, ctx, c->timeout_s > 0 ? c->timeout_s : 10);
	if (c->basic_user)
		oauth2_http_call_ctx_basic_auth_set(lg, ctx, c->basic_user, c->basic_pass, true);
	for (size_t i = 0; i < c->nheaders; i++)
		oauth2_http_call_ctx_hdr_set(lg, ctx, c->headers[i].name, c->headers[i].value);
	return ctx;
}

int idp_http(idp_host *h, const idhub_http_call *c, int *status, char **body)
{
	*status = 0;
	*body = NULL;
	if (c->method && strcmp(c->method, c->form || c->json ? "POST" : "GET") != 0)
		return -1;
	oauth2_log_t *lg = h->oauth2_log;
	oauth2_http_call_ctx_t *ctx = call_ctx(lg, c);
	oauth2_nv_list_t *params = NULL;
	if (c->form) {
		params = oauth2_nv_list_init(lg);
		for (size_t i = 0; i < c->nform; i++)
			oauth2_nv_list_add(lg, params, c->form[i].name, c->form[i].value);
	}
	char *resp = NULL;
	oauth2_http_status_code_t code = 0;
	bool ok;
	if (c->json) {
		oauth2_http_call_ctx_content_type_set(lg, ctx, "application/json");
		ok = oauth2_http_call(lg, c->url, c->json, ctx, &resp, &code);
	} else if (c->form)
		ok = oauth2_http_post_form(lg, c->url, params, ctx, &resp, &code);
	else
		ok = oauth2_http_get(lg, c->url, NULL, ctx, &resp, &code);
	if (params)
		oauth2_nv_list_free(lg, params);
	oauth2_http_call_ctx_free(lg, ctx);
	size_t max = c->max_body ? c->max_body : 1024 * 1024;
	*status = (int)code;
	*body = resp && strlen(resp) <= max ? strdup(resp) : NULL;
	oauth2_mem_free(resp);
	if (!ok || code == 0 || (resp && !*body)) {
		free(*body);
		*body = NULL;
		return -1;
	}
	return 0;
}

static int svc_http(idhub_instance *in, const idhub_http_call *c, int *status, char **body)
{
	return idp_http(in->h, c, status, body);
}

static const char *svc_sign_jwt(idhub_instance *in, idhub_arena *a, const char *alg,
                                const char *claims)
{
	jws_alg ja = jws_alg_from_name(alg);
	json_t *payload = json_loads(claims, JSON_REJECT_DUPLICATES, NULL);
	keyring *kr =
	    ja != JWS_ALG_NONE && json_is_object(payload) ? keys_cache_get(in->h->keys) : NULL;
	const signing_key *k = kr ? keyring_current(kr, ja) : NULL;
	const char *out = k ? jws_sign((arena *)a, k->pkey, k->alg, k->kid, "JWT", payload) : NULL;
	keyring_unref(kr);
	json_decref(payload);
	return out;
}

static char *svc_b64url_encode(idhub_arena *a, const void *p, size_t n);
static long svc_b64url_decode(idhub_arena *a, const char *s, unsigned char **out);

static char *svc_seal(idhub_instance *in, idhub_arena *a, const char *text)
{
	unsigned char mac[32];
	unsigned int ml = sizeof mac;
	size_t n = strlen(text);
	HMAC(EVP_sha256(), in->seal_key, sizeof in->seal_key, (const unsigned char *)text, n, mac,
	     &ml);
	return svc_sprintf(a, "%s.%s", svc_b64url_encode(a, text, n),
	                   svc_b64url_encode(a, mac, ml));
}

static char *svc_unseal(idhub_instance *in, idhub_arena *a, const char *tok, size_t max)
{
	const char *dot = tok && strlen(tok) <= max ? strchr(tok, '.') : NULL;
	if (!dot)
		return NULL;
	unsigned char *text, *mac, want[32];
	unsigned int wl = sizeof want;
	long n = svc_b64url_decode(a, svc_sprintf(a, "%.*s", (int)(dot - tok), tok), &text);
	long m = svc_b64url_decode(a, dot + 1, &mac);
	if (n <= 0 || m != 32 || memchr(text, 0, (size_t)n))
		return NULL;
	HMAC(EVP_sha256(), in->seal_key, sizeof in->seal_key, text, (size_t)n, want, &wl);
	if (CRYPTO_memcmp(want, mac, sizeof want) != 0)
		return NULL;
	text[n] = 0;
	return (char *)text;
}

static const char *svc_page(idhub_instance *in, idhub_arena *a, const char *title, const char *body)
{
	(void)in;
	return page_render((arena *)a, title, body);
}

static const char *svc_text(idhub_instance *in, const char *key)
{
	(void)in;
	return T(key);
}

static const char *svc_lang(idhub_instance *in)
{
	(void)in;
	return pages_lang_code();
}

static char *svc_html_escape(idhub_arena *a, const char *s)
{
	buf b;
	buf_init(&b, (arena *)a);
	buf_html(&b, s);
	return (char *)buf_str(&b);
}

static char *svc_url_escape(idhub_arena *a, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = arena_alloc((arena *)a, strlen(s) * 3 + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = 0;
	return out;
}

static char *svc_b64url_encode(idhub_arena *a, const void *p, size_t n)
{
	char *out = arena_alloc((arena *)a, b64url_enc_len(n) + 1);
	b64url_encode(out, p, n);
	return out;
}

static char *svc_digest_b64url(idhub_arena *a, const void *p, size_t n)
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256(p, n, d);
	return svc_b64url_encode(a, d, sizeof d);
}

/* '?' when url has no query yet, nothing when it ends in '?' or '&', else '&'. */
static char *svc_url_param(idhub_arena *a, const char *url, const char *name, const char *value)
{
	size_t n = strlen(url);
	const char *sep = !strchr(url, '?')                        ? "?"
	                  : url[n - 1] == '?' || url[n - 1] == '&' ? ""
	                                                           : "&";
	return svc_sprintf(a, "%s%s%s=%s", url, sep, svc_url_escape(a, name),
	                   svc_url_escape(a, value));
}

static long svc_b64url_decode(idhub_arena *a, const char *s, unsigned char **out)
{
	size_t len = strlen(s);
	*out = arena_alloc((arena *)a, len * 3 / 4 + 2);
	return b64url_decode(*out, s, len);
}

static char *svc_b64_encode(idhub_arena *a, const void *p, size_t n)
{
	char *out = arena_alloc((arena *)a, (n + 2) / 3 * 4 + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

/* Strict standard base64 (RFC 4648 §4): whole quanta, '=' only as the last one or two characters,
 * nothing else (with IDHUB_B64_WRAPPED, white space is dropped first). out: len * 3 / 4 + 3
 * bytes, NUL-terminated. Returns the length or -1. */
long idp_b64_decode(const char *s, size_t len, uint32_t flags, unsigned char *out)
{
	char *t = malloc(len + 1);
	size_t n = 0;
	if (!t)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!(flags & IDHUB_B64_WRAPPED) || !strchr(" \t\r\n", s[i]) || !s[i])
			t[n++] = s[i];
	size_t pad = n && t[n - 1] == '=' ? (n > 1 && t[n - 2] == '=' ? 2 : 1) : 0;
	long r = -1;
	if (n && n % 4 == 0 && !memchr(t, '=', n - pad) && !memchr(t, 0, n))
		r = b64_decode(out, t, n - pad);
	free(t);
	if (r >= 0)
		out[r] = 0;
	return r;
}

static long svc_b64_decode(idhub_arena *a, const char *s, size_t len, uint32_t flags,
                           unsigned char **out)
{
	*out = arena_alloc((arena *)a, len * 3 / 4 + 3);
	return idp_b64_decode(s, len, flags, *out);
}

/* The host of an http(s) URL is a loopback one: localhost, 127.0.0.0/8 or [::1]. */
static int loopback(const char *host, size_t n)
{
	return (n == 9 && !strncmp(host, "localhost", 9)) || (n > 4 && !strncmp(host, "127.", 4)) ||
	       (n == 5 && !strncmp(host, "[::1]", 5));
}

int idp_url_check(const char *u, uint32_t flags)
{
	int https = !strncmp(u, "https://", 8), http = !strncmp(u, "http://", 7);
	if ((!https && !http) || strlen(u) > 2048 || strchr(u, '#') ||
	    ((flags & IDHUB_SET_NO_QUERY) && strchr(u, '?')))
		return -1;
	const char *host = u + (https ? 8 : 7);
	size_t n = strcspn(host, "/?");
	if (n == 0 || memchr(host, '@', n) || strpbrk(u, " \t\r\n\"<>\\"))
		return -1;
	size_t hn = host[0] == '[' ? (size_t)(strchr(host, ']') ? strchr(host, ']') - host + 1 : 0)
	                           : strcspn(host, ":/?");
	if (hn == 0)
		return -1;
	return https || (flags & IDHUB_SET_HTTP_ANY) || loopback(host, hn) ? 0 : -1;
}

char *idp_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	if (!f)
		return NULL;
	char *out = NULL;
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= max &&
	    (out = malloc((size_t)st.st_size + 1))) {
		size_t n = fread(out, 1, (size_t)st.st_size + 1, f);
		if (n != (size_t)st.st_size) { /* changed while read */
			free(out);
			out = NULL;
		} else {
			out[n] = 0;
			if (len)
				*len = n;
		}
	}
	fclose(f);
	return out;
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

int services_init(idp_host *h)
{
	oauth2_log_sink_t *sink = oauth2_log_sink_create(OAUTH2_LOG_WARN, oauth2_sink, NULL);
	h->oauth2_log = oauth2_init(OAUTH2_LOG_WARN, sink);
	return h->oauth2_log ? 0 : -1;
}

/* The instance's seal/unseal key, made once and kept in the store's secrets, so every node that
 * shares the store accepts the tokens another sealed (a sandbox login that starts on one node and
 * finishes on another). Without a store (--check-config) a throwaway key. 0 or -1. */
static int seal_key_load(idhub_instance *in, idp_host *h, const char *id)
{
	if (!h->st)
		return random_bytes(in->seal_key, sizeof in->seal_key);
	char k[160];
	int n = snprintf(k, sizeof k, "idp.seal.%s", id);
	if (n < 0 || (size_t)n >= sizeof k)
		return -1;
	void *v = NULL;
	size_t vl = 0;
	int rc = store_get(h->st, NS_SECRETS, k, (size_t)n, &v, &vl, NULL);
	if (rc == STORE_NOTFOUND) {
		unsigned char mine[32];
		if (random_bytes(mine, sizeof mine))
			return -1;
		audit_attach(h->st, "idhub (start)", "secrets.create", k, NULL, NULL);
		rc = store_put_new(h->st, NS_SECRETS, k, (size_t)n, mine, sizeof mine, 0);
		store_attach_drop(h->st); /* audited with the secret, or dropped with it */
		OPENSSL_cleanse(mine, sizeof mine);
		if (rc && rc != STORE_EXISTS) /* STORE_EXISTS: another node made it first */
			return -1;
		rc = store_get(h->st, NS_SECRETS, k, (size_t)n, &v, &vl, NULL);
	}
	if (rc || vl != sizeof in->seal_key) {
		free(v);
		return -1;
	}
	memcpy(in->seal_key, v, vl);
	OPENSSL_cleanse(v, vl);
	free(v);
	return 0;
}

/* A refusal an adapter made at its own pages, counted as the callback counts finish's (the idp
 * label is the instance's configured id; the check a fixed list: no label from the request). */
static void svc_count_refusal(idhub_instance *in, idhub_check check)
{
	metrics_idp_refused(in->id, check);
}

int services_bind(idhub_instance *in, idp_host *h, const char *id)
{
	idhub_services *s = &in->svc;
	in->h = h;
	in->id = id;
	*s = (idhub_services){.version = IDHUB_ADAPTER_ABI_VERSION,
	                      .size = sizeof(idhub_services),
	                      .inst = in,
	                      .instance_id = id,
	                      .state_dir = h->cfg->state_dir,
	                      .now = svc_now,
	                      .log = svc_log,
	                      .random_token = svc_random_token,
	                      .random_bytes = svc_random_bytes,
	                      .alloc = svc_alloc,
	                      .strdup = svc_strdup,
	                      .sprintf = svc_sprintf,
	                      .replay_seen = svc_replay_seen,
	                      .replay_floor = svc_replay_floor,
	                      .cache_get = svc_cache_get,
	                      .cache_put = svc_cache_put,
	                      .scratch_put = svc_scratch_put,
	                      .scratch_get = svc_scratch_get,
	                      .http = svc_http,
	                      .doc_watch = docs_watch,
	                      .doc_set_url = docs_set_url,
	                      .doc_get = docs_get,
	                      .doc_put = docs_put,
	                      .doc_refetch = docs_refetch,
	                      .jws_verify = jose_verify,
	                      .sign_jwt = svc_sign_jwt,
	                      .page = svc_page,
	                      .html_escape = svc_html_escape,
	                      .url_escape = svc_url_escape,
	                      .b64url_encode = svc_b64url_encode,
	                      .b64url_decode = svc_b64url_decode,
	                      .b64_encode = svc_b64_encode,
	                      .b64_decode = svc_b64_decode,
	                      .url_check = idp_url_check,
	                      .read_file = idp_read_file,
	                      .seal = svc_seal,
	                      .unseal = svc_unseal,
	                      .dev_key_pair = idp_dev_key_pair,
	                      .key_pair_check = idp_key_pair_check,
	                      .cert_der_b64 = idp_cert_der_b64,
	                      .parse_time = idp_parse_time,
	                      .revision = IDHUB_ADAPTER_REVISION,
	                      .text = svc_text,
	                      .lang = svc_lang,
	                      .respond_page = idp_respond_page,
	                      .respond_autopost = idp_respond_autopost,
	                      .respond_logout_done = idp_respond_logout_done,
	                      .level_name = idp_level_name,
	                      .level_of = idp_level_of,
	                      .text_fill = idp_text_fill,
	                      .attrs_from_json = idp_attrs_from_json,
	                      .auth_fresh = idp_auth_fresh,
	                      .digest_b64url = svc_digest_b64url,
	                      .record = idp_record,
	                      .record_get = idp_record_get,
	                      .form_html = idp_form_html,
	                      .error_summary_html = idp_error_summary_html,
	                      .url_param = svc_url_param,
	                      .count_refusal = svc_count_refusal,
	                      .xml_read = idp_xml_read,
	                      .xml_check = idp_xml_check,
	                      .attrs_from_pairs = idp_attrs_from_pairs};
	idp_xml_init(); /* services are bound before the hub's threads start */
	return seal_key_load(in, h, id);
}

void services_shutdown(idp_host *h)
{
	if (h->oauth2_log)
		oauth2_shutdown(h->oauth2_log);
	h->oauth2_log = NULL;
}
