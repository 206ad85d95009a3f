/* discovery.c — owns the upstream IdP's discovery document (OpenID Connect Discovery 1.0): the
 * checks that it names our configured issuer exactly and safe endpoints. The hub fetches
 * ISSUER/.well-known/openid-configuration, refreshes it every discovery_refresh seconds and keeps
 * the last good copy (adapter.c asks it to); this file is its parse/validate callback. */
#include "oidc_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void oidc_disco_free(oidc_disco *d)
{
	if (!d)
		return;
	free(d->issuer);
	free(d->authorization_endpoint);
	free(d->token_endpoint);
	free(d->jwks_uri);
	free(d->end_session_endpoint);
	free(d);
}

void oidc_disco_release(void *d)
{
	oidc_disco_free(d);
}

static char *endpoint(const idhub_services *svc, json_t *doc, const char *name, int https,
                      char *why, size_t wl)
{
	const char *v = json_string_value(json_object_get(doc, name));
	/* an https issuer never sends us to plain http (loopback http is for development only) */
	if (!v || svc->url_check(v, 0) || (https && strncmp(v, "https://", 8) != 0)) {
		snprintf(why, wl, "%s missing or not an https URL", name);
		return NULL;
	}
	return strdup(v);
}

oidc_disco *oidc_disco_parse(const idhub_services *svc, const char *text,
                             const char *expected_issuer, char *why, size_t whylen)
{
	json_t *doc = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	const char *iss = json_string_value(json_object_get(doc, "issuer"));
	oidc_disco *d = NULL;
	if (!json_is_object(doc))
		snprintf(why, whylen, "the discovery document is not a JSON object");
	/* OIDC Discovery §4.3: the document must name exactly the issuer we asked for; else an
	 * attacker-controlled document could make us trust another issuer's tokens. */
	else if (!iss || strcmp(iss, expected_issuer) != 0)
		snprintf(why, whylen, "the discovery document names another issuer");
	else if ((d = calloc(1, sizeof *d))) {
		int https = strncmp(iss, "https://", 8) == 0;
		d->issuer = strdup(iss);
		d->authorization_endpoint =
		    endpoint(svc, doc, "authorization_endpoint", https, why, whylen);
		d->token_endpoint = d->authorization_endpoint
		                        ? endpoint(svc, doc, "token_endpoint", https, why, whylen)
		                        : NULL;
		d->jwks_uri =
		    d->token_endpoint ? endpoint(svc, doc, "jwks_uri", https, why, whylen) : NULL;
		/* optional: without a usable one there is just no upstream logout */
		const char *es = json_string_value(json_object_get(doc, "end_session_endpoint"));
		char ignored[64];
		d->end_session_endpoint =
		    es ? endpoint(svc, doc, "end_session_endpoint", https, ignored, sizeof ignored)
		       : NULL;
		d->iss_param_supported = json_is_true(
		    json_object_get(doc, "authorization_response_iss_parameter_supported"));
		if (!d->issuer || !d->jwks_uri) {
			oidc_disco_free(d);
			d = NULL;
		}
	}
	json_decref(doc);
	return d;
}

void *oidc_disco_parse_doc(void *arg, const char *body, size_t len, char *why, size_t whylen)
{
	oidc_ctx *c = arg;
	(void)len;
	return oidc_disco_parse(c->svc, body, c->v[S_ISSUER].str, why, whylen);
}
