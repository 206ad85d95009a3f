/* keypair.h — the adapter host's key-pair services (keypair.c), as idhub_services offers them to
 * adapters (dev_key_pair, key_pair_check, cert_der_b64 in include/idhub/adapter.h). */
#ifndef IDHUB_IDP_KEYPAIR_H
#define IDHUB_IDP_KEYPAIR_H
#include <idhub/adapter.h>

int idp_dev_key_pair(idhub_instance *in, const char *name, char **key_pem, char **cert_pem,
                     char *why, size_t whylen);
const char *idp_key_pair_check(const char *key_pem, const char *cert_pem);
char *idp_cert_der_b64(const char *pem);

#endif
