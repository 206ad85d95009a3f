/* ustate.h — the upstream request id (OIDC state, SAML RelayState, the wallet's rid): made by the
 * hub, it says of itself whether the hub made it and until when it is good, so that a callback
 * whose state the store no longer knows can be told apart without a store write: not ours
 * (tampered or made up), timed out, or spent (a finished login). The store stays the only
 * authority on whether a state may be used: this only chooses the wording of a refusal. */
#ifndef IDHUB_USTATE_H
#define IDHUB_USTATE_H
#include "../hub/hub.h"
#include <stdint.h>

/* Writes a new request id, good until expires (UNIX seconds), into out[44]: the base64url of 32
 * bytes, 43 characters, like random_token. 0, or -1 when the RNG or the MAC failed. */
int ustate_new(const hub *h, int64_t expires, char out[44]);
/* What an upstream state the store does not hold says of itself, as a journey's gone reason:
 * JOURNEY_GONE_INVALID when the hub did not make it (under its present seal secret),
 * JOURNEY_GONE_EXPIRED when its time ran out, else JOURNEY_GONE_FINISHED (spent). No store
 * access. */
int ustate_gone(const hub *h, const char *rid);
#endif
