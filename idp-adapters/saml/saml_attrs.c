/* saml_attrs.c — from a verified assertion to the hub's identity: attributes mapped by Name or
 * FriendlyName to the hub's claim names, and the AuthnContextClassRef to a level of assurance. */
#include "saml_int.h"
#include <string.h>

int saml_level_of(const saml_ctx *c, const char *class_ref)
{
	int level = 0;
	for (int i = 0; class_ref && i < c->nloas; i++)
		if (c->authn_contexts[i] && strcmp(c->authn_contexts[i], class_ref) == 0)
			level = i + 1;
	return level;
}

/* The text of an AttributeValue: lasso keeps simple content as LassoMiscTextNode children. */
static const char *value_text(gpointer v)
{
	if (LASSO_IS_SAML2_ATTRIBUTE_VALUE(v)) {
		LassoSaml2AttributeValue *av = v;
		for (GList *i = av->any; i; i = i->next)
			if (LASSO_IS_MISC_TEXT_NODE(i->data) &&
			    ((LassoMiscTextNode *)i->data)->text_child)
				return ((LassoMiscTextNode *)i->data)->content;
	}
	return NULL;
}

static int named(const LassoSaml2Attribute *at, const char *name)
{
	return (at->Name && strcmp(at->Name, name) == 0) ||
	       (at->FriendlyName && strcmp(at->FriendlyName, name) == 0);
}

int saml_map_attributes(saml_ctx *c, idhub_arena *a, LassoSaml2Assertion *as, idhub_identity *out,
                        const char **subject_attr_value)
{
	idhub_kv *kv = c->svc->alloc(a, (size_t)(c->nattrs + 1) * sizeof(*kv));
	size_t n = 0;
	*subject_attr_value = NULL;
	for (GList *s = as->AttributeStatement; s; s = s->next) {
		if (!LASSO_IS_SAML2_ATTRIBUTE_STATEMENT(s->data))
			continue;
		for (GList *ai = LASSO_SAML2_ATTRIBUTE_STATEMENT(s->data)->Attribute; ai;
		     ai = ai->next) {
			if (!LASSO_IS_SAML2_ATTRIBUTE(ai->data))
				continue;
			LassoSaml2Attribute *at = ai->data;
			const char *v =
			    at->AttributeValue ? value_text(at->AttributeValue->data) : NULL;
			if (!v || !*v || strlen(v) > 1024)
				continue;
			if (c->subject_attribute && named(at, c->subject_attribute) &&
			    !*subject_attr_value)
				*subject_attr_value = c->svc->strdup(a, v);
			for (int m = 0; m < c->nattrs; m++) {
				int hit = 0;
				for (int k = 0; k < c->attrs[m].nnames && !hit; k++)
					hit = named(at, c->attrs[m].names[k]);
				int have = 0;
				for (size_t x = 0; x < n; x++)
					have |= strcmp(kv[x].name, c->attrs[m].claim) == 0;
				if (hit && !have) {
					kv[n].name = c->svc->strdup(a, c->attrs[m].claim);
					kv[n].value = c->svc->strdup(a, v);
					n++;
				}
			}
		}
	}
	out->attrs = kv;
	out->nattrs = n;
	return 0;
}
