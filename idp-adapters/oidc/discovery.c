/* discovery.c — owns the upstream IdP's discovery document (OpenID Connect Discovery 1.0): fetching
 * ISSUER/.well-known/openid-configuration through the hub's HTTP client, checking that it names our
 * configured issuer exactly and safe endpoints, refreshing it every discovery_refresh seconds, and
 * keeping a last-known-good copy (in memory and in the hub's store cache) for when the IdP is
 * briefly down. */
#include "oidc_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int oidc_url_ok(const char *u)
{
	if (!u)
		return 0;
	if (strncmp(u, "https://", 8) == 0)
		return u[8] != 0 && u[8] != '/';
	static const char *const loop[] = {"http://127.0.0.1", "http://[::1]", "http://localhost"};
	for (size_t i = 0; i < sizeof loop / sizeof loop[0]; i++) {
		size_t n = strlen(loop[i]);
		if (strncmp(u, loop[i], n) == 0 && (u[n] == 0 || u[n] == ':' || u[n] == '/'))
			return 1;
	}
	return 0;
}

void oidc_disco_free(oidc_disco *d)
{
	if (!d)
		return;
	free(d->issuer);
	free(d->authorization_endpoint);
	free(d->token_endpoint);
	free(d->jwks_uri);
	free(d);
}

static char *endpoint(json_t *doc, const char *name, int https, char *why, size_t wl)
{
	const char *v = json_string_value(json_object_get(doc, name));
	/* an https issuer never sends us to plain http (loopback http is for development only) */
	if (!oidc_url_ok(v) || (https && strncmp(v, "https://", 8) != 0) || strlen(v) > 2048 ||
	    strchr(v, '#')) {
		snprintf(why, wl, "%s missing or not an https URL", name);
		return NULL;
	}
	return strdup(v);
}

oidc_disco *oidc_disco_parse(const char *text, const char *expected_issuer, char *why,
                             size_t whylen)
{
	json_t *doc = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (!json_is_object(doc)) {
		snprintf(why, whylen, "the discovery document is not a JSON object");
		json_decref(doc);
		return NULL;
	}
	const char *iss = json_string_value(json_object_get(doc, "issuer"));
	/* OIDC Discovery §4.3: the document must name exactly the issuer we asked for; else an
	 * attacker-controlled document could make us trust another issuer's tokens. */
	if (!iss || strcmp(iss, expected_issuer) != 0) {
		snprintf(why, whylen, "the discovery document names another issuer");
		json_decref(doc);
		return NULL;
	}
	oidc_disco *d = calloc(1, sizeof *d);
	if (!d) {
		json_decref(doc);
		return NULL;
	}
	d->refs = 1;
	d->issuer = strdup(iss);
	int https = strncmp(iss, "https://", 8) == 0;
	d->authorization_endpoint = endpoint(doc, "authorization_endpoint", https, why, whylen);
	d->token_endpoint =
	    d->authorization_endpoint ? endpoint(doc, "token_endpoint", https, why, whylen) : NULL;
	d->jwks_uri = d->token_endpoint ? endpoint(doc, "jwks_uri", https, why, whylen) : NULL;
	d->iss_param_supported =
	    json_is_true(json_object_get(doc, "authorization_response_iss_parameter_supported"));
	json_decref(doc);
	if (!d->issuer || !d->jwks_uri) {
		oidc_disco_free(d);
		return NULL;
	}
	return d;
}

static oidc_disco *fetch(oidc_ctx *c, char **text)
{
	size_t n = strlen(c->issuer) + 40;
	char *url = malloc(n);
	*text = NULL;
	if (!url)
		return NULL;
	/* OIDC Discovery §4.1: the issuer with any trailing slash removed, then the well-known path
	 */
	size_t il = strlen(c->issuer);
	snprintf(url, n, "%.*s/.well-known/openid-configuration",
	         (int)(il && c->issuer[il - 1] == '/' ? il - 1 : il), c->issuer);
	int status = 0;
	char *body = NULL;
	char why[128] = "";
	int rc = c->svc->http(c->svc->hub, url, NULL, 0, NULL, NULL, c->timeout, &status, &body);
	free(url);
	if (rc) {
		c->svc->log(c->svc->hub, 4, "oidc %s: discovery failed (unreachable or timed out)",
		            c->instance_id);
		return NULL;
	}
	oidc_disco *d = NULL;
	if (status != 200 || !body || strlen(body) > OIDC_MAX_DOC)
		snprintf(why, sizeof why, "HTTP status %d", status);
	else
		d = oidc_disco_parse(body, c->issuer, why, sizeof why);
	if (!d) {
		c->svc->log(c->svc->hub, 4, "oidc %s: discovery refused: %s", c->instance_id, why);
		free(body);
		return NULL;
	}
	*text = body;
	return d;
}

void oidc_disco_put(oidc_ctx *c, oidc_disco *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&c->mu);
	int last = --d->refs == 0;
	pthread_mutex_unlock(&c->mu);
	if (last)
		oidc_disco_free(d);
}

oidc_disco *oidc_disco_get(oidc_ctx *c)
{
	int64_t now = c->svc->now(c->svc->hub);
	pthread_mutex_lock(&c->mu);
	int due = !c->disco || now - c->disco_fetched >= c->discovery_refresh;
	/* One refresh at a time, and a failing IdP is asked again only after the refetch interval:
	 * meanwhile everyone uses the copy they have. */
	int go = due && !c->disco_busy &&
	         (!c->disco_attempt || now - c->disco_attempt >= c->jwks_min_refetch);
	if (!go) {
		oidc_disco *d = c->disco;
		if (d)
			d->refs++;
		pthread_mutex_unlock(&c->mu);
		return d;
	}
	c->disco_busy = 1;
	c->disco_attempt = now;
	int had = c->disco != NULL;
	pthread_mutex_unlock(&c->mu);

	char *text = NULL;
	int lkg_used = 0;
	oidc_disco *d = fetch(c, &text);
	if (d) {
		c->svc->cache_put(c->svc->hub, c->instance_id, "discovery", text, OIDC_LKG_TTL);
	} else if (!had) {
		char *lkg = c->svc->cache_get(c->svc->hub, c->instance_id, "discovery");
		char why[128];
		d = lkg ? oidc_disco_parse(lkg, c->issuer, why, sizeof why) : NULL;
		free(lkg);
		if (d) {
			lkg_used = 1;
			c->svc->log(c->svc->hub, 4, "oidc %s: using the last-known-good discovery",
			            c->instance_id);
		}
	}
	free(text);

	pthread_mutex_lock(&c->mu);
	if (d) {
		oidc_disco *old = c->disco;
		c->disco = d;
		/* a stored copy is used, not trusted as fresh: the IdP is asked again soon */
		c->disco_fetched = lkg_used ? 0 : now;
		/* a moved jwks_uri means the keys must be fetched from the new place */
		if (old && strcmp(old->jwks_uri, d->jwks_uri) != 0)
			c->keys_fetched = 0;
		if (old && --old->refs == 0)
			oidc_disco_free(old);
	}
	c->disco_busy = 0;
	oidc_disco *out = c->disco;
	if (out)
		out->refs++;
	pthread_mutex_unlock(&c->mu);
	return out;
}
