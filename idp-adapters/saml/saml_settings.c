/* saml_settings.c — the SAML adapter's settings (documented in saml_adapter.c): parsing, defaults
 * and the checks that make a bad setting fail at start with "<setting>: what is wrong". */
#include "saml_int.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const known[] = {
    "idp_metadata_file", "idp_metadata_url",  "idp_entity_id",  "metadata_signing_cert",
    "metadata_refresh",  "sp_entity_id",      "sp_key_file",    "sp_cert_file",
    "sp_next_key_file",  "sp_next_cert_file", "authn_contexts", "authn_context_comparison",
    "attribute_map",     "subject_attribute", "name_id_format", "allow_sha1",
    "sign_requests",     "force_authn",       "clock_leeway",   "max_response_size"};

static const char *default_attribute_map =
    "given_name=urn:oid:2.5.4.42,givenName,http://eidas.europa.eu/attributes/naturalperson/"
    "CurrentGivenName,FirstName "
    "family_name=urn:oid:2.5.4.4,sn,surname,http://eidas.europa.eu/attributes/naturalperson/"
    "CurrentFamilyName,LastName "
    "email=urn:oid:0.9.2342.19200300.100.1.3,mail,email "
    "birthdate=http://eidas.europa.eu/attributes/naturalperson/DateOfBirth,DateOfBirth,"
    "birthdate";

char *saml_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = malloc(max + 1);
	size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
	fclose(f);
	if (!buf || n > max || n == 0) {
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

static const char *get(const idhub_adapter_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nsettings; i++)
		if (strcmp(cfg->settings[i].name, name) == 0)
			return cfg->settings[i].value;
	return NULL;
}

static int boolean(const idhub_adapter_config *cfg, const char *name, int def, int *out,
                   idhub_error *err)
{
	const char *v = get(cfg, name);
	if (!v) {
		*out = def;
		return 0;
	}
	if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
		*out = v[0] == 't';
		return 0;
	}
	saml_set_err(err, IDHUB_ERR_INTERNAL, "%s: must be true or false", name);
	return -1;
}

static int number(const idhub_adapter_config *cfg, const char *name, long def, long lo, long hi,
                  long *out, idhub_error *err)
{
	const char *v = get(cfg, name);
	if (!v) {
		*out = def;
		return 0;
	}
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi) {
		saml_set_err(err, IDHUB_ERR_INTERNAL, "%s: must be a whole number from %ld to %ld",
		             name, lo, hi);
		return -1;
	}
	*out = n;
	return 0;
}

static int url_ok(const char *u)
{
	if (strncmp(u, "https://", 8) == 0)
		return u[8] != 0;
	/* http only towards this machine (tests, a local metadata mirror) */
	return strncmp(u, "http://127.0.0.1", 16) == 0 || strncmp(u, "http://localhost", 16) == 0 ||
	       strncmp(u, "http://[::1]", 12) == 0;
}

static int uri_ok(const char *s)
{
	if (!*s || strlen(s) > 1024)
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '&')
			return 0;
	return 1;
}

static char *pem_file(const idhub_adapter_config *cfg, const char *name, idhub_error *err)
{
	const char *path = get(cfg, name);
	if (!path)
		return NULL;
	char *pem = saml_read_file(path, 65536, NULL);
	if (!pem)
		saml_set_err(err, IDHUB_ERR_INTERNAL, "%s: cannot read %s", name, path);
	return pem;
}

static int parse_contexts(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err)
{
	const char *v = get(cfg, "authn_contexts");
	c->nloas = cfg->nloas < SAML_MAX_LOAS ? cfg->nloas : SAML_MAX_LOAS;
	if (!v) {
		for (int i = 0; i < c->nloas; i++)
			c->authn_contexts[i] = strdup(cfg->loa_acrs[i]);
		return 0;
	}
	char *copy = strdup(v), *save = NULL;
	int n = 0;
	for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
		if (n >= c->nloas || (strcmp(t, "-") != 0 && !uri_ok(t))) {
			free(copy);
			saml_set_err(err, IDHUB_ERR_INTERNAL,
			             "authn_contexts: one context URI (or -) per level, %d levels",
			             c->nloas);
			return -1;
		}
		c->authn_contexts[n++] = strcmp(t, "-") == 0 ? NULL : strdup(t);
	}
	free(copy);
	if (n != c->nloas) {
		saml_set_err(
		    err, IDHUB_ERR_INTERNAL,
		    "authn_contexts: one context URI (or -) per level: %d given, %d levels", n,
		    c->nloas);
		return -1;
	}
	return 0;
}

