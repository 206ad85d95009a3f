/* forms.h — the adapter host's form patterns (forms.c), as idhub_services offers them to adapters
 * (form_html, error_summary_html in include/idhub/adapter.h). */
#ifndef IDHUB_IDP_FORMS_H
#define IDHUB_IDP_FORMS_H
#include <idhub/adapter.h>

const char *idp_form_html(idhub_instance *in, idhub_arena *a, const char *action,
                          const idhub_kv *hidden, size_t nhidden, const char *legend,
                          const idhub_field *fields, size_t nfields, const idhub_kv *buttons,
                          size_t nbuttons);
const char *idp_error_summary_html(idhub_instance *in, idhub_arena *a, const idhub_field *fields,
                                   size_t nfields);

#endif
