/* saml_adapter.c — the SAML 2.0 upstream IdP adapter's entry point and lifecycle: the hub acts as a
 * SAML Service Provider (Web Browser SSO profile) on lasso. This file owns init (lasso_init once,
 * settings, keys, SP metadata, IdP metadata), the metadata hook and destroy.
 *
 * Settings: declared in saml_settings.c (the hub parses and type-checks them), each documented
 * in deploy/idhub.conf.example. Signatures: lasso verifies with verification forced, which requires
 * the Response and every assertion in it to be signed by the IdP's metadata key; there is no
 * setting to relax that.
 */
#include "saml_int.h"
#include <stdio.h>
#include <stdlib.h>

/* lasso_init initialises libxml2, xmlsec and OpenSSL for xmlsec: once per process, and before any
 * thread starts (the hub calls init before it starts its threads). */
static int lasso_ready, live_instances;

/* lasso logs through GLib; route its messages to the hub's log at debug level, so that a forged
 * response does not fill the log with lasso's warnings (the adapter logs its own refusal). */
static const idhub_services *log_svc;
static void lasso_log(const gchar *domain G_GNUC_UNUSED, GLogLevelFlags level, const gchar *msg,
                      gpointer data G_GNUC_UNUSED)
{
	if (log_svc)
		log_svc->log(log_svc->inst, (level & G_LOG_LEVEL_CRITICAL) ? 4 : 7, "lasso: %s",
		             msg);
}

static void ctx_free(saml_ctx *c)
{
	free(c->metadata_url);
	free(c->sp_key_pem);
	free(c->sp_cert_pem);
	free(c->sp_next_key_pem);
	free(c->sp_next_cert_pem);
	free(c->sp_metadata);
	free(c->metadata_signing_cert_pem);
	for (int i = 0; i < SAML_MAX_ATTRS; i++)
		free(c->map_copy[i]);
	free(c);
}

static void *saml_init(const idhub_adapter_config *cfg, const idhub_services *svc, idhub_error *err)
{
	/* The newest services this adapter uses (revision 6) were appended to ABI 2. */
	if (!IDHUB_HAS_SERVICE(svc, attrs_from_pairs)) {
		idhub_fail(err, IDHUB_ERR_INTERNAL, "this hub is older than the SAML adapter");
		return NULL;
	}
	if (!lasso_ready && !cfg->checking) {
		if (lasso_init() != 0) {
			idhub_fail(err, IDHUB_ERR_INTERNAL, "lasso_init failed");
			return NULL;
		}
		lasso_ready = 1;
		log_svc = svc;
		lasso_log_set_handler(G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
		                      lasso_log, NULL);
	}
	saml_ctx *c = calloc(1, sizeof(*c));
	if (!c || asprintf(&c->metadata_url, "%s/idp/%s/metadata", cfg->hub_base_url,
	                   cfg->instance_id) < 0) {
		free(c);
		idhub_fail(err, IDHUB_ERR_INTERNAL, "out of memory");
		return NULL;
	}
	c->svc = svc;
	c->set = cfg->values;
	c->callback_url = cfg->callback_url;
	c->checking = cfg->checking;
	int rc = saml_settings_parse(c, cfg, err);
	/* Under --check-config: the settings only (no lasso, no key pair made, no metadata). */
	if (!rc && !c->checking)
		rc = saml_sp_load(c, cfg, err) || saml_idp_metadata_load(c, err);
	if (rc) {
		ctx_free(c);
		return NULL;
	}
	if (!c->checking)
		live_instances++;
	return c;
}

static int saml_metadata(void *ctx, idhub_arena *a, const char **content_type, const char **body)
{
	saml_ctx *c = ctx;
	*content_type = "application/samlmetadata+xml";
	*body = c->svc->strdup(a, c->sp_metadata);
	return *body ? 0 : -1;
}

static void saml_destroy(void *ctx)
{
	int checking = ((saml_ctx *)ctx)->checking;
	ctx_free(ctx);
	if (checking)
		return;
	/* The hub destroys instances after its threads stopped: the last one shuts lasso down,
	 * which frees xmlsec's and OpenSSL's global state (else LeakSanitizer reports it at exit).
	 */
	if (--live_instances == 0 && lasso_ready) {
		lasso_shutdown();
		lasso_ready = 0;
	}
}

static const idhub_adapter saml_adapter = {
    IDHUB_ADAPTER_HEAD("saml", "RelayState"),
    .settings = saml_settings,
    .nsettings = S_COUNT,
    .init = saml_init,
    .start = saml_start,
    .finish = saml_finish,
    .metadata = saml_metadata,
    .serve = saml_serve,
    .destroy = saml_destroy,
    .flags = IDHUB_ADAPTER_NETWORK,
    .logout = saml_logout,
};

const idhub_adapter *idhub_adapter_entry(void)
{
	return &saml_adapter;
}
