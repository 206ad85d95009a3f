/* loadgen.c — the benchmark's load generator: complete OpenID Connect authorization-code logins
 * with PKCE, driven by N virtual users (one thread and one keep-alive HTTP/1.1 connection each,
 * plain blocking sockets, so the generator costs little CPU next to the server it measures).
 *
 * Targets:
 *   idhub  GET /authorize -> 303 /login/<id> (+ cookie); GET /login/<id> (picker, csrf);
 *          POST /login/<id> csrf&idp=sandbox -> 303 .../idp/sandbox/login?req=..;
 *          POST /idp/sandbox/login req&persona=other&username&loa=1&action=login -> 303;
 *          GET /idp/sandbox/answer?req=.. -> auto-POST page;
 *          POST /callback/sandbox assertion&state -> 303 redirect_uri?code=..; POST /token (Basic).
 *   peer   (bench/peer/server.mjs, oidc-provider) GET /auth -> 303 /interaction/<uid>;
 *          GET /interaction/<uid> (login page); POST /interaction/<uid>/login -> 303 /auth/<uid>;
 *          GET /auth/<uid> -> 303 redirect_uri?code=..; POST /token (Basic).
 *
 * Modes: login (whole logins, timed from the first request to the token response), sso (single
 * sign-on: each virtual user first signs in once to --client-id through the whole journey and
 * keeps its hub session cookie; then each timed login is GET /authorize for --sso-client, answered
 * at once with a code, and its redemption), token (mint
 * codes first, then time the token endpoint alone), authorize (GET /authorize, the picker and the
 * IdP choice, after which the hub stores the journey: creates live journeys, for the memory
 * figure). Every --verify-every'th ID token's ES256 signature is checked against the target's /jwks
 * with OpenSSL.
 *
 * With --pid, the server's CPU (utime+stime from /proc/PID/stat) and memory (VmHWM, VmRSS) are read
 * just before and after the measured phase. Output: one "key=value ..." line on stdout (for
 * bench/run.sh) and a readable summary on stderr. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- options */

enum { T_IDHUB, T_PEER };
enum { M_LOGIN, M_TOKEN, M_AUTHORIZE, M_SSO };

static struct {
	int target, mode, vus, warmup, repeat_users, verify_every, server_pid;
	long logins;
	double seconds;
	const char *host, *client_id, *secret, *redirect_uri, *label, *user_prefix, *sso_client;
	int port;
} opt = {.target = T_IDHUB,
         .mode = M_LOGIN,
         .vus = 16,
         .logins = 1000,
         .seconds = 60,
         .verify_every = 100,
         .host = "127.0.0.1",
         .label = "run",
         .user_prefix = "u"};

static char basic_auth[512], basic_auth_sso[512];
static __thread const char *cur_auth =
    basic_auth; /* the client the token requests authenticate as */
static char redirect_enc[1024];

/* ---------------------------------------------------------------- helpers */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "loadgen: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

static const char B64URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64url_enc(char *out, const unsigned char *in, size_t n)
{
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		unsigned v = in[i] << 16 | in[i + 1] << 8 | in[i + 2];
		out[o++] = B64URL[v >> 18 & 63];
		out[o++] = B64URL[v >> 12 & 63];
		out[o++] = B64URL[v >> 6 & 63];
		out[o++] = B64URL[v & 63];
	}
	if (n - i == 1) {
		unsigned v = in[i] << 16;
		out[o++] = B64URL[v >> 18 & 63];
		out[o++] = B64URL[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = in[i] << 16 | in[i + 1] << 8;
		out[o++] = B64URL[v >> 18 & 63];
		out[o++] = B64URL[v >> 12 & 63];
		out[o++] = B64URL[v >> 6 & 63];
	}
	out[o] = 0;
}

/* Decodes base64url (no padding) into out (size cap); returns bytes or -1. */
static long b64url_dec(const char *in, size_t n, unsigned char *out, size_t cap)
{
	unsigned v = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		const char *p = in[i] ? strchr(B64URL, in[i]) : NULL;
		if (!p)
			return -1;
		v = v << 6 | (unsigned)(p - B64URL);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= cap)
				return -1;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	return (long)o;
}

static void urlenc(char *out, size_t cap, const char *in)
{
	size_t o = 0;
	for (; *in && o + 4 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~') {
			out[o++] = (char)c;
		} else {
			o += (size_t)snprintf(out + o, cap - o, "%%%02X", c);
		}
	}
	out[o] = 0;
}

