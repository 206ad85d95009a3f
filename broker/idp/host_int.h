/* host_int.h — private to the adapter host (broker/idp/): the instance record behind the opaque
 * idhub_instance of the ABI, and what the host's files (adapters.c, services.c, settings.c,
 * docs.c, jose.c) offer each other. Never included outside broker/idp/. */
#ifndef IDHUB_IDP_HOST_INT_H
#define IDHUB_IDP_HOST_INT_H
#include "adapters.h"
#include <pthread.h>

struct idhub_doc;

/* One configured IdP instance as the host keeps it; its services are bound to it. */
struct idhub_instance {
	idp_host *h;
	const char *id;
	const char *adapter_name;   /* for log lines: "<adapter> <id>: ..." */
	int checking;               /* --check-config: nothing is fetched */
	unsigned char seal_key[32]; /* services' seal/unseal, made at start */
	idhub_services svc;
	idhub_adapter_config cfg; /* what init got: valid until destroy */
	idhub_value *values;      /* parsed declared settings (settings.c) */
	size_t nvalues;
	char **strings; /* what values point to, freed with the instance */
	size_t nstrings;
	struct idhub_doc **docs; /* watched documents (docs.c) */
	size_t ndocs;
};

/* services.c: fills inst->svc for instance id of host h (and its seal key). 0 or -1. */
int services_bind(struct idhub_instance *inst, idp_host *h, const char *id);

/* settings.c: parses ic's settings against the declarations into inst->values. On a bad setting
 * returns -1 with *err "FILE:LINE: idp 'ID': NAME: what is wrong" (malloc'd). */
int settings_parse(struct idhub_instance *inst, const char *file, const idp_conf *ic,
                   const idhub_adapter *ops, char **err);
void settings_free(struct idhub_instance *inst);

/* docs.c: the document services, the refresh timer and teardown. */
idhub_doc *docs_watch(idhub_instance *inst, const idhub_doc_spec *spec);
void docs_set_url(idhub_doc *d, const char *url);
const void *docs_get(idhub_doc *d);
void docs_put(idhub_doc *d, const void *parsed);
int docs_refetch(idhub_doc *d);
/* The parsed JWKS of an IDHUB_DOC_JWKS document is a json_t (jansson). */
int docs_is_jwks(const idhub_doc *d);
/* Starts (or stops) the thread refreshing every instance's documents when they are due. */
int docs_timer_start(idp_host *h);
void docs_timer_stop(idp_host *h);
void docs_free_all(idhub_instance *inst);

/* jose.c: the ABI's jws_verify. */
int jose_verify(idhub_instance *inst, idhub_arena *a, const idhub_jws_check *chk, const char *token,
                const char **payload, const char **alg, char *why, size_t whylen);

#endif