static int parse_attribute_map(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err)
{
	const char *v = get(cfg, "attribute_map");
	char *copy = strdup(v ? v : default_attribute_map), *save = NULL;
	for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
		char *eq = strchr(t, '=');
		if (!eq || eq == t || !eq[1] || c->nattrs >= SAML_MAX_ATTRS) {
			free(copy);
			saml_set_err(err, IDHUB_ERR_INTERNAL,
			             "attribute_map: claim=Name[,Name...] entries separated by "
			             "spaces, at most %d",
			             SAML_MAX_ATTRS);
			return -1;
		}
		*eq = 0;
		saml_attr_map *m = &c->attrs[c->nattrs++];
		m->claim = strdup(t);
		char *s2 = NULL;
		for (char *n = strtok_r(eq + 1, ",", &s2); n && m->nnames < 6;
		     n = strtok_r(NULL, ",", &s2))
			m->names[m->nnames++] = strdup(n);
	}
	free(copy);
	return 0;
}

int saml_settings_parse(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err)
{
	for (size_t i = 0; i < cfg->nsettings; i++) {
		size_t k = 0;
		while (k < sizeof known / sizeof known[0] &&
		       strcmp(known[k], cfg->settings[i].name))
			k++;
		if (k == sizeof known / sizeof known[0]) {
			saml_set_err(err, IDHUB_ERR_INTERNAL,
			             "%s: unknown setting for the saml adapter",
			             cfg->settings[i].name);
			return -1;
		}
	}
	const char *file = get(cfg, "idp_metadata_file"), *url = get(cfg, "idp_metadata_url");
	if (!file == !url) {
		saml_set_err(
		    err, IDHUB_ERR_INTERNAL,
		    "%s: exactly one of idp_metadata_file and idp_metadata_url is required",
		    file  ? "idp_metadata_file"
		    : url ? "idp_metadata_url"
		          : "settings");
		return -1;
	}
	if (url && !url_ok(url)) {
		saml_set_err(err, IDHUB_ERR_INTERNAL,
		             "idp_metadata_url: must be https (http only on a loopback host)");
		return -1;
	}
	c->idp_metadata_file = file ? strdup(file) : NULL;
	c->idp_metadata_url = url ? strdup(url) : NULL;
	const char *eid = get(cfg, "idp_entity_id");
	if (eid && !uri_ok(eid)) {
		saml_set_err(err, IDHUB_ERR_INTERNAL, "idp_entity_id: not a valid entity ID");
		return -1;
	}
	c->idp_entity_id_setting = eid ? strdup(eid) : NULL;
	if (get(cfg, "metadata_signing_cert") &&
	    !(c->metadata_signing_cert_pem = pem_file(cfg, "metadata_signing_cert", err)))
		return -1;
	const char *sp = get(cfg, "sp_entity_id");
	if (sp && !uri_ok(sp)) {
		saml_set_err(err, IDHUB_ERR_INTERNAL, "sp_entity_id: not a valid entity ID");
		return -1;
	}
	c->sp_entity_id = strdup(sp ? sp : c->metadata_url);
	const char *cmp = get(cfg, "authn_context_comparison");
	if (cmp && strcmp(cmp, "minimum") != 0 && strcmp(cmp, "exact") != 0) {
		saml_set_err(err, IDHUB_ERR_INTERNAL,
		             "authn_context_comparison: must be minimum or exact");
		return -1;
	}
	c->comparison = strdup(cmp ? cmp : "minimum");
	const char *nif = get(cfg, "name_id_format");
	if (nif && !uri_ok(nif)) {
		saml_set_err(err, IDHUB_ERR_INTERNAL, "name_id_format: not a URI");
		return -1;
	}
	c->name_id_format = strdup(nif ? nif : LASSO_SAML2_NAME_IDENTIFIER_FORMAT_PERSISTENT);
	const char *sa = get(cfg, "subject_attribute");
	c->subject_attribute = sa && *sa ? strdup(sa) : NULL;
	if (boolean(cfg, "allow_sha1", 0, &c->allow_sha1, err) ||
	    boolean(cfg, "sign_requests", 1, &c->sign_requests, err) ||
	    boolean(cfg, "force_authn", 0, &c->force_authn, err) ||
	    number(cfg, "metadata_refresh", 3600, 60, 86400, &c->metadata_refresh, err) ||
	    number(cfg, "clock_leeway", 60, 0, 300, &c->leeway, err) ||
	    number(cfg, "max_response_size", 262144, 4096, 524288, &c->max_response, err))
		return -1;
	if ((get(cfg, "sp_key_file") == NULL) != (get(cfg, "sp_cert_file") == NULL)) {
		saml_set_err(err, IDHUB_ERR_INTERNAL,
		             "%s: sp_key_file and sp_cert_file go together",
		             get(cfg, "sp_key_file") ? "sp_key_file" : "sp_cert_file");
		return -1;
	}
	if ((get(cfg, "sp_next_key_file") == NULL) != (get(cfg, "sp_next_cert_file") == NULL)) {
		saml_set_err(err, IDHUB_ERR_INTERNAL,
		             "%s: sp_next_key_file and sp_next_cert_file go together",
		             get(cfg, "sp_next_key_file") ? "sp_next_key_file"
		                                          : "sp_next_cert_file");
		return -1;
	}
	return parse_contexts(c, cfg, err) || parse_attribute_map(c, cfg, err) ? -1 : 0;
}
