/* adapters.h — loading IdP adapters (dlopen of <adapter_dir>/idhub-adapter-<name>.so), checking
 * their ABI version, and creating one instance per configured IdP. */
#ifndef IDHUB_ADAPTERS_H
#define IDHUB_ADAPTERS_H
#include "../hub.h"

/* Loads every configured IdP into h->idps. Errors name the config file and line. 0 or -1. */
int adapters_load(hub *h, char **err);
void adapters_unload(hub *h);

/* The concurrency gate of each IdP: at most idp.max_concurrent calls to one IdP wait on the
 * upstream pool at once, so a slow IdP cannot take every thread of the pool from the others.
 * Thread-safe. adapters_gate_enter: 0 when the call may run (then adapters_gate_leave after it),
 * -1 when the IdP is saturated (the refusal is counted in a rate-limited log line). */
int adapters_gate_enter(const hub_idp *idp, int64_t now);
void adapters_gate_leave(const hub_idp *idp);

#endif
