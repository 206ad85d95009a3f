/* abi1.c — a test adapter that claims ABI version 1 (the layout before the adapter host): the hub
 * must refuse to load it, naming the config line, rather than call into a struct it cannot read.
 * Built by `make unit-bins`; used by tests/integration/adapter-host.test.mjs. */
#include <idhub/adapter.h>
#include <stdlib.h>

static void *no_init(const idhub_adapter_config *cfg, const idhub_services *svc, idhub_error *err)
{
	(void)cfg;
	(void)svc;
	idhub_fail(err, IDHUB_ERR_INTERNAL, "must never be called");
	return NULL;
}

static const idhub_adapter old = {
    .abi_version = 1,
    .struct_size = sizeof(idhub_adapter),
    .name = "abi1",
    .state_param = "state",
    .init = no_init,
    .destroy = free,
};

const idhub_adapter *idhub_adapter_entry(void)
{
	return &old;
}
