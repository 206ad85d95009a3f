/* xml.h — the adapter host's XML service (adapter ABI revision 6): xml_read and xml_check of
 * include/idhub/adapter.h, whose comments are the contract. */
#ifndef IDHUB_IDP_XML_H
#define IDHUB_IDP_XML_H
#include <idhub/adapter.h>

/* Initialises libxml2 (idempotent): before the hub's threads start, as libxml2 2.9's own lazy
 * initialisation is not thread-safe. */
void idp_xml_init(void);
int idp_xml_read(const char *text, size_t len, const idhub_xml_rules *rules, void **doc,
                 idhub_error *err);
int idp_xml_check(void *node, const idhub_xml_rules *rules, idhub_error *err);

#endif
