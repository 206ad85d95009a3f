/* log.c — stderr logging, text with journald priority prefixes or JSON lines, with the calling
 * thread's request and journey IDs (see log.h). */
#include "log.h"
#include "b64url.h"
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int log_level = LOG_INFO_; /* set once in main before threads start */
static int log_format = LOG_TEXT; /* likewise */

static __thread char tl_request[LOG_ID_MAX + 1];
static __thread char tl_journey[24];

void log_set_level(int level)
{
	log_level = level;
}

void log_set_format(int format)
{
	log_format = format;
}

int log_enabled(int level)
{
	return level <= log_level;
}

static int id_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_' || ch == '.';
}

void log_set_request(const char *request_id)
{
	tl_journey[0] = 0;
	size_t n = 0;
	/* only ID characters: whatever reaches here can never break a line or a JSON string */
	while (request_id && n < LOG_ID_MAX && id_char((unsigned char)request_id[n])) {
		tl_request[n] = request_id[n];
		n++;
	}
	tl_request[n] = 0;
}

void log_set_journey(const char *journey_key)
{
	if (!journey_key || !*journey_key) {
		tl_journey[0] = 0;
		return;
	}
	/* a domain-separated hash of the key, shortened: 96 bits tell journeys apart, and the key
	 * (which pages put in URLs) cannot be recovered from it */
	char in[128];
	int n = snprintf(in, sizeof in, "idhub log journey id\n%s", journey_key);
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)in, n < (int)sizeof in ? (size_t)n : sizeof in - 1, d);
	b64url_encode(tl_journey, d, 12);
}

void log_set_journey_id(const char *journey_id)
{
	size_t n = 0;
	while (journey_id && n < sizeof tl_journey && id_char((unsigned char)journey_id[n]))
		n++;
	if (n == 0 || n >= sizeof tl_journey || journey_id[n])
		return;
	memcpy(tl_journey, journey_id, n + 1);
}

const char *log_request_id(void)
{
	return tl_request;
}

const char *log_journey_id(void)
{
	return tl_journey;
}

/* ---- the line ------------------------------------------------------------------------------ */

/* A line under construction. Every write is all-or-nothing within the buffer less LINE_RESERVE
 * bytes, which are kept for the closing quote, brace and newline: a long message is cut at a
 * character boundary and the line stays well-formed. */
enum { LINE_MAX = 8192, LINE_RESERVE = 8 };
typedef struct out {
	char b[LINE_MAX];
	size_t n;
} out;

static size_t room(const out *o)
{
	return sizeof o->b - LINE_RESERVE - o->n;
}

static void put(out *o, const char *s, size_t len)
{
	if (len > room(o))
		return;
	memcpy(o->b + o->n, s, len);
	o->n += len;
}

static void puts_(out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* The length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (n == 0 || s[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0; /* overlong, surrogate, or above U+10FFFF */
	return n;
}

/* A JSON string: quotes, backslashes and control characters escaped, invalid UTF-8 replaced, so
 * every line parses whatever a message carries. */
static void put_json_str(out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	if (room(o) < 2)
		return;
	o->b[o->n++] = '"';
	while (*p) {
		char esc[8];
		const char *w = esc;
		size_t n = utf8_len(p), len = n;
		if (n == 1 && (*p == '"' || *p == '\\')) {
			esc[0] = '\\';
			esc[1] = (char)*p;
			len = 2;
		} else if (n == 1 && *p < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			len = 6;
		} else if (n == 0) {
			w = "\\ufffd";
			n = 1;
			len = 6;
		} else {
			w = (const char *)p;
		}
		if (len + 1 > room(o))
			break; /* cut here: the closing quote below always fits (LINE_RESERVE) */
		put(o, w, len);
		p += n;
	}
	o->b[o->n++] = '"';
}

static const char *level_name(int level)
{
	static const char *const names[] = {"emerg",   "alert",  "crit", "error",
	                                    "warning", "notice", "info", "debug"};
	return level >= 0 && level <= 7 ? names[level] : "debug";
}

static void put_time(out *o)
{
	struct timespec ts;
	struct tm tm;
	char t[40];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(t + n, sizeof t - n, ".%03ldZ", ts.tv_nsec / 1000000);
	put_json_str(o, t);
}

static void put_member(out *o, const char *key, const char *str, long long num)
{
	char v[24];
	if (room(o) < strlen(key) + 32)
		return; /* no room left for this member: leave it out whole */
	put(o, ",", 1);
	put_json_str(o, key);
	put(o, ":", 1);
	if (str) {
		put_json_str(o, str);
	} else {
		snprintf(v, sizeof v, "%lld", num);
		puts_(o, v);
	}
}

static void line_json(out *o, int level, const char *msg, const log_field *f, int nf)
{
	puts_(o, "{\"time\":");
	put_time(o);
	put_member(o, "level", level_name(level), 0);
	put_member(o, "msg", msg, 0);
	if (tl_request[0])
		put_member(o, "request_id", tl_request, 0);
	if (tl_journey[0])
		put_member(o, "journey_id", tl_journey, 0);
	for (int i = 0; i < nf; i++)
		put_member(o, f[i].key, f[i].str, f[i].num);
	o->b[o->n++] = '}';
}

static void line_text(out *o, int level, const char *msg, const log_field *f, int nf)
{
	char v[32];
	snprintf(v, sizeof v, "<%d>", level);
	puts_(o, v);
	puts_(o, msg);
	for (int i = 0; i < nf; i++) {
		put(o, " ", 1);
		puts_(o, f[i].key);
		put(o, "=", 1);
		if (f[i].str) {
			puts_(o, f[i].str);
		} else {
			snprintf(v, sizeof v, "%lld", f[i].num);
			puts_(o, v);
		}
	}
	if (tl_request[0]) {
		puts_(o, " request_id=");
		puts_(o, tl_request);
	}
	if (tl_journey[0]) {
		puts_(o, " journey_id=");
		puts_(o, tl_journey);
	}
}

void log_fields(int level, const char *msg, const log_field *f, int n)
{
	if (level > log_level)
		return;
	out o;
	o.n = 0;
	if (log_format == LOG_JSON)
		line_json(&o, level, msg, f, n);
	else
		line_text(&o, level, msg, f, n);
	o.b[o.n++] = '\n';
	/* one write per line so lines from several threads do not interleave */
	fwrite(o.b, 1, o.n, stderr);
}

void log_msg(int level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	log_fields(level, line, NULL, 0);
}
