/* daemon.h — composes the daemon from its parts: the shared context (hub/hub.h), then what the
 * parts above it add at start (the pages' branding and CSP, the journey's seal key, the discovery
 * document, the back-channel logout worker). Kept at the top so that the shared context includes
 * nothing above it. */
#ifndef IDHUB_DAEMON_H
#define IDHUB_DAEMON_H
#include "hub/hub.h"

/* hub_open for cfg (which the hub then owns), then each part's start. NULL with a malloc'd message
 * in *err. */
hub *daemon_open(hub_conf *cfg, char **err);
/* Stops what daemon_open started, then hub_close. h may be NULL. */
void daemon_close(hub *h);

#endif
