# adapter.mk — build flags of the SAML adapter (included by the top-level Makefile): lasso, and
# through it libxml2, xmlsec1 and GLib. The fuzz target tests/fuzz/fuzz_saml_response.c compiles
# the adapter's sources in, so it gets the same flags (target-specific variables).
ADAPTER_CFLAGS_saml := $(shell pkg-config --cflags lasso xmlsec1-openssl)
ADAPTER_LIBS_saml := $(shell pkg-config --libs lasso xmlsec1-openssl libxml-2.0 glib-2.0 gobject-2.0)

$(O)/fuzz/fuzz_saml_response: CFLAGS += $(ADAPTER_CFLAGS_saml) -Iidp-adapters/saml
$(O)/fuzz/fuzz_saml_response: LDLIBS += $(ADAPTER_LIBS_saml)
