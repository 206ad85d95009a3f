/* saml_keys.c — the SP's signing/decryption keys and certificates: the configured PEM files
 * (checked to parse and to match), or the hub's development pair for this instance (made at first
 * start in the hub's private state directory and reused after: the dev_key_pair service). */
#include "saml_int.h"
#include <string.h>
#include <stdlib.h>

static int load_pair(saml_ctx *c, const idhub_adapter_config *cfg, int key, char **key_pem,
                     char **cert_pem, idhub_error *err)
{
	const char *cert_name = saml_settings[key + 1].name;
	if (!(*key_pem = saml_pem_file(c, cfg, key, err)) ||
	    !(*cert_pem = saml_pem_file(c, cfg, key + 1, err)))
		return -1;
	const char *type = c->svc->key_pair_check(*key_pem, *cert_pem);
	if (!type || strcmp(type, "RSA") != 0)
		return idhub_fail(err, IDHUB_ERR_INTERNAL,
		                  "%s: not an RSA private key matching the certificate in %s",
		                  saml_settings[key].name, cert_name);
	return 0;
}

int saml_keys_load(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err)
{
	if (!IDHUB_HAS_SERVICE(c->svc, cert_der_b64))
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "this hub has no key-pair services");
	if (cfg->values[S_SP_NEXT_KEY_FILE].set &&
	    load_pair(c, cfg, S_SP_NEXT_KEY_FILE, &c->sp_next_key_pem, &c->sp_next_cert_pem, err))
		return -1;
	if (cfg->values[S_SP_KEY_FILE].set)
		return load_pair(c, cfg, S_SP_KEY_FILE, &c->sp_key_pem, &c->sp_cert_pem, err);
	char why[200];
	if (c->svc->dev_key_pair(c->svc->inst, "sp", &c->sp_key_pem, &c->sp_cert_pem, why,
	                         sizeof why))
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "sp_key_file: %s", why);
	return 0;
}