/* Copies the text between `after` and the next `until` char into out. 0 ok, -1 absent. */
static int extract(const char *hay, const char *after, char until, char *out, size_t cap)
{
	const char *p = hay ? strstr(hay, after) : NULL;
	if (!p)
		return -1;
	p += strlen(after);
	const char *e = strchr(p, until);
	if (!e)
		e = p + strlen(p);
	size_t n = (size_t)(e - p);
	if (n >= cap)
		return -1;
	memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

/* ---------------------------------------------------------------- /proc */

typedef struct {
	double cpu_s;
	long hwm_kb, rss_kb;
} proc_sample;

static proc_sample proc_read(int pid)
{
	proc_sample s = {0};
	if (pid <= 0)
		return s;
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (f) {
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		buf[n] = 0;
		fclose(f);
		char *p = strrchr(buf, ')'); /* fields after comm: state is field 3 */
		unsigned long ut = 0, st = 0;
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
		                &st) == 2)
			s.cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	}
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (f) {
		while (fgets(buf, sizeof buf, f)) {
			if (!strncmp(buf, "VmHWM:", 6))
				s.hwm_kb = atol(buf + 6);
			else if (!strncmp(buf, "VmRSS:", 6))
				s.rss_kb = atol(buf + 6);
		}
		fclose(f);
	}
	return s;
}

static double self_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* ---------------------------------------------------------------- HTTP/1.1 client */

#define MAX_COOKIES 16
#define RBUF 65536

typedef struct {
	char name[64];
	char value[512];
} cookie;

typedef struct conn {
	int fd;
	char rbuf[RBUF + 1];
	size_t rlen;
	/* the last response */
	int status;
	char location[4096];
	char *body;
	size_t body_len;
	char body_buf[RBUF + 1];
	cookie jar[MAX_COOKIES];
	int ncookies;
	long requests;
} conn;

static int conn_open(conn *c)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
	inet_pton(AF_INET, opt.host, &a.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct timeval tv = {.tv_sec = 10};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->rlen = 0;
	return 0;
}

static void conn_close(conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->rlen = 0;
}

static void jar_set(conn *c, const char *hdr)
{
	/* "name=value; attrs..." */
	const char *eq = strchr(hdr, '=');
	if (!eq)
		return;
	size_t nl = (size_t)(eq - hdr);
	const char *v = eq + 1, *semi = strchr(v, ';');
	size_t vl = semi ? (size_t)(semi - v) : strcspn(v, "\r\n");
	if (nl >= sizeof c->jar[0].name || vl >= sizeof c->jar[0].value)
		return;
	int del = vl == 0 || strcasestr(hdr, "expires=Thu, 01 Jan 1970") != NULL;
	for (int i = 0; i < c->ncookies; i++)
		if (strlen(c->jar[i].name) == nl && !memcmp(c->jar[i].name, hdr, nl)) {
			if (del) {
				c->jar[i] = c->jar[--c->ncookies];
			} else {
				memcpy(c->jar[i].value, v, vl);
				c->jar[i].value[vl] = 0;
			}
			return;
		}
	if (del || c->ncookies >= MAX_COOKIES)
		return;
	cookie *k = &c->jar[c->ncookies++];
	memcpy(k->name, hdr, nl);
	k->name[nl] = 0;
	memcpy(k->value, v, vl);
	k->value[vl] = 0;
}

static int fill(conn *c)
{
	if (c->rlen >= RBUF)
		return -1;
	ssize_t n = recv(c->fd, c->rbuf + c->rlen, RBUF - c->rlen, 0);
	if (n <= 0)
		return -1;
	c->rlen += (size_t)n;
	c->rbuf[c->rlen] = 0;
	return 0;
}

static void consume(conn *c, size_t n)
{
	memmove(c->rbuf, c->rbuf + n, c->rlen - n);
	c->rlen -= n;
	c->rbuf[c->rlen] = 0;
}

