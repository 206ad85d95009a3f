/* config_int.h — inside broker/config/ only: the loader state shared by the files that parse the
 * config file's sections, and their helpers (errors with file and line, typed getters, character
 * classes, URI rules). */
#ifndef IDHUB_CONFIG_INT_H
#define IDHUB_CONFIG_INT_H
#include "config.h"
#include <libconfig.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifndef IDHUB_ADAPTER_DIR
#define IDHUB_ADAPTER_DIR "/usr/lib/idhub/adapters"
#endif

#define CONFIG_MAX_BYTES (1024 * 1024) /* a config file larger than this is refused */
#define URI_MAX 2048
#define MAX_LOAS 8
#define MAX_REDIRECT_URIS 16

typedef struct loader {
	const char *path;
	char *err; /* the first error, "FILE:LINE: message" */
	hub_conf *c;
} loader;

__attribute__((format(printf, 4, 5))) int cfg_fail_at(loader *l, const char *file, int line,
                                                      const char *fmt, ...);
__attribute__((format(printf, 3, 4))) int cfg_fail(loader *l, const config_setting_t *s,
                                                   const char *fmt, ...);
int cfg_oom(loader *l);
const char *cfg_shown(char buf[static 72], const char *s);
const char *cfg_name_of(const config_setting_t *s);
int cfg_charset_ok(const char *s, int cls, size_t min, size_t max);
long cfg_text_chars(const char *s);
int cfg_uri_check(const char *s, int *port, char *why, size_t whylen);
int cfg_issuer_ok(const char *s, int *port, char *why, size_t whylen);
/* Whether an issuer (already accepted by cfg_issuer_ok) names a loopback host. */
int cfg_issuer_loopback(const char *issuer);
/* The sandbox IdP and the demo service only on a loopback issuer, or in an integration
 * environment (after the hub and idps are parsed). */
int cfg_check_environment(loader *l);
int cfg_collect(loader *l, config_setting_t *grp, const char *where, const char *const *names,
                size_t n, config_setting_t **out);
int cfg_missing(loader *l, config_setting_t *grp, const char *name, const char *where);
int cfg_get_str(loader *l, config_setting_t *s, const char *where, const char **out);
int cfg_dup_into(loader *l, const char *v, char **out);
int cfg_opt_str(loader *l, config_setting_t *s, const char *where, const char *def, char **out);
int cfg_opt_int(loader *l, config_setting_t *s, const char *where, int64_t def, int64_t lo,
                int64_t hi, int64_t *out);
int cfg_opt_bool(loader *l, config_setting_t *s, const char *where, int def, int *out);
int cfg_get_strv(loader *l, config_setting_t *s, const char *where, int min, int max, char ***out,
                 size_t *nout);
config_setting_t *cfg_elem(config_setting_t *s, size_t i);
int cfg_level_of(const hub_conf *c, const char *acr);
int cfg_get_level(loader *l, config_setting_t *s, const char *where, int *out);
int cfg_parse_hub(loader *l, config_setting_t *root, config_setting_t *g);
int cfg_parse_loa(loader *l, config_setting_t *s);
int cfg_list_of_groups(loader *l, config_setting_t *s);
int cfg_parse_idps(loader *l, config_setting_t *s);
int cfg_parse_services(loader *l, config_setting_t *s);
int cfg_parse_branding(loader *l, config_setting_t *s);
void cfg_free_branding(branding_conf *b);
/* WCAG contrast ratio of two "#rrggbb" colours (1 to 21; 0 when one is malformed). */
double cfg_contrast(const char *fg, const char *bg);

#endif
