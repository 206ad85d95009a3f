/* responses.h — the adapter host's page and level services (responses.c), as idhub_services
 * offers them to adapters (respond_page ... text_fill in include/idhub/adapter.h). */
#ifndef IDHUB_IDP_RESPONSES_H
#define IDHUB_IDP_RESPONSES_H
#include <idhub/adapter.h>

int idp_respond_page(idhub_instance *in, idhub_arena *a, idhub_http_response *resp, int status,
                     uint32_t flags, const char *title, const char *body_html);
int idp_respond_autopost(idhub_instance *in, idhub_arena *a, idhub_http_response *resp,
                         const char *action, const idhub_kv *fields, size_t nfields,
                         const char *heading, const char *message);
int idp_respond_logout_done(idhub_instance *in, idhub_arena *a, idhub_http_response *resp,
                            const char *token);
const char *idp_level_name(idhub_instance *in, idhub_arena *a, int level);
int idp_level_of(idhub_instance *in, const char *word);
const char *idp_text_fill(idhub_instance *in, idhub_arena *a, const char *key, const char *arg1,
                          const char *arg2);

#endif
