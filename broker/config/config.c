/* config.c — owns loading the hub's config file (libconfig syntax) into a validated, immutable
 * hub_conf: reading the file, dispatching its sections to config_hub.c, config_idps.c and
 * config_services.c (helpers in config_check.c and config_uri.c), config_free and the lookups.
 * deploy/idhub.conf.example documents the format.
 */
#include "config_int.h"
#include "../util/b64url.h"
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- loading ------------------------------------------------------------------------------ */

enum { R_HUB, R_LOA, R_IDPS, R_SERVICES, R_BRANDING, R_COUNT };
static const char *const root_names[R_COUNT] = {"hub", "loa", "idps", "services", "branding"};

static int parse_root(loader *l, config_setting_t *root)
{
	config_setting_t *f[R_COUNT];
	int len = config_setting_length(root);
	for (int i = 0; i < len; i++) {
		config_setting_t *m = cfg_elem(root, (size_t)i);
		int k = 0;
		while (k < R_COUNT && strcmp(root_names[k], cfg_name_of(m)))
			k++;
		if (k == R_COUNT)
			return cfg_fail(l, m,
			                "unknown setting '%s' at the top level (hub, loa, idps, "
			                "services, branding)",
			                cfg_name_of(m));
	}
	if (cfg_collect(l, root, "the file", root_names, R_COUNT, f))
		return -1;
	/* loa first: idps and services refer to its levels */
	if (cfg_parse_hub(l, root, f[R_HUB]) || cfg_parse_loa(l, f[R_LOA]) ||
	    cfg_parse_idps(l, f[R_IDPS]) || cfg_parse_services(l, f[R_SERVICES]) ||
	    cfg_parse_branding(l, f[R_BRANDING]) || cfg_check_environment(l))
		return -1;
	return 0;
}

/* Reads the whole file (at most CONFIG_MAX_BYTES, no NUL bytes, a leading UTF-8 BOM dropped). */
static char *slurp(loader *l, const char *path)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	if (!fp) {
		cfg_fail_at(l, NULL, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) || !S_ISREG(st.st_mode)) {
		cfg_fail_at(l, NULL, 0, "not a regular file");
		goto out;
	}
	buf = malloc(CONFIG_MAX_BYTES + 1);
	if (!buf) {
		cfg_oom(l);
		goto out;
	}
	n = fread(buf, 1, CONFIG_MAX_BYTES + 1, fp);
	if (ferror(fp)) {
		cfg_fail_at(l, NULL, 0, "cannot read");
	} else if (n > CONFIG_MAX_BYTES) {
		cfg_fail_at(l, NULL, 0, "larger than %d bytes", CONFIG_MAX_BYTES);
	} else {
		buf[n] = 0;
		const char *z = memchr(buf, 0, n);
		if (z) {
			int line = 1;
			for (const char *p = buf; p < z; p++)
				line += *p == '\n';
			cfg_fail_at(l, NULL, line, "NUL byte in the file");
		} else if (n >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
			memmove(buf, buf + 3, n - 2);
		}
	}
out:
	fclose(fp);
	if (l->err) {
		free(buf);
		return NULL;
	}
	return buf;
}

hub_conf *config_load(const char *path, char **err)
{
	loader l = {.path = path ? path : "(null)"};
	config_t cfg;
	char *text = NULL;

	if (err)
		*err = NULL;
	config_init(&cfg);
	l.c = calloc(1, sizeof *l.c);
	if (!l.c || !path || cfg_dup_into(&l, path, &l.c->file)) {
		if (!path)
			cfg_fail_at(&l, NULL, 0, "no config file given");
		else if (!l.c)
			cfg_oom(&l);
	} else if ((text = slurp(&l, path))) {
		if (!config_read_string(&cfg, text))
			cfg_fail_at(&l, config_error_file(&cfg), config_error_line(&cfg), "%s",
			            config_error_text(&cfg));
		else
			parse_root(&l, config_root_setting(&cfg));
	}
	free(text);
	config_destroy(&cfg);
	if (l.err) {
		config_free(l.c);
		if (err)
			*err = l.err;
		else
			free(l.err);
		return NULL;
	}
	return l.c;
}

/* libconfig 1.5 leaks the text of a string token that a syntax error discards (its grammar has no
 * destructor), e.g. `issuer "x";` without '='. That is a few bytes once per failed load, but under
 * AddressSanitizer it would turn `idhub --check-config` of such a file into a leak report and exit
 * code 23. This hook, read by LeakSanitizer only, ignores leaks allocated inside libconfig (all
 * of this file's own memory is allocated outside it). It lives here because this file is what
 * pulls libconfig into a binary. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

/* ---- freeing and lookups ------------------------------------------------------------------ */

