/* saml_settings.c — the SAML adapter's settings (documented in saml_adapter.c): their
 * declarations (the hub parses and type-checks them, with FILE:LINE errors) and the checks that
 * span several, which make a bad setting fail at start with "<setting>: what is wrong". */
#include "saml_int.h"
#include <stdlib.h>
#include <string.h>

/* The settings the hub parses for us, in the order of enum saml_setting (saml_int.h). */
static const char *const comparisons[] = {"minimum", "exact", NULL};
const idhub_setting_decl saml_settings[S_COUNT] = {
    [S_IDP_METADATA_FILE] = {"idp_metadata_file", IDHUB_SET_STRING},
    [S_IDP_METADATA_URL] = {"idp_metadata_url", IDHUB_SET_URL,
                            .help = "must be https (http only on a loopback host)"},
    [S_IDP_ENTITY_ID] = {"idp_entity_id", IDHUB_SET_STRING},
    [S_METADATA_SIGNING_CERT] = {"metadata_signing_cert", IDHUB_SET_STRING},
    [S_METADATA_REFRESH] = {"metadata_refresh", IDHUB_SET_INT, "3600", 60, 86400},
    [S_SP_ENTITY_ID] = {"sp_entity_id", IDHUB_SET_STRING},
    [S_SP_KEY_FILE] = {"sp_key_file", IDHUB_SET_STRING},
    [S_SP_CERT_FILE] = {"sp_cert_file", IDHUB_SET_STRING},
    [S_SP_NEXT_KEY_FILE] = {"sp_next_key_file", IDHUB_SET_STRING},
    [S_SP_NEXT_CERT_FILE] = {"sp_next_cert_file", IDHUB_SET_STRING},
    [S_AUTHN_CONTEXTS] = {"authn_contexts", IDHUB_SET_LIST, .flags = IDHUB_SET_SPACES,
                          .help = "one context URI (or -) per level"},
    [S_COMPARISON] = {"authn_context_comparison", IDHUB_SET_ENUM, "minimum", .choices = comparisons,
                      .help = "must be minimum or exact"},
    [S_ATTRIBUTE_MAP] = {"attribute_map", IDHUB_SET_MAP,
                         "given_name=urn:oid:2.5.4.42,givenName,http://eidas.europa.eu/"
                         "attributes/naturalperson/CurrentGivenName,FirstName "
                         "family_name=urn:oid:2.5.4.4,sn,surname,http://eidas.europa.eu/"
                         "attributes/naturalperson/CurrentFamilyName,LastName "
                         "email=urn:oid:0.9.2342.19200300.100.1.3,mail,email "
                         "birthdate=http://eidas.europa.eu/attributes/naturalperson/"
                         "DateOfBirth,DateOfBirth,birthdate",
                         .max = SAML_MAX_ATTRS, .flags = IDHUB_SET_SPACES | IDHUB_SET_FIRST_EQ,
                         .help = "claim=Name[,Name...] entries separated by spaces, at most 16"},
    [S_SUBJECT_ATTRIBUTE] = {"subject_attribute", IDHUB_SET_STRING},
    [S_NAME_ID_FORMAT] = {"name_id_format", IDHUB_SET_STRING,
                          LASSO_SAML2_NAME_IDENTIFIER_FORMAT_PERSISTENT},
    [S_ALLOW_SHA1] = {"allow_sha1", IDHUB_SET_BOOL, "false"},
    [S_SIGN_REQUESTS] = {"sign_requests", IDHUB_SET_BOOL, "true"},
    [S_FORCE_AUTHN] = {"force_authn", IDHUB_SET_BOOL, "false"},
    [S_CLOCK_LEEWAY] = {"clock_leeway", IDHUB_SET_INT, "60", 0, 300},
    [S_MAX_RESPONSE_SIZE] = {"max_response_size", IDHUB_SET_INT, "262144", 4096, 524288},
};

static int uri_ok(const char *s)
{
	if (!*s || strlen(s) > 1024)
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == '<' || *p == '>' || *p == '&')
			return 0;
	return 1;
}

/* The PEM text of the file setting k names (malloc'd), or NULL with err filled. An empty file is
 * no file. */
char *saml_pem_file(saml_ctx *c, const idhub_adapter_config *cfg, int k, idhub_error *err)
{
	const char *path = cfg->values[k].str;
	size_t n = 0;
	char *pem = c->svc->read_file(path, 65536, &n);
	if (!pem || !n) {
		free(pem);
		idhub_fail(err, IDHUB_ERR_INTERNAL, "%s: cannot read %s", saml_settings[k].name,
		           path);
		return NULL;
	}
	return pem;
}