/* Reads one response into c (status, location, cookies, body). 0 ok, -1 I/O or protocol error. */
static int read_response(conn *c, int *close_after)
{
	char *hend;
	while (!(hend = strstr(c->rbuf, "\r\n\r\n")))
		if (fill(c))
			return -1;
	size_t hlen = (size_t)(hend - c->rbuf) + 4;
	*hend = 0;
	if (sscanf(c->rbuf, "HTTP/1.%*d %d", &c->status) != 1)
		return -1;
	long clen = -1;
	int chunked = 0;
	*close_after = 0;
	c->location[0] = 0;
	for (char *line = strstr(c->rbuf, "\r\n"); line && line < hend;
	     line = strstr(line, "\r\n")) {
		line += 2;
		char *eol = strstr(line, "\r\n");
		if (eol)
			*eol = 0;
		if (!strncasecmp(line, "content-length:", 15))
			clen = atol(line + 15);
		else if (!strncasecmp(line, "transfer-encoding:", 18) &&
		         strcasestr(line, "chunked"))
			chunked = 1;
		else if (!strncasecmp(line, "connection:", 11) && strcasestr(line, "close"))
			*close_after = 1;
		else if (!strncasecmp(line, "location:", 9)) {
			const char *v = line + 9;
			while (*v == ' ')
				v++;
			snprintf(c->location, sizeof c->location, "%s", v);
		} else if (!strncasecmp(line, "set-cookie:", 11)) {
			const char *v = line + 11;
			while (*v == ' ')
				v++;
			jar_set(c, v);
		}
		if (!eol)
			break;
		*eol = '\r';
		line = eol;
	}
	consume(c, hlen);
	c->body_len = 0;
	if (chunked) {
		for (;;) {
			char *crlf;
			while (!(crlf = strstr(c->rbuf, "\r\n")))
				if (fill(c))
					return -1;
			long sz = strtol(c->rbuf, NULL, 16);
			consume(c, (size_t)(crlf - c->rbuf) + 2);
			while (c->rlen < (size_t)sz + 2)
				if (fill(c))
					return -1;
			if (c->body_len + (size_t)sz > RBUF)
				return -1;
			memcpy(c->body_buf + c->body_len, c->rbuf, (size_t)sz);
			c->body_len += (size_t)sz;
			consume(c, (size_t)sz + 2);
			if (sz == 0)
				break;
		}
	} else {
		if (clen < 0)
			clen = 0; /* no body without a length on a keep-alive answer we expect */
		if (clen > RBUF)
			return -1;
		while (c->rlen < (size_t)clen)
			if (fill(c))
				return -1;
		memcpy(c->body_buf, c->rbuf, (size_t)clen);
		c->body_len = (size_t)clen;
		consume(c, (size_t)clen);
	}
	c->body_buf[c->body_len] = 0;
	c->body = c->body_buf;
	return 0;
}

static __thread char reqbuf[16384];

/* Sends one request and reads its answer, reconnecting once if a kept-alive connection was closed.
 */
static int http(conn *c, const char *method, const char *path, const char *body, int with_basic,
                int with_cookies)
{
	size_t blen = body ? strlen(body) : 0;
	int n = snprintf(reqbuf, sizeof reqbuf, "%s %s HTTP/1.1\r\nHost: %s:%d\r\n", method, path,
	                 opt.host, opt.port);
	if (with_basic)
		n += snprintf(reqbuf + n, sizeof reqbuf - (size_t)n, "Authorization: Basic %s\r\n",
		              cur_auth);
	if (with_cookies && c->ncookies) {
		n += snprintf(reqbuf + n, sizeof reqbuf - (size_t)n, "Cookie: ");
		for (int i = 0; i < c->ncookies; i++)
			n += snprintf(reqbuf + n, sizeof reqbuf - (size_t)n, "%s%s=%s",
			              i ? "; " : "", c->jar[i].name, c->jar[i].value);
		n += snprintf(reqbuf + n, sizeof reqbuf - (size_t)n, "\r\n");
	}
	if (body)
		n += snprintf(reqbuf + n, sizeof reqbuf - (size_t)n,
		              "Content-Type: application/x-www-form-urlencoded\r\n"
		              "Content-Length: %zu\r\n",
		              blen);
	n += snprintf(reqbuf + n, sizeof reqbuf - (size_t)n, "\r\n");
	if ((size_t)n + blen >= sizeof reqbuf)
		return -1;
	if (body)
		memcpy(reqbuf + n, body, blen);
	size_t total = (size_t)n + blen;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (c->fd < 0 && conn_open(c))
			return -1;
		size_t off = 0;
		int ok = 1;
		while (off < total) {
			ssize_t w = send(c->fd, reqbuf + off, total - off, MSG_NOSIGNAL);
			if (w <= 0) {
				ok = 0;
				break;
			}
			off += (size_t)w;
		}
		int close_after = 0;
		if (ok && read_response(c, &close_after) == 0) {
			c->requests++;
			if (close_after)
				conn_close(c);
			return 0;
		}
		conn_close(c);
	}
	return -1;
}

/* The path (and query) of a Location that is absolute or already a path. */
static const char *loc_path(const char *loc)
{
	if (loc[0] == '/')
		return loc;
	const char *p = strstr(loc, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	return p ? p : "/";
}

/* ---------------------------------------------------------------- ES256 verification */

#define MAX_KEYS 8
static struct {
	char kid[128];
	EVP_PKEY *pk;
} jwks[MAX_KEYS];
static int njwks;

static EVP_PKEY *ec_pub(const char *x, const char *y)
{
	unsigned char pt[65];
	pt[0] = 4;
	if (b64url_dec(x, strlen(x), pt + 1, 32) != 32 ||
	    b64url_dec(y, strlen(y), pt + 33, 32) != 32)
		return NULL;
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
	OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt);
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(b);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pk = NULL;
	if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	return pk;
}

