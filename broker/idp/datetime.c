/* datetime.c — the adapter host's time parser (include/idhub/adapter.h, parse_time): an RFC 3339
 * date-time, as SAML's xs:dateTime values and ISO 18013-5's tdate are written ("Z" or an offset,
 * optional fractional seconds), to UNIX seconds. Strict: anything else is malformed, and a
 * malformed time fails the check it was read for. And auth_fresh: whether an upstream
 * authentication's time meets the service's max_age and prompt=login. */
#include "datetime.h"
#include "host_int.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t idp_parse_time(const char *s)
{
	if (!s)
		return -1;
	int y, mo, d, h, mi, se, n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 19)
		return -1;
	const char *p = s + n;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	long off = 0;
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om, m = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m) != 2 || m != 5 || oh > 14 || om > 59)
			return -1;
		off = (*p == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
		p += 6;
	} else {
		return -1; /* a time without a zone is malformed (SAML core §1.3.3: UTC) */
	}
	if (*p || y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 60)
		return -1;
	struct tm tm = {.tm_year = y - 1900,
	                .tm_mon = mo - 1,
	                .tm_mday = d,
	                .tm_hour = h,
	                .tm_min = mi,
	                .tm_sec = se};
	return (int64_t)timegm(&tm) - off;
}

int idp_auth_fresh(idhub_instance *in, const idhub_login_request *req, int64_t auth_time,
                   int64_t leeway)
{
	int64_t now = in->svc.now(in);
	/* max_age: the authentication (whose time is then required) no older than max_age */
	if (req->flags & IDHUB_LOGIN_MAX_AGE) {
		if (auth_time <= 0)
			return IDHUB_FRESH_NO_TIME;
		if (auth_time < now - req->max_age - leeway)
			return IDHUB_FRESH_TOO_OLD;
	}
	/* prompt=login / ForceAuthn: an authentication from before this login is a stale one */
	if ((req->flags & IDHUB_LOGIN_FORCE) && auth_time > 0 &&
	    auth_time < req->started_at - leeway)
		return IDHUB_FRESH_BEFORE_LOGIN;
	return 0;
}
