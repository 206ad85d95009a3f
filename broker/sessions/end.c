/* end.c — ending a hub session (see session.h session_end): the record goes first (from then on
 * no single sign-on, and the sign-out is what the citizen sees), then the online refresh tokens of
 * each of its services are revoked (refresh.h) and each service that registered a back-channel
 * logout URI gets a logout token through the durable queue (backchannel.h). */
#include "session.h"
#include "sessions_int.h"
#include "backchannel.h"
#include "refresh.h"
#include "../util/log.h"
#include <string.h>

int session_end(hub *h, arena *a, const char *key, const char *why)
{
	session s;
	/* taken, not read then deleted: a service a concurrent single sign-on added (session_save)
	 * is in what is taken, or that sign-on finds no session and gets no code */
	int rc = session_take(h, a, key, &s);
	if (rc)
		return rc; /* STORE_NOTFOUND: another request ended it (and fans out) */
	int failed = 0;
	for (size_t i = 0; i < s.nsvcs; i++) {
		const session_service *e = &s.svcs[i];
		const service_conf *svc = hub_service(h, a, e->client_id);
		if (refresh_revoke_sid(h, e->sid))
			failed++;
		if (svc && svc->backchannel_logout_uri &&
		    backchannel_enqueue(h, svc, e->sub, e->sid))
			failed++;
	}
	/* the revocations are durable before the answer */
	if (s.nsvcs && store_sync(h->st))
		failed++;
	if (failed)
		log_err("session: ended (%s), but %d revocation(s) or logout(s) could not be "
		        "recorded",
		        why, failed);
	else
		log_info("session: ended (%s), %zu service(s) signed out", why, s.nsvcs);
	return failed ? STORE_ERR : 0;
}