/* Loads the EC P-256 keys of the target's JWKS (each key object is flat JSON). */
static void load_jwks(void)
{
	conn *c = calloc(1, sizeof *c);
	c->fd = -1;
	const char *path = "/jwks";
	if (http(c, "GET", path, NULL, 0, 0) || c->status != 200)
		die("GET %s failed", path);
	const char *p = c->body;
	while ((p = strchr(p, '{')) && njwks < MAX_KEYS) {
		const char *e = strchr(p + 1, '}');
		if (!e)
			break;
		char obj[4096], x[128], y[128], crv[32];
		size_t n = (size_t)(e - p) + 1;
		if (n < sizeof obj) {
			memcpy(obj, p, n);
			obj[n] = 0;
			if (!extract(obj, "\"crv\":\"", '"', crv, sizeof crv) &&
			    !strcmp(crv, "P-256") && !extract(obj, "\"x\":\"", '"', x, sizeof x) &&
			    !extract(obj, "\"y\":\"", '"', y, sizeof y) &&
			    !extract(obj, "\"kid\":\"", '"', jwks[njwks].kid, sizeof jwks[0].kid)) {
				jwks[njwks].pk = ec_pub(x, y);
				if (jwks[njwks].pk)
					njwks++;
			}
		}
		p = (p == c->body && strstr(p, "\"keys\"")) ? p + 1 : e + 1;
	}
	conn_close(c);
	free(c);
	if (!njwks)
		die("no P-256 key in the target's JWKS");
}

/* 1 if the compact JWS is an ES256 token signed by a JWKS key, else 0. */
static int verify_es256(const char *jwt)
{
	const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (!d2)
		return 0;
	unsigned char hdr[1024];
	long hl = b64url_dec(jwt, (size_t)(d1 - jwt), hdr, sizeof hdr - 1);
	if (hl <= 0)
		return 0;
	hdr[hl] = 0;
	char alg[16], kid[128];
	if (extract((char *)hdr, "\"alg\":\"", '"', alg, sizeof alg) || strcmp(alg, "ES256") ||
	    extract((char *)hdr, "\"kid\":\"", '"', kid, sizeof kid))
		return 0;
	EVP_PKEY *pk = NULL;
	for (int i = 0; i < njwks; i++)
		if (!strcmp(jwks[i].kid, kid))
			pk = jwks[i].pk;
	unsigned char rs[64];
	if (!pk || b64url_dec(d2 + 1, strlen(d2 + 1), rs, sizeof rs) != 64)
		return 0;
	ECDSA_SIG *sig = ECDSA_SIG_new();
	ECDSA_SIG_set0(sig, BN_bin2bn(rs, 32, NULL), BN_bin2bn(rs + 32, 32, NULL));
	unsigned char der[80], *dp = der;
	int dl = i2d_ECDSA_SIG(sig, &dp);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) == 1 &&
	         EVP_DigestVerify(md, der, (size_t)dl, (const unsigned char *)jwt,
	                          (size_t)(d2 - jwt)) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/* ---------------------------------------------------------------- the journey */

typedef struct {
	char code[128];
	char verifier[64];
} minted;

static minted *codes;
static atomic_long next_index, ncodes, errors, verified, verify_failed, completed;
static _Atomic int stop;
static double deadline;
static char first_error[512];
static pthread_mutex_t err_lock = PTHREAD_MUTEX_INITIALIZER;

static void record_error(const char *what, const conn *c)
{
	atomic_fetch_add(&errors, 1);
	pthread_mutex_lock(&err_lock);
	if (!first_error[0])
		snprintf(first_error, sizeof first_error,
		         "%s (status %d, location '%.80s', body '%.120s')", what, c->status,
		         c->location, c->body ? c->body : "");
	pthread_mutex_unlock(&err_lock);
}

#define FAIL(what)                                                                                 \
	do {                                                                                       \
		record_error(what, c);                                                             \
		return -1;                                                                         \
	} while (0)

static void pkce(char verifier[64], char challenge[64])
{
	unsigned char r[32], d[32];
	RAND_bytes(r, sizeof r);
	b64url_enc(verifier, r, sizeof r);
	SHA256((unsigned char *)verifier, strlen(verifier), d);
	b64url_enc(challenge, d, sizeof d);
}

static void username(long i, char *out, size_t cap)
{
	if (opt.repeat_users > 0)
		snprintf(out, cap, "%sr%ld", opt.user_prefix, i % opt.repeat_users);
	else
		snprintf(out, cap, "%sd%ld", opt.user_prefix, i);
}

