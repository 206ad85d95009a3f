/* provider.c — the OpenID Provider's part of the context (see provider.h). */
#include "provider.h"
#include "discovery.h"
#include "../clients/clients.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load_clients(hub *h, struct oidc_provider *p, char **err)
{
	p->clients = calloc(h->cfg->nservices ? h->cfg->nservices : 1, sizeof(*p->clients));
	if (!p->clients)
		return -1;
	p->nclients = h->cfg->nservices;
	for (size_t i = 0; i < h->cfg->nservices; i++) {
		const service_conf *s = &h->cfg->services[i];
		p->clients[i].conf = s;
		if (s->jwks_json) {
			p->clients[i].jwks = json_loads(s->jwks_json, JSON_REJECT_DUPLICATES, NULL);
			if (!json_is_object(p->clients[i].jwks)) {
				if (asprintf(err, "%s:%d: service '%s': jwks is not a JSON object",
				             h->cfg->file, s->line, s->client_id) < 0)
					*err = NULL;
				return -1;
			}
		}
	}
	return 0;
}

int oidc_provider_open(hub *h, char **err)
{
	*err = NULL;
	struct oidc_provider *p = calloc(1, sizeof *p);
	if (!p)
		return -1;
	h->oidc = p;
	if (asprintf(&p->token_endpoint, "%s/token", h->cfg->issuer) < 0) {
		p->token_endpoint = NULL;
		return -1;
	}
	if (asprintf(&p->userinfo_endpoint, "%s/userinfo", h->cfg->issuer) < 0) {
		p->userinfo_endpoint = NULL; /* token_endpoint is freed with p */
		return -1;
	}
	if (load_clients(h, p, err))
		return -1;
	p->discovery_json = oidc_discovery_json(h);
	return 0;
}

void oidc_provider_close(hub *h)
{
	struct oidc_provider *p = h->oidc;
	if (!p)
		return;
	for (size_t i = 0; i < p->nclients; i++)
		json_decref(p->clients[i].jwks);
	free(p->clients);
	free(p->token_endpoint);
	free(p->userinfo_endpoint);
	free(p->discovery_json);
	free(p);
	h->oidc = NULL;
}

const hub_client *hub_find_client(const hub *h, arena *a, const char *client_id)
{
	if (!client_id)
		return NULL;
	const struct oidc_provider *p = h->oidc;
	for (size_t i = 0; p && i < p->nclients; i++)
		if (strcmp(p->clients[i].conf->client_id, client_id) == 0)
			return &p->clients[i];
	const service_conf *sc = clients_lookup(h->cfg, h->st, a, client_id);
	if (!sc)
		return NULL;
	hub_client *c = arena_alloc(a, sizeof(*c));
	c->conf = sc;
	return c;
}