static int parse_contexts(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err)
{
	const idhub_value *v = &cfg->values[S_AUTHN_CONTEXTS];
	c->nloas = cfg->nloas < SAML_MAX_LOAS ? cfg->nloas : SAML_MAX_LOAS;
	if (!v->set) {
		for (int i = 0; i < c->nloas; i++)
			c->authn_contexts[i] = cfg->loa_acrs[i];
		return 0;
	}
	for (size_t i = 0; i < v->nitems && i < (size_t)c->nloas; i++) {
		const char *t = v->items[i];
		if (strcmp(t, "-") != 0 && !uri_ok(t))
			return idhub_fail(
			    err, IDHUB_ERR_INTERNAL,
			    "authn_contexts: one context URI (or -) per level, %d levels",
			    c->nloas);
		c->authn_contexts[i] = strcmp(t, "-") == 0 ? NULL : t;
	}
	if (v->nitems != (size_t)c->nloas)
		return idhub_fail(
		    err, IDHUB_ERR_INTERNAL,
		    "authn_contexts: one context URI (or -) per level: %zu given, %d levels",
		    v->nitems, c->nloas);
	return 0;
}

/* Each entry claim=Name[,Name...] (the hub splits it at its first '='): the names, one copy cut in
 * place at the commas. */
static int parse_attribute_map(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err)
{
	const idhub_value *v = &cfg->values[S_ATTRIBUTE_MAP];
	for (size_t i = 0; i < v->nitems; i++) {
		saml_attr_map *m = &c->attrs[c->nattrs++];
		m->claim = v->items[2 * i];
		if (!(m->copy = strdup(v->items[2 * i + 1])))
			return idhub_fail(err, IDHUB_ERR_INTERNAL, "out of memory");
		char *save = NULL;
		for (char *n = strtok_r(m->copy, ",", &save); n && m->nnames < 6;
		     n = strtok_r(NULL, ",", &save))
			m->names[m->nnames++] = n;
	}
	return 0;
}

/* What the declarations cannot say: one metadata source, entity IDs, pairs of files. */
int saml_settings_parse(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err)
{
	const idhub_value *v = cfg->values; /* str is NULL for a setting that is not set */
	const char *file = v[S_IDP_METADATA_FILE].str, *url = v[S_IDP_METADATA_URL].str;
	if (!file == !url)
		return idhub_fail(
		    err, IDHUB_ERR_INTERNAL,
		    "%s: exactly one of idp_metadata_file and idp_metadata_url is required",
		    file  ? "idp_metadata_file"
		    : url ? "idp_metadata_url"
		          : "settings");
	c->idp_metadata_file = file;
	c->idp_metadata_url = url;
	c->idp_entity_id_setting = v[S_IDP_ENTITY_ID].str;
	if (c->idp_entity_id_setting && !uri_ok(c->idp_entity_id_setting))
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "idp_entity_id: not a valid entity ID");
	if (v[S_METADATA_SIGNING_CERT].str &&
	    !(c->metadata_signing_cert_pem = saml_pem_file(c, cfg, S_METADATA_SIGNING_CERT, err)))
		return -1;
	const char *sp = v[S_SP_ENTITY_ID].str;
	if (sp && !uri_ok(sp))
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "sp_entity_id: not a valid entity ID");
	c->sp_entity_id = sp ? sp : c->metadata_url;
	c->comparison = v[S_COMPARISON].str;
	c->name_id_format = v[S_NAME_ID_FORMAT].str;
	if (!uri_ok(c->name_id_format))
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "name_id_format: not a URI");
	const char *sa = v[S_SUBJECT_ATTRIBUTE].str;
	c->subject_attribute = sa && *sa ? sa : NULL;
	c->allow_sha1 = (int)cfg->values[S_ALLOW_SHA1].num;
	c->leeway = (long)cfg->values[S_CLOCK_LEEWAY].num;
	for (int k = S_SP_KEY_FILE; k <= S_SP_NEXT_KEY_FILE; k += 2)
		if (!v[k].str != !v[k + 1].str)
			return idhub_fail(err, IDHUB_ERR_INTERNAL, "%s: %s and %s go together",
			                  saml_settings[v[k].str ? k : k + 1].name,
			                  saml_settings[k].name, saml_settings[k + 1].name);
	return parse_contexts(c, cfg, err) || parse_attribute_map(c, cfg, err) ? -1 : 0;
}
