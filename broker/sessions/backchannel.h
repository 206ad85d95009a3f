/* backchannel.h — Back-Channel Logout 1.0 deliveries through a durable queue (NS_LOGOUT).
 *
 * When a session ends, each of its services that registered a backchannel_logout_uri gets one
 * queued delivery: key = the logout token's jti, value = {cid, uri, sub, sid, state, attempts,
 * next, created, last error}. A worker thread of the daemon POSTs logout_token (signed anew at
 * each attempt, so it is always fresh: exp is 2 minutes after iat) and retries a failure after
 * hub.backchannel_retry_base seconds, doubling (at most an hour), up to hub.backchannel_attempts
 * attempts. The outcome (delivered, or given up) is appended to the audit log, and the record
 * stays for 7 days with its state for `idhubctl logout-deliveries`. The queue is durable: a
 * restart (clean or not) resumes pending deliveries. */
#ifndef IDHUB_SESSIONS_BACKCHANNEL_H
#define IDHUB_SESSIONS_BACKCHANNEL_H
#include "../hub/hub.h"

#define BACKCHANNEL_KEEP (7 * 86400) /* finished deliveries stay listed this long */

typedef struct backchannel backchannel;

/* Queues a logout to svc for the session's sid and the service's sub, and wakes the worker.
 * 0 or a STORE_ error. */
int backchannel_enqueue(hub *h, const service_conf *svc, const char *sub, const char *sid);
/* Starts the delivery worker (the daemon only). NULL when the thread cannot start. */
backchannel *backchannel_start(hub *h);
/* Stops it (waiting for a delivery under way, bounded by its timeout). */
void backchannel_stop(backchannel *b);

#endif
