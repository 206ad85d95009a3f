/* saml_server.c — the LassoServer of an instance: our SP description and keys plus the one trusted
 * IdP. Built once per (re)load of the IdP metadata and shared read-only by every request thread:
 * a request takes a GObject reference under the lock, so a refresh can swap in a new server (an IdP
 * certificate rollover) while logins on the old one finish. The refresh thread lives here too. */
#include "saml_int.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

LassoServer *saml_server_new(saml_ctx *c, const char *idp_metadata, char **entity_id,
                             idhub_error *err)
{
	(void)entity_id;
	LassoServer *s = lasso_server_new_from_buffers(c->sp_metadata, c->sp_key_pem, NULL, NULL);
	if (!s) {
		saml_set_err(err, IDHUB_ERR_INTERNAL,
		             "sp_key_file: lasso refused our SP key/metadata");
		return NULL;
	}
	/* AuthnRequests are signed with RSA-SHA256, never lasso's historical RSA-SHA1 default. */
	s->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
	if (lasso_server_set_encryption_private_key_with_password(s, c->sp_key_pem, NULL) != 0 ||
	    (c->sp_next_key_pem &&
	     lasso_server_set_encryption_private_key_with_password(s, c->sp_next_key_pem, NULL))) {
		g_object_unref(s);
		saml_set_err(err, IDHUB_ERR_INTERNAL,
		             "sp_key_file: lasso refused the decryption key");
		return NULL;
	}
	int rc = lasso_server_add_provider_from_buffer(s, LASSO_PROVIDER_ROLE_IDP, idp_metadata,
	                                               NULL, NULL);
	if (rc != 0) {
		g_object_unref(s);
		saml_set_err(err, IDHUB_ERR_UNAVAILABLE,
		             "the IdP metadata was refused by lasso: %s", lasso_strerror(rc));
		return NULL;
	}
	return s;
}

LassoServer *saml_server_get(saml_ctx *c, char **entity_id)
{
	pthread_mutex_lock(&c->lock);
	LassoServer *s = c->server ? g_object_ref(c->server) : NULL;
	*entity_id = s && c->idp_entity_id ? strdup(c->idp_entity_id) : NULL;
	pthread_mutex_unlock(&c->lock);
	if (s && !*entity_id) {
		g_object_unref(s);
		s = NULL;
	}
	return s;
}

void saml_server_swap(saml_ctx *c, LassoServer *s, char *entity_id, char *digest)
{
	pthread_mutex_lock(&c->lock);
	LassoServer *old = c->server;
	char *old_id = c->idp_entity_id, *old_digest = c->metadata_digest;
	c->server = s;
	c->idp_entity_id = entity_id;
	c->metadata_digest = digest;
	pthread_mutex_unlock(&c->lock);
	if (old)
		g_object_unref(old); /* freed when the last request holding it lets go */
	free(old_id);
	free(old_digest);
}

static void *refresher(void *arg)
{
	saml_ctx *c = arg;
	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += c->metadata_refresh;
		int rc = 0;
		while (!c->stopping && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&c->wake, &c->lock, &until);
		if (c->stopping)
			break;
		pthread_mutex_unlock(&c->lock);
		idhub_error err = {0};
		if (saml_idp_metadata_load(c, 0, &err))
			c->svc->log(c->svc->inst, 4,
			            "metadata refresh failed, keeping the last good copy: %s",
			            err.message);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int saml_refresher_start(saml_ctx *c)
{
	if (pthread_create(&c->refresher, NULL, refresher, c))
		return -1;
	c->refresher_running = 1;
	return 0;
}

void saml_refresher_stop(saml_ctx *c)
{
	if (!c->refresher_running)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = 1;
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->refresher, NULL);
	c->refresher_running = 0;
}