/* Runs a journey up to the code. 0 and the code in code_out, or -1 (error recorded). */
static int journey_to_code(conn *c, long i, const char *verifier, const char *challenge,
                           char *code_out, size_t code_cap)
{
	static __thread char path[8192], body[8192], a[4096], b[4096], user[96];
	char state[32], nonce[32];
	unsigned char r[16];
	RAND_bytes(r, sizeof r);
	b64url_enc(state, r, 12);
	b64url_enc(nonce, r + 4, 12);
	c->ncookies = 0; /* every login is a new browser */
	const char *ep = opt.target == T_PEER ? "/auth" : "/authorize";
	snprintf(path, sizeof path,
	         "%s?response_type=code&client_id=%s&redirect_uri=%s&scope=openid&state=%s&nonce=%s"
	         "&code_challenge=%s&code_challenge_method=S256",
	         ep, opt.client_id, redirect_enc, state, nonce, challenge);
	if (http(c, "GET", path, NULL, 0, 1))
		FAIL("authorize: I/O");
	if (c->status != 303 && c->status != 302)
		FAIL("authorize: not a redirect");
	if (opt.mode == M_AUTHORIZE && opt.target != T_IDHUB)
		return 0;
	char login[4096];
	snprintf(login, sizeof login, "%s", loc_path(c->location));
	username(i, user, sizeof user);

	if (opt.target == T_IDHUB) {
		if (http(c, "GET", login, NULL, 0, 1) || c->status != 200)
			FAIL("picker GET");
		if (extract(c->body, "name=\"csrf\" value=\"", '"', a, sizeof a))
			FAIL("picker: no csrf");
		snprintf(body, sizeof body, "csrf=%s&idp=sandbox", a);
		if (http(c, "POST", login, body, 0, 1) || c->status != 303)
			FAIL("picker POST");
		/* the hub stores a journey only once an IdP is picked: that is a live journey */
		if (opt.mode == M_AUTHORIZE)
			return 0;
		if (extract(c->location, "req=", '&', a, sizeof a))
			FAIL("picker POST: no req");
		/* the sandbox IdP's own login page is skipped: its POST needs only req */
		snprintf(body, sizeof body, "req=%s&persona=other&username=%s&loa=1&action=login",
		         a, user);
		if (http(c, "POST", "/idp/sandbox/login", body, 0, 1) || c->status != 303)
			FAIL("sandbox IdP POST");
		/* POST/redirect/GET: the auto-POST page is the GET the POST redirects to */
		snprintf(path, sizeof path, "%s", loc_path(c->location));
		if (http(c, "GET", path, NULL, 0, 1) || c->status != 200)
			FAIL("sandbox IdP answer page");
		if (extract(c->body, "name=\"assertion\" value=\"", '"', a, sizeof a) ||
		    extract(c->body, "name=\"state\" value=\"", '"', b, sizeof b))
			FAIL("sandbox IdP: no assertion");
		char ea[4200], eb[200];
		urlenc(ea, sizeof ea, a);
		urlenc(eb, sizeof eb, b);
		snprintf(body, sizeof body, "assertion=%s&state=%s", ea, eb);
		if (http(c, "POST", "/callback/sandbox", body, 0, 1) || c->status != 303)
			FAIL("callback");
	} else {
		if (http(c, "GET", login, NULL, 0, 1) || c->status != 200)
			FAIL("interaction GET");
		snprintf(path, sizeof path, "%s/login", login);
		snprintf(body, sizeof body, "username=%s", user);
		if (http(c, "POST", path, body, 0, 1) || (c->status != 303 && c->status != 302))
			FAIL("interaction POST");
		snprintf(path, sizeof path, "%s", loc_path(c->location));
		if (http(c, "GET", path, NULL, 0, 1) || (c->status != 303 && c->status != 302))
			FAIL("resume");
	}
	if (strncmp(c->location, opt.redirect_uri, strlen(opt.redirect_uri)) != 0 ||
	    extract(c->location, "code=", '&', code_out, code_cap))
		FAIL("no code in the redirect");
	return 0;
}

