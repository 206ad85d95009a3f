/* services.h — the idhub_services table the hub hands to IdP adapters (see
 * include/idhub/adapter.h), and the liboauth2 logger behind its HTTP client. */
#ifndef IDHUB_SERVICES_H
#define IDHUB_SERVICES_H
#include "../hub.h"

/* Fills h->services and initialises liboauth2 (h->oauth2_log). Returns 0 or -1. */
int services_init(hub *h);
void services_shutdown(hub *h);

#endif
