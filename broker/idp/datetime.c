/* datetime.c — the adapter host's time parser (include/idhub/adapter.h, parse_time): an RFC 3339
 * date-time, as SAML's xs:dateTime values and ISO 18013-5's tdate are written ("Z" or an offset,
 * optional fractional seconds), to UNIX seconds. Strict: anything else is malformed, and a
 * malformed time fails the check it was read for. */
#include "datetime.h"
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
