/* adapters.h — loading IdP adapters (dlopen of <adapter_dir>/idhub-adapter-<name>.so), checking
 * their ABI version, and creating one instance per configured IdP. */
#ifndef IDHUB_ADAPTERS_H
#define IDHUB_ADAPTERS_H
#include "../hub.h"

/* Loads every configured IdP into h->idps. Errors name the config file and line. 0 or -1. */
int adapters_load(hub *h, char **err);
void adapters_unload(hub *h);

#endif