static int redeem(conn *c, const char *code, const char *verifier, int check)
{
	static __thread char body[2400], idt[4096];
	snprintf(body, sizeof body,
	         "grant_type=authorization_code&code=%s&redirect_uri=%s&code_verifier=%s", code,
	         redirect_enc, verifier);
	if (http(c, "POST", "/token", body, 1, 0) || c->status != 200)
		FAIL("token");
	if (extract(c->body, "\"id_token\":\"", '"', idt, sizeof idt))
		FAIL("token: no id_token");
	if (check) {
		if (verify_es256(idt))
			atomic_fetch_add(&verified, 1);
		else {
			atomic_fetch_add(&verify_failed, 1);
			FAIL("id_token signature does not verify");
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- virtual users */

typedef struct {
	conn *c;
	double *lat; /* seconds, per completed item */
	long nlat, cap;
	long requests;
	int phase; /* 0 warm-up/mint, 1 measured */
	long limit;
} vu;

static long take_index(long limit)
{
	if (atomic_load(&stop))
		return -1;
	long i = atomic_fetch_add(&next_index, 1);
	if (i >= limit || now_s() > deadline)
		return -1;
	return i;
}

static void *vu_login(void *arg)
{
	vu *v = arg;
	conn *c = v->c;
	long i;
	char verifier[64], challenge[64], code[128];
	while ((i = take_index(v->limit)) >= 0) {
		pkce(verifier, challenge);
		double t0 = now_s();
		long r0 = c->requests;
		if (journey_to_code(c, i, verifier, challenge, code, sizeof code))
			continue;
		if (opt.mode == M_LOGIN) {
			int check = opt.verify_every > 0 && i % opt.verify_every == 0;
			if (redeem(c, code, verifier, check))
				continue;
		} else if (opt.mode == M_TOKEN && v->phase == 0) {
			long k = atomic_fetch_add(&ncodes, 1);
			snprintf(codes[k].code, sizeof codes[k].code, "%s", code);
			snprintf(codes[k].verifier, sizeof codes[k].verifier, "%s", verifier);
		}
		if (v->phase == 1 && v->nlat < v->cap) {
			v->lat[v->nlat++] = now_s() - t0;
			v->requests += c->requests - r0;
		}
		atomic_fetch_add(&completed, 1);
	}
	return NULL;
}

/* sso mode, before the measured phase: each virtual user signs in once (its hub session). */
static void *vu_sso_setup(void *arg)
{
	vu *v = arg;
	char verifier[64], challenge[64], code[128];
	pkce(verifier, challenge);
	if (journey_to_code(v->c, atomic_fetch_add(&next_index, 1), verifier, challenge, code,
	                    sizeof code) == 0)
		redeem(v->c, code, verifier, 0);
	return NULL;
}

/* One single sign-on login to --sso-client: /authorize answered with a code, then /token. */
static int sso_login(conn *c, int check)
{
	static __thread char path[4096], code[128];
	char verifier[64], challenge[64], state[32], nonce[32];
	unsigned char r[16];
	pkce(verifier, challenge);
	RAND_bytes(r, sizeof r);
	b64url_enc(state, r, 12);
	b64url_enc(nonce, r + 4, 12);
	snprintf(path, sizeof path,
	         "/authorize?response_type=code&client_id=%s&redirect_uri=%s&scope=openid&state=%s"
	         "&nonce=%s&code_challenge=%s&code_challenge_method=S256",
	         opt.sso_client, redirect_enc, state, nonce, challenge);
	if (http(c, "GET", path, NULL, 0, 1) || c->status != 303)
		FAIL("sso authorize: not a redirect");
	if (strncmp(c->location, opt.redirect_uri, strlen(opt.redirect_uri)) != 0 ||
	    extract(c->location, "code=", '&', code, sizeof code))
		FAIL("sso authorize: no code (is the session gone?)");
	cur_auth = basic_auth_sso;
	int rc = redeem(c, code, verifier, check);
	cur_auth = basic_auth;
	return rc;
}

static void *vu_sso(void *arg)
{
	vu *v = arg;
	long i;
	while ((i = take_index(v->limit)) >= 0) {
		double t0 = now_s();
		long r0 = v->c->requests;
		if (sso_login(v->c, opt.verify_every > 0 && i % opt.verify_every == 0))
			continue;
		if (v->nlat < v->cap) {
			v->lat[v->nlat++] = now_s() - t0;
			v->requests += v->c->requests - r0;
		}
		atomic_fetch_add(&completed, 1);
	}
	return NULL;
}

static void *vu_token(void *arg)
{
	vu *v = arg;
	conn *c = v->c;
	long i;
	while ((i = take_index(v->limit)) >= 0) {
		double t0 = now_s();
		int check = opt.verify_every > 0 && i % opt.verify_every == 0;
		if (redeem(c, codes[i].code, codes[i].verifier, check))
			continue;
		v->lat[v->nlat++] = now_s() - t0;
		v->requests += 1;
		atomic_fetch_add(&completed, 1);
	}
	return NULL;
}

static void run_phase(vu *vus, void *(*fn)(void *), long limit, double seconds, int phase)
{
	pthread_t th[256];
	atomic_store(&next_index, 0);
	atomic_store(&completed, 0);
	deadline = now_s() + seconds;
	for (int k = 0; k < opt.vus; k++) {
		vus[k].phase = phase;
		vus[k].limit = limit;
		pthread_create(&th[k], NULL, fn, &vus[k]);
	}
	for (int k = 0; k < opt.vus; k++)
		pthread_join(th[k], NULL);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *s, long n, double p)
{
	if (n <= 0)
		return 0;
	long k = (long)(p / 100.0 * (double)(n - 1) + 0.5);
	return s[k];
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: loadgen --port P --client-id ID --secret S --redirect-uri URI [--target "
	    "idhub|peer]\n"
	    "               [--mode login|token|authorize|sso] [--sso-client ID] [--vus N]\n"
	    "               [--logins N] [--seconds T]\n"
	    "               [--warmup N] [--repeat-users K] [--user-prefix P] [--verify-every K]\n"
	    "               [--pid SERVER_PID] [--label NAME]\n");
	exit(2);
}

/* The command line into opt (usage() and exit on a mistake). */
static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--target"))
			opt.target = !strcmp(v, "peer") ? T_PEER : T_IDHUB;
		else if (!strcmp(a, "--mode"))
			opt.mode = !strcmp(v, "token")       ? M_TOKEN
			           : !strcmp(v, "authorize") ? M_AUTHORIZE
			           : !strcmp(v, "sso")       ? M_SSO
			                                     : M_LOGIN;
		else if (!strcmp(a, "--sso-client"))
			opt.sso_client = v;
		else if (!strcmp(a, "--port"))
			opt.port = atoi(v);
		else if (!strcmp(a, "--client-id"))
			opt.client_id = v;
		else if (!strcmp(a, "--secret"))
			opt.secret = v;
		else if (!strcmp(a, "--redirect-uri"))
			opt.redirect_uri = v;
		else if (!strcmp(a, "--vus"))
			opt.vus = atoi(v);
		else if (!strcmp(a, "--logins"))
			opt.logins = atol(v);
		else if (!strcmp(a, "--seconds"))
			opt.seconds = atof(v);
		else if (!strcmp(a, "--warmup"))
			opt.warmup = atoi(v);
		else if (!strcmp(a, "--repeat-users"))
			opt.repeat_users = atoi(v);
		else if (!strcmp(a, "--user-prefix"))
			opt.user_prefix = v;
		else if (!strcmp(a, "--verify-every"))
			opt.verify_every = atoi(v);
		else if (!strcmp(a, "--pid"))
			opt.server_pid = atoi(v);
		else if (!strcmp(a, "--label"))
			opt.label = v;
		else
			usage();
	}
	if (!opt.port || !opt.client_id || !opt.secret || !opt.redirect_uri || opt.vus < 1 ||
	    opt.vus > 256 || opt.logins < 1 || (opt.mode == M_SSO && !opt.sso_client))
		usage();
}

/* The services' HTTP Basic credentials, the encoded redirect URI, and the hub's JWKS. */
static void prepare_requests(void)
{
	char cred[256];
	snprintf(cred, sizeof cred, "%s:%s", opt.client_id, opt.secret);
	EVP_EncodeBlock((unsigned char *)basic_auth, (unsigned char *)cred, (int)strlen(cred));
	if (opt.sso_client) {
		snprintf(cred, sizeof cred, "%s:%s", opt.sso_client, opt.secret);
		EVP_EncodeBlock((unsigned char *)basic_auth_sso, (unsigned char *)cred,
		                (int)strlen(cred));
	}
	urlenc(redirect_enc, sizeof redirect_enc, opt.redirect_uri);
	if (opt.mode != M_AUTHORIZE)
		load_jwks();
}

static vu *new_vus(void)
{
	vu *vus = calloc((size_t)opt.vus, sizeof *vus);
	for (int k = 0; k < opt.vus; k++) {
		vus[k].c = calloc(1, sizeof(conn));
		vus[k].c->fd = -1;
		vus[k].cap = opt.logins + 16;
		vus[k].lat = calloc((size_t)vus[k].cap, sizeof(double));
	}
	return vus;
}

/* After an unmeasured phase: reports its errors (while what) and clears them. */
static void phase_errors(const char *what)
{
	if (atomic_load(&errors))
		fprintf(stderr, "loadgen: %ld errors %s: %s\n", atomic_load(&errors), what,
		        first_error);
	atomic_store(&errors, 0);
	first_error[0] = 0;
}

/* The unmeasured phases: the warm-up, the SSO sessions, the codes to redeem. */
static void prepare_phases(vu *vus)
{
	/* warm-up: whole logins, not measured (in repeat mode this creates the users' pairwise
	 * records) */
	if (opt.warmup > 0) {
		int mode = opt.mode;
		opt.mode = mode == M_AUTHORIZE ? M_AUTHORIZE : M_LOGIN;
		run_phase(vus, vu_login, opt.warmup, opt.seconds, 0);
		opt.mode = mode;
		phase_errors("in the warm-up");
	}
	if (opt.mode == M_SSO) {
		/* every virtual user signs in once: its hub session (not measured) */
		atomic_store(&next_index, 0);
		run_phase(vus, vu_sso_setup, opt.vus, opt.seconds, 0);
		phase_errors("while signing in");
	}
	if (opt.mode == M_TOKEN) {
		/* mint the codes with whole journeys up to the code (not measured), redeem them
		 * timed */
		codes = calloc((size_t)opt.logins, sizeof *codes);
		double t0 = now_s();
		run_phase(vus, vu_login, opt.logins, 40, 0);
		fprintf(stderr, "loadgen: minted %ld codes in %.1f s\n", atomic_load(&ncodes),
		        now_s() - t0);
		phase_errors("while minting");
	}
	for (int k = 0; k < opt.vus; k++)
		vus[k].requests = vus[k].nlat = 0;
	atomic_store(&verified, 0);
	atomic_store(&verify_failed, 0);
}

/* Prints the measured phase's figures: one line of key=value on stdout, a sentence on stderr. */
static void report(vu *vus, double wall, double gen_cpu, proc_sample s0, proc_sample s1)
{
	long n = 0, reqs = 0;
	for (int k = 0; k < opt.vus; k++)
		n += vus[k].nlat, reqs += vus[k].requests;
	double *all = malloc(sizeof(double) * (size_t)(n ? n : 1));
	long o = 0;
	for (int k = 0; k < opt.vus; k++) {
		memcpy(all + o, vus[k].lat, sizeof(double) * (size_t)vus[k].nlat);
		o += vus[k].nlat;
	}
	qsort(all, (size_t)n, sizeof(double), cmp_d);
	double srv_cpu = s1.cpu_s - s0.cpu_s;
	double rate = n / wall;
	printf("label=%s target=%s mode=%s vus=%d done=%ld seconds=%.2f rate=%.1f p50_ms=%.2f "
	       "p95_ms=%.2f p99_ms=%.2f errors=%ld req_per_item=%.2f server_cpu_ms=%.3f "
	       "gen_cpu_ms=%.3f server_cpu_s=%.2f hwm_mb=%.1f rss_mb=%.1f verified=%ld "
	       "verify_failed=%ld\n",
	       opt.label, opt.target == T_PEER ? "peer" : "idhub",
	       opt.mode == M_TOKEN       ? "token"
	       : opt.mode == M_AUTHORIZE ? "authorize"
	       : opt.mode == M_SSO       ? "sso"
	                                 : "login",
	       opt.vus, n, wall, rate, pct(all, n, 50) * 1e3, pct(all, n, 95) * 1e3,
	       pct(all, n, 99) * 1e3, atomic_load(&errors), n ? (double)reqs / n : 0,
	       n && opt.server_pid ? srv_cpu * 1e3 / n : 0, n ? gen_cpu * 1e3 / n : 0, srv_cpu,
	       s1.hwm_kb / 1024.0, s1.rss_kb / 1024.0, atomic_load(&verified),
	       atomic_load(&verify_failed));
	fprintf(stderr,
	        "loadgen %s: %ld %s in %.2f s = %.0f/s; p50 %.2f ms, p95 %.2f ms, p99 %.2f ms; "
	        "%ld errors; %.2f requests each; server CPU %.3f ms each; generator CPU %.3f ms "
	        "each; server peak RSS %.1f MB; %ld ID tokens verified\n",
	        opt.label, n,
	        opt.mode == M_TOKEN       ? "token requests"
	        : opt.mode == M_AUTHORIZE ? "authorize requests"
	                                  : "logins",
	        wall, rate, pct(all, n, 50) * 1e3, pct(all, n, 95) * 1e3, pct(all, n, 99) * 1e3,
	        atomic_load(&errors), n ? (double)reqs / n : 0,
	        n && opt.server_pid ? srv_cpu * 1e3 / n : 0, n ? gen_cpu * 1e3 / n : 0,
	        s1.hwm_kb / 1024.0, atomic_load(&verified));
	if (first_error[0])
		fprintf(stderr, "loadgen %s: first error: %s\n", opt.label, first_error);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	prepare_requests();
	vu *vus = new_vus();
	prepare_phases(vus);
	proc_sample s0 = proc_read(opt.server_pid);
	double c0 = self_cpu(), t0 = now_s();
	if (opt.mode == M_TOKEN)
		run_phase(vus, vu_token, atomic_load(&ncodes), opt.seconds, 1);
	else if (opt.mode == M_SSO)
		run_phase(vus, vu_sso, opt.logins, opt.seconds, 1);
	else
		run_phase(vus, vu_login, opt.logins, opt.seconds, 1);
	double wall = now_s() - t0, gen_cpu = self_cpu() - c0;
	proc_sample s1 = proc_read(opt.server_pid);
	report(vus, wall, gen_cpu, s0, s1);
	return atomic_load(&errors) || atomic_load(&verify_failed) ? 1 : 0;
}
