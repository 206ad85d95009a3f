/* source.c — the client's address: socket peer or trusted proxy's X-Forwarded-For (see source.h).
 */
#include "source.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int http_addr_parse(const char *s, http_addr *out)
{
	struct in_addr a4;
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, s, &a4) == 1) {
		memcpy(out->b, v4_mapped, 12);
		memcpy(out->b + 12, &a4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, s, out->b) == 1 ? 0 : -1;
}

int http_addr_from_sockaddr(const struct sockaddr *sa, http_addr *out)
{
	memset(out, 0, sizeof *out);
	if (!sa)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		memcpy(out->b, v4_mapped, 12);
		memcpy(out->b + 12, &s4->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		memcpy(out->b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

http_addr http_addr_source(const http_addr *a)
{
	http_addr s = *a;
	if (memcmp(a->b, v4_mapped, 12) != 0)
		memset(s.b + 8, 0, 8); /* IPv6: the /64 */
	return s;
}

void http_addr_text(const http_addr *a, char out[static HTTP_ADDR_TEXT])
{
	const char *ok = memcmp(a->b, v4_mapped, 12) == 0
	                     ? inet_ntop(AF_INET, a->b + 12, out, HTTP_ADDR_TEXT)
	                     : inet_ntop(AF_INET6, a->b, out, HTTP_ADDR_TEXT);
	if (!ok)
		snprintf(out, HTTP_ADDR_TEXT, "?");
}

int http_addr_eq(const http_addr *a, const http_addr *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

int http_addr_trusted(const http_addr *peer, const http_addr *proxies, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (http_addr_eq(peer, &proxies[i]))
			return 1;
	return 0;
}

int http_addr_forwarded(const char *xff, http_addr *out)
{
	if (!xff)
		return -1;
	const char *end = xff + strlen(xff);
	while (end > xff && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	const char *start = end;
	while (start > xff && start[-1] != ',')
		start--;
	while (start < end && (*start == ' ' || *start == '\t'))
		start++;
	char one[HTTP_ADDR_TEXT];
	size_t n = (size_t)(end - start);
	if (n == 0 || n >= sizeof one)
		return -1;
	memcpy(one, start, n);
	one[n] = 0;
	return http_addr_parse(one, out);
}
