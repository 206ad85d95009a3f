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
    [S_IDP_ENTITY_ID] = {"idp_entity_id", IDHUB_SET_STRING, .flags = IDHUB_SET_URI,
                         .help = "not a valid entity ID"},
    [S_METADATA_SIGNING_CERT] = {"metadata_signing_cert", IDHUB_SET_STRING},
    [S_METADATA_REFRESH] = {"metadata_refresh", IDHUB_SET_INT, "3600", 60, 86400},
    [S_SP_ENTITY_ID] = {"sp_entity_id", IDHUB_SET_STRING, .flags = IDHUB_SET_URI,
                        .help = "not a valid entity ID"},
    [S_SP_KEY_FILE] = {"sp_key_file", IDHUB_SET_STRING},
    [S_SP_CERT_FILE] = {"sp_cert_file", IDHUB_SET_STRING},
    [S_SP_NEXT_KEY_FILE] = {"sp_next_key_file", IDHUB_SET_STRING},
    [S_SP_NEXT_CERT_FILE] = {"sp_next_cert_file", IDHUB_SET_STRING},
    [S_AUTHN_CONTEXTS] = {"authn_contexts", IDHUB_SET_LIST,
                          .flags = IDHUB_SET_SPACES | IDHUB_SET_URI | IDHUB_SET_LEVELS,
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
                          LASSO_SAML2_NAME_IDENTIFIER_FORMAT_PERSISTENT, .flags = IDHUB_SET_URI,
                          .help = "not a URI"},
    [S_ALLOW_SHA1] = {"allow_sha1", IDHUB_SET_BOOL, "false"},
    [S_SIGN_REQUESTS] = {"sign_requests", IDHUB_SET_BOOL, "true"},
    [S_FORCE_AUTHN] = {"force_authn", IDHUB_SET_BOOL, "false"},
    [S_CLOCK_LEEWAY] = {"clock_leeway", IDHUB_SET_INT, "60", 0, 300},
    [S_MAX_RESPONSE_SIZE] = {"max_response_size", IDHUB_SET_INT, "262144", 4096, 524288},
};

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

/* Each entry claim=Name[,Name...] (the hub splits it at its first '='): a map pair per name, at
 * most 6, from a copy cut at the commas; the first name that yields a value wins. */
static int parse_attribute_map(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err)
{
	const idhub_value *v = &cfg->values[S_ATTRIBUTE_MAP];
	for (size_t i = 0; i < v->nitems; i++) {
		char *save = NULL, *copy = c->map_copy[i] = strdup(v->items[2 * i + 1]);
		if (!copy)
			return idhub_fail(err, IDHUB_ERR_INTERNAL, "out of memory");
		int k = 0;
		for (char *n = strtok_r(copy, ",", &save); n && k++ < 6;
		     n = strtok_r(NULL, ",", &save))
			c->claim_map[c->nclaim++] = (idhub_kv){n, v->items[2 * i]};
	}
	return 0;
}

/* What the declarations cannot say: one metadata source, pairs of files. */
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
	if (v[S_METADATA_SIGNING_CERT].str &&
	    !(c->metadata_signing_cert_pem = saml_pem_file(c, cfg, S_METADATA_SIGNING_CERT, err)))
		return -1;
	c->sp_entity_id = v[S_SP_ENTITY_ID].str ? v[S_SP_ENTITY_ID].str : c->metadata_url;
	c->comparison = v[S_COMPARISON].str;
	c->name_id_format = v[S_NAME_ID_FORMAT].str;
	const char *sa = v[S_SUBJECT_ATTRIBUTE].str;
	c->subject_attribute = sa && *sa ? sa : NULL;
	c->allow_sha1 = (int)cfg->values[S_ALLOW_SHA1].num;
	c->leeway = (long)cfg->values[S_CLOCK_LEEWAY].num;
	for (int k = S_SP_KEY_FILE; k <= S_SP_NEXT_KEY_FILE; k += 2)
		if (!v[k].str != !v[k + 1].str)
			return idhub_fail(err, IDHUB_ERR_INTERNAL, "%s: %s and %s go together",
			                  saml_settings[v[k].str ? k : k + 1].name,
			                  saml_settings[k].name, saml_settings[k + 1].name);
	/* one context (or "-") per level of the hub: the hub checked the count */
	const idhub_value *lv = &v[S_AUTHN_CONTEXTS];
	c->nloas = lv->nitems < SAML_MAX_LOAS ? (int)lv->nitems : SAML_MAX_LOAS;
	for (int i = 0; i < c->nloas; i++)
		c->authn_contexts[i] = strcmp(lv->items[i], "-") ? lv->items[i] : NULL;
	return parse_attribute_map(c, cfg, err);
}
