/* config_uri.c — the URI rules of the config: the issuer, redirect URIs and other URLs (https, or
 * http only on a loopback host; no fragment, wildcard or userinfo). */
#include "config_int.h"
#include "../util/b64url.h"
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- URIs --------------------------------------------------------------------------------- */

static int cfg_why_set(char *why, size_t whylen, const char *msg)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", msg);
	return 0;
}

static int cfg_is_host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '-' || ch == '_' || ch == '~';
}

/* The shared URI rule of redirect URIs, the issuer and jwks_uri: absolute https, or http on a
 * loopback host; no fragment, wildcard, userinfo, whitespace, control or non-ASCII character,
 * backslash; a non-empty host; an optional port 1..65535. *port gets the effective port. */
int cfg_uri_check(const char *s, int *port, char *why, size_t whylen)
{
	size_t n = strlen(s);
	if (n == 0)
		return cfg_why_set(why, whylen, "empty");
	if (n > URI_MAX)
		return cfg_why_set(why, whylen, "longer than 2048 characters");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch >= 0x7f)
			return cfg_why_set(
			    why, whylen, "contains whitespace, a control or a non-ASCII character");
		if (ch == '\\')
			return cfg_why_set(why, whylen, "contains a backslash");
	}
	if (strchr(s, '#'))
		return cfg_why_set(why, whylen, "has a fragment ('#')");
	if (strchr(s, '*'))
		return cfg_why_set(why, whylen, "has a wildcard ('*')");
	int https;
	const char *p;
	if (!strncmp(s, "https://", 8)) {
		https = 1, p = s + 8;
	} else if (!strncmp(s, "http://", 7)) {
		https = 0, p = s + 7;
	} else {
		return cfg_why_set(why, whylen,
		                   strstr(s, "://") ? "scheme is not https"
		                                    : "not an absolute https URI");
	}
	size_t alen = strcspn(p, "/?");
	if (memchr(p, '@', alen))
		return cfg_why_set(why, whylen, "has userinfo ('@')");
	const char *host = p, *end = p + alen, *hend;
	if (*host == '[') {
		hend = memchr(host, ']', alen);
		if (!hend || hend == host + 1)
			return cfg_why_set(why, whylen, "bad IPv6 host");
		for (const char *q = host + 1; q < hend; q++)
			if (!strchr("0123456789abcdefABCDEF:.", *q))
				return cfg_why_set(why, whylen, "bad IPv6 host");
		hend++;
	} else {
		hend = host;
		while (hend < end && cfg_is_host_char(*hend))
			hend++;
		if (hend == host)
			return cfg_why_set(why, whylen, "empty host");
	}
	int pt = https ? 443 : 80;
	if (hend < end) {
		if (*hend != ':')
			return cfg_why_set(why, whylen, "bad character in host");
		const char *q = hend + 1;
		long v = 0;
		if (q == end || end - q > 5)
			return cfg_why_set(why, whylen, "bad port");
		for (; q < end; q++) {
			if (*q < '0' || *q > '9')
				return cfg_why_set(why, whylen, "bad port");
			v = v * 10 + (*q - '0');
		}
		if (v < 1 || v > 65535)
			return cfg_why_set(why, whylen, "bad port");
		pt = (int)v;
	}
	size_t hlen = (size_t)(hend - host);
	int loopback = (hlen == 9 && !memcmp(host, "127.0.0.1", 9)) ||
	               (hlen == 5 && !memcmp(host, "[::1]", 5)) ||
	               (hlen == 9 && !strncasecmp(host, "localhost", 9));
	if (!https && !loopback)
		return cfg_why_set(
		    why, whylen,
		    "http is allowed only on a loopback host (127.0.0.1, [::1], localhost)");
	if (port)
		*port = pt;
	return 1;
}

int config_redirect_uri_ok(const char *s, char *why, size_t whylen)
{
	if (!s)
		return cfg_why_set(why, whylen, "missing");
	return cfg_uri_check(s, NULL, why, whylen);
}

int cfg_issuer_loopback(const char *issuer)
{
	const char *p = strstr(issuer, "://");
	if (!p)
		return 0;
	p += 3;
	size_t n = strcspn(p, "/?");
	/* the host, without the port ("[::1]:8080" keeps its brackets) */
	const char *colon = *p == '[' ? memchr(p, ']', n) : memchr(p, ':', n);
	size_t hlen = colon ? (size_t)(colon - p) + (*p == '[') : n;
	return (hlen == 9 && !memcmp(p, "127.0.0.1", 9)) || (hlen == 5 && !memcmp(p, "[::1]", 5)) ||
	       (hlen == 9 && !strncasecmp(p, "localhost", 9));
}

int cfg_issuer_ok(const char *s, int *port, char *why, size_t whylen)
{
	if (!cfg_uri_check(s, port, why, whylen))
		return 0;
	if (strchr(s, '?'))
		return cfg_why_set(why, whylen, "has a query ('?')");
	if (s[strlen(s) - 1] == '/')
		return cfg_why_set(why, whylen, "ends with '/'");
	return 1;
}
