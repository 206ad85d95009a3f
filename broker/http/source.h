/* source.h — who a request comes from: the socket's peer, or, when that peer is a configured
 * trusted proxy (hub.trusted_proxies, e.g. the nginx front of deploy/nginx-idhub.conf), the
 * address that proxy appended to X-Forwarded-For. Addresses are kept as 16 bytes (IPv4 mapped
 * into IPv6); an IPv6 source is its /64, since one client holds a whole /64. */
#ifndef IDHUB_SOURCE_H
#define IDHUB_SOURCE_H
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

typedef struct http_addr {
	unsigned char b[16];
} http_addr;

enum { HTTP_ADDR_TEXT = 48 }; /* room for any address in text form, with its NUL */

/* Parses a numeric IPv4 or IPv6 address. 0, or -1 when s is not one. */
int http_addr_parse(const char *s, http_addr *out);
/* The address of a socket peer (AF_INET or AF_INET6). 0, or -1 for another family. */
int http_addr_from_sockaddr(const struct sockaddr *sa, http_addr *out);
/* The source a budget is counted for: the address itself, or an IPv6 address's /64. */
http_addr http_addr_source(const http_addr *a);
/* Writes a's text form into out (HTTP_ADDR_TEXT bytes). */
void http_addr_text(const http_addr *a, char out[static HTTP_ADDR_TEXT]);
int http_addr_eq(const http_addr *a, const http_addr *b);

/* Whether peer is one of the n trusted proxies. */
int http_addr_trusted(const http_addr *peer, const http_addr *proxies, size_t n);

/* The client's address behind a trusted proxy: the right-most entry of the X-Forwarded-For
 * value xff (the one the proxy appended; entries to its left were sent by the client and are
 * never believed). 0, or -1 when xff is missing or its last entry is not an address. */
int http_addr_forwarded(const char *xff, http_addr *out);

#endif
