/* settings.c — owns the upstream OIDC adapter's configuration: reading and checking the settings
 * of one `idps` entry (see the list at the top of adapter.c), with an error naming the setting so
 * the hub can report FILE:LINE. */
#include "oidc_int.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const known[] = {
    "issuer",
    "client_id",
    "client_secret",
    "client_secret_file",
    "token_auth",
    "private_key_jwt_alg",
    "scopes",
    "acr_map",
    "unmapped_acr",
    "claim_map",
    "claims_parameter",
    "timeout",
    "clock_leeway",
    "max_token_age",
    "discovery_refresh",
    "jwks_min_refetch_interval",
    "allowed_algs",
};

/* The identity attributes the hub knows (broker/journey/complete.c releases these by scope). */
static const char *const hub_attrs[] = {"name",      "given_name", "family_name",   "middle_name",
                                        "birthdate", "email",      "email_verified"};

static int fail(idhub_error *err, const char *name, const char *msg)
{
	err->status = IDHUB_ERR_INTERNAL;
	snprintf(err->message, sizeof err->message, "%s: %s", name, msg);
	return -1;
}

static const char *get(const idhub_adapter_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsettings; i++)
		if (strcmp(cfg->settings[i].name, name) == 0)
			return cfg->settings[i].value;
	return NULL;
}

static int num(const idhub_adapter_config *cfg, const char *name, int64_t dflt, int64_t lo,
               int64_t hi, int64_t *out, idhub_error *err)
{
	const char *v = get(cfg, name);
	if (!v) {
		*out = dflt;
		return 0;
	}
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi) {
		char m[96];
		snprintf(m, sizeof m, "must be a whole number of seconds from %lld to %lld",
		         (long long)lo, (long long)hi);
		return fail(err, name, m);
	}
	*out = x;
	return 0;
}

static int boolean(const idhub_adapter_config *cfg, const char *name, int dflt, int *out,
                   idhub_error *err)
{
	const char *v = get(cfg, name);
	if (!v)
		*out = dflt;
	else if (strcmp(v, "true") == 0)
		*out = 1;
	else if (strcmp(v, "false") == 0)
		*out = 0;
	else
		return fail(err, name, "must be true or false");
	return 0;
}

/* A whitespace-separated list of "FROM=TO" pairs, split at the last '=' (upstream acr values are
 * URIs that may hold '='; hub level names and attribute names hold none). */
static int parse_map(const char *name, const char *v, oidc_map_entry *out, size_t *n,
                     idhub_error *err)
{
	*n = 0;
	const char *p = v;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *e = p;
		while (*e && !isspace((unsigned char)*e))
			e++;
		const char *eq = NULL;
		for (const char *q = p; q < e; q++)
			if (*q == '=')
				eq = q;
		if (!eq || eq == p || eq + 1 == e)
			return fail(err, name, "entries are FROM=TO, separated by spaces");
		if (*n == OIDC_MAX_MAP)
			return fail(err, name, "too many entries (at most 32)");
		out[*n].from = strndup(p, (size_t)(eq - p));
		out[*n].to = strndup(eq + 1, (size_t)(e - eq - 1));
		(*n)++;
		p = e;
	}
	return 0;
}

static char *read_secret_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char buf[1024];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	int big = !feof(f);
	fclose(f);
	if (big)
		return NULL;
	buf[n] = 0;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = 0;
	return n ? strdup(buf) : NULL;
}

