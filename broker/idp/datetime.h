/* datetime.h — the adapter host's time parser (datetime.c), as idhub_services.parse_time. */
#ifndef IDHUB_IDP_DATETIME_H
#define IDHUB_IDP_DATETIME_H
#include <stdint.h>

/* An RFC 3339 date-time ("Z" or a +hh:mm offset, optional fraction) to UNIX seconds; -1 when
 * malformed or before 1970. */
int64_t idp_parse_time(const char *s);

#endif
