/* datetime.h — the adapter host's time services (datetime.c), as idhub_services.parse_time
 * and .auth_fresh. */
#ifndef IDHUB_IDP_DATETIME_H
#define IDHUB_IDP_DATETIME_H
#include <idhub/adapter.h>
#include <stdint.h>

/* An RFC 3339 date-time ("Z" or a +hh:mm offset, optional fraction) to UNIX seconds; -1 when
 * malformed or before 1970. */
int64_t idp_parse_time(const char *s);
/* idhub_services.auth_fresh: 0, or IDHUB_FRESH_NO_TIME / _TOO_OLD / _BEFORE_LOGIN. */
int idp_auth_fresh(idhub_instance *in, const idhub_login_request *req, int64_t auth_time,
                   int64_t leeway);

#endif