static void free_strv(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void config_free(hub_conf *c)
{
	if (!c)
		return;
	free(c->file);
	free(c->issuer);
	free(c->listen_host);
	free(c->state_dir);
	free(c->store);
	free(c->store_conninfo);
	free(c->adapter_dir);
	free(c->log_level);
	free(c->environment);
	free_strv(c->trusted_proxies, c->ntrusted_proxies);
	free(c->service_documentation);
	free(c->log_format);
	free(c->metrics_listen);
	free(c->metrics_host);
	free_strv(c->loa_acrs, c->nloas > 0 ? (size_t)c->nloas : 0);
	for (size_t i = 0; c->idps && i < c->nidps; i++) {
		idp_conf *p = &c->idps[i];
		free(p->id);
		free(p->adapter);
		free(p->display_name);
		free(p->description);
		free(p->display_name_cy);
		free(p->description_cy);
		for (size_t j = 0; p->settings && j < p->nsettings; j++) {
			free((char *)p->settings[j].name);
			free((char *)p->settings[j].value);
		}
		free(p->settings);
	}
	free(c->idps);
	for (size_t i = 0; c->services && i < c->nservices; i++) {
		service_conf *s = &c->services[i];
		free(s->client_id);
		free(s->name);
		free(s->jwks_json);
		free(s->jwks_uri);
		free_strv(s->redirect_uris, s->nredirect_uris);
		free(s->sector);
		free_strv(s->idps, s->nidps);
		free_strv(s->scopes, s->nscopes);
		free(s->backchannel_logout_uri);
		free_strv(s->post_logout_redirect_uris, s->npost_logout_redirect_uris);
	}
	free(c->services);
	cfg_free_branding(&c->branding);
	free(c);
}

const char *client_auth_method_name(client_auth_method m)
{
	switch (m) {
	case AUTH_CLIENT_SECRET_BASIC:
		return "client_secret_basic";
	case AUTH_CLIENT_SECRET_POST:
		return "client_secret_post";
	case AUTH_PRIVATE_KEY_JWT:
		return "private_key_jwt";
	default:
		return NULL;
	}
}

const service_conf *config_service(const hub_conf *c, const char *client_id)
{
	for (size_t i = 0; c && client_id && i < c->nservices; i++)
		if (c->services[i].client_id && !strcmp(c->services[i].client_id, client_id))
			return &c->services[i];
	return NULL;
}

const idp_conf *config_idp(const hub_conf *c, const char *id)
{
	for (size_t i = 0; c && id && i < c->nidps; i++)
		if (c->idps[i].id && !strcmp(c->idps[i].id, id))
			return &c->idps[i];
	return NULL;
}

int config_loa_level(const hub_conf *c, const char *acr)
{
	return c && acr ? cfg_level_of(c, acr) : 0;
}

const char *config_loa_acr(const hub_conf *c, int level)
{
	if (!c || level < 1 || level > c->nloas)
		return NULL;
	return c->loa_acrs[level - 1];
}

int service_allows_idp(const service_conf *svc, const char *idp_id)
{
	if (!svc || !idp_id)
		return 0;
	if (svc->nidps == 0)
		return 1;
	for (size_t i = 0; i < svc->nidps; i++)
		if (!strcmp(svc->idps[i], idp_id))
			return 1;
	return 0;
}

int service_allows_scope(const service_conf *svc, const char *scope)
{
	for (size_t i = 0; svc && scope && i < svc->nscopes; i++)
		if (!strcmp(svc->scopes[i], scope))
			return 1;
	return 0;
}

int config_scope_known(const char *v)
{
	static const char *const known[] = {"openid", "profile", "email", "address", "phone"};
	for (size_t i = 0; v && i < sizeof known / sizeof known[0]; i++)
		if (!strcmp(v, known[i]))
			return 1;
	return 0;
}

int service_is_confidential(const service_conf *svc)
{
	/* a client that proves itself at the token endpoint; a public client (none) cannot */
	return svc->auth_method == AUTH_CLIENT_SECRET_BASIC ||
	       svc->auth_method == AUTH_CLIENT_SECRET_POST ||
	       svc->auth_method == AUTH_PRIVATE_KEY_JWT;
}

const char *service_policy_error(const service_conf *svc)
{
	/* RFC 9700 §2.1.1: PKCE is what protects a public client's code from injection; only a
	 * client that authenticates at /token may do without it */
	if (!svc->require_pkce && !service_is_confidential(svc))
		return "require_pkce may be false only for a confidential client";
	return NULL;
}