int oidc_settings_load(oidc_ctx *c, const idhub_adapter_config *cfg, idhub_error *err)
{
	for (size_t i = 0; i < cfg->nsettings; i++) {
		size_t k = 0;
		while (k < sizeof known / sizeof known[0] &&
		       strcmp(known[k], cfg->settings[i].name))
			k++;
		if (k == sizeof known / sizeof known[0])
			return fail(err, cfg->settings[i].name,
			            "unknown setting for the oidc adapter");
	}
	const char *issuer = get(cfg, "issuer");
	if (!issuer)
		return fail(err, "issuer", "required (the upstream IdP's issuer URL)");
	if (!oidc_url_ok(issuer) || strchr(issuer, '?') || strchr(issuer, '#') ||
	    strlen(issuer) > 1024)
		return fail(err, "issuer",
		            "must be an https URL (http only on a loopback host), no query or "
		            "fragment");
	c->issuer = strdup(issuer);
	const char *cid = get(cfg, "client_id");
	if (!cid || !*cid || strlen(cid) > 255)
		return fail(err, "client_id", "required, at most 255 characters");
	c->client_id = strdup(cid);

	const char *ta = get(cfg, "token_auth");
	if (!ta || strcmp(ta, "client_secret_basic") == 0)
		c->token_auth = OIDC_AUTH_BASIC;
	else if (strcmp(ta, "private_key_jwt") == 0)
		c->token_auth = OIDC_AUTH_PRIVATE_KEY_JWT;
	else
		return fail(err, "token_auth", "must be client_secret_basic or private_key_jwt");
	const char *sec = get(cfg, "client_secret"), *secf = get(cfg, "client_secret_file");
	if (c->token_auth == OIDC_AUTH_BASIC) {
		if (!!sec == !!secf)
			return fail(err, sec ? "client_secret" : "token_auth",
			            "client_secret_basic needs exactly one of client_secret and "
			            "client_secret_file");
		if (sec && !*sec)
			return fail(err, "client_secret", "must not be empty");
		c->client_secret = sec ? strdup(sec) : read_secret_file(secf);
		if (!c->client_secret)
			return fail(err, "client_secret_file",
			            "cannot read a secret (1 to 1023 bytes) from that file");
	} else if (sec || secf) {
		return fail(err, sec ? "client_secret" : "client_secret_file",
		            "not used with private_key_jwt (the hub's signing key is)");
	}
	const char *pa = get(cfg, "private_key_jwt_alg");
	if (pa && strcmp(pa, "ES256") && strcmp(pa, "RS256") && strcmp(pa, "PS256") &&
	    strcmp(pa, "EdDSA"))
		return fail(err, "private_key_jwt_alg", "must be ES256, RS256, PS256 or EdDSA");
	c->pkjwt_alg = strdup(pa ? pa : "ES256");

	const char *sc = get(cfg, "scopes");
	c->scopes = strdup(sc ? sc : "openid profile email");
	int has_openid = 0;
	for (char *t = c->scopes; *t;) {
		size_t l = strcspn(t, " ");
		if (l == 6 && strncmp(t, "openid", 6) == 0)
			has_openid = 1;
		for (size_t i = 0; i < l; i++)
			if (t[i] < 0x21 || t[i] > 0x7e || t[i] == '"' || t[i] == '\\')
				return fail(err, "scopes", "scope tokens are printable ASCII");
		t += l;
		while (*t == ' ')
			t++;
	}
	if (!has_openid)
		return fail(err, "scopes", "must contain openid");

	c->nloas = cfg->nloas;
	const char *am = get(cfg, "acr_map");
	if (am && parse_map("acr_map", am, c->acr_map, &c->nacr, err))
		return -1;
	for (size_t i = 0; i < c->nacr; i++) {
		oidc_map_entry *m = &c->acr_map[i];
		for (int l = 0; l < cfg->nloas; l++)
			if (strcmp(cfg->loa_acrs[l], m->to) == 0)
				m->level = l + 1;
		if (!m->level && strlen(m->to) == 1 && m->to[0] >= '1' &&
		    m->to[0] <= '0' + cfg->nloas)
			m->level = m->to[0] - '0';
		if (!m->level)
			return fail(err, "acr_map",
			            "each entry is UPSTREAM_ACR=HUB_LEVEL, the level a name of the "
			            "loa list or its number");
	}
	const char *ua = get(cfg, "unmapped_acr");
	if (ua && strcmp(ua, "lowest") && strcmp(ua, "refuse"))
		return fail(err, "unmapped_acr", "must be lowest or refuse");
	c->unmapped_acr_refuse = ua && strcmp(ua, "refuse") == 0;

	const char *cm = get(cfg, "claim_map");
	if (parse_map("claim_map",
	              cm ? cm
	                 : "name=name given_name=given_name family_name=family_name "
	                   "middle_name=middle_name birthdate=birthdate email=email "
	                   "email_verified=email_verified",
	              c->claim_map, &c->nclaim, err))
		return -1;
	for (size_t i = 0; i < c->nclaim; i++) {
		size_t k = 0;
		while (k < sizeof hub_attrs / sizeof hub_attrs[0] &&
		       strcmp(hub_attrs[k], c->claim_map[i].to))
			k++;
		if (k == sizeof hub_attrs / sizeof hub_attrs[0])
			return fail(
			    err, "claim_map",
			    "each entry is UPSTREAM_CLAIM=HUB_ATTRIBUTE, the attribute one of "
			    "name given_name family_name middle_name birthdate email "
			    "email_verified");
		for (const char *q = c->claim_map[i].from; *q; q++)
			if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-' && *q != ':' &&
			    *q != '.' && *q != '/')
				return fail(err, "claim_map",
				            "upstream claim names are plain words");
	}
	if (boolean(cfg, "claims_parameter", 1, &c->claims_parameter, err))
		return -1;

	int64_t t;
	if (num(cfg, "timeout", 10, 1, 60, &t, err))
		return -1;
	c->timeout = (int)t;
	if (num(cfg, "clock_leeway", 30, 0, 300, &c->leeway, err) ||
	    num(cfg, "max_token_age", 600, 60, 3600, &c->max_age, err) ||
	    num(cfg, "discovery_refresh", 3600, 60, 7 * 86400, &c->discovery_refresh, err) ||
	    num(cfg, "jwks_min_refetch_interval", 60, 1, 3600, &c->jwks_min_refetch, err))
		return -1;

	const char *aa = get(cfg, "allowed_algs");
	if (!aa) {
		c->algs = OIDC_ALGS_DEFAULT;
	} else {
		char *copy = strdup(aa), *save = NULL;
		c->algs = 0;
		for (char *w = strtok_r(copy, " ,", &save); w; w = strtok_r(NULL, " ,", &save)) {
			unsigned b = oidc_alg_bit(w);
			if (!b) {
				free(copy);
				return fail(err, "allowed_algs",
				            "only RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 "
				            "ES512 (never none, never HMAC)");
			}
			c->algs |= b;
		}
		free(copy);
		if (!c->algs)
			return fail(err, "allowed_algs", "must name at least one algorithm");
	}
	return 0;
}

void oidc_settings_free(oidc_ctx *c)
{
	free(c->issuer);
	free(c->client_id);
	if (c->client_secret) {
		memset(c->client_secret, 0, strlen(c->client_secret));
		free(c->client_secret);
	}
	free(c->scopes);
	free(c->pkjwt_alg);
	for (size_t i = 0; i < c->nacr; i++) {
		free(c->acr_map[i].from);
		free(c->acr_map[i].to);
	}
	for (size_t i = 0; i < c->nclaim; i++) {
		free(c->claim_map[i].from);
		free(c->claim_map[i].to);
	}
}
