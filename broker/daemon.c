/* daemon.c — composing the daemon's shared context with its parts (see daemon.h). */
#include "daemon.h"
#include "http/csp.h"
#include "journey/journey.h"
#include "oidc/provider.h"
#include "pages/pages.h"
#include "sessions/backchannel.h"
#include "util/log.h"
#include <stdlib.h>
#include <string.h>

hub *daemon_open(hub_conf *cfg, char **err)
{
	/* from the config alone: the pages' branding and the CSP's form sources */
	csp_init(!cfg->secure_cookies);
	pages_init(cfg);
	hub *h = hub_open(cfg, err);
	if (!h)
		return NULL;
	if (journey_init_secret(h, err) || oidc_provider_open(h, err)) {
		if (!*err)
			*err = strdup("out of memory");
		hub_close(h);
		return NULL;
	}
	h->backchannel = backchannel_start(h);
	if (!h->backchannel)
		log_warn("logout: cannot start the back-channel worker; logouts stay queued");
	return h;
}

void daemon_close(hub *h)
{
	if (!h)
		return;
	backchannel_stop(h->backchannel);
	h->backchannel = NULL;
	oidc_provider_close(h);
	hub_close(h);
}
