# idhub — build, run and test. `make run` and `make check` are the README's quick start.
#
# Variants: the default build goes to build/; `VARIANT=asan` (AddressSanitizer + UBSan, used by every
# C and integration test) to build/asan/; `VARIANT=fuzz` (clang libFuzzer) to build/fuzz/;
# `VARIANT=deb` (the Debian package's build, run by debian/rules) to build/deb/, with the adapters
# looked up where the package installs them.

VARIANT ?= release
PKGS := libmicrohttpd lmdb libpq jansson libconfig liboauth2 libcrypto libsystemd libxml-2.0
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ifeq ($(VARIANT),asan)
O := build/asan
SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT := -O1 -g
else ifeq ($(VARIANT),fuzz)
O := build/fuzz
CC := clang
SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
OPT := -O1 -g
else ifeq ($(VARIANT),deb)
O := build/deb
SAN :=
OPT := -O2 -g
ADAPTER_DIR := /usr/lib/idhub/adapters
else
O := build
SAN :=
OPT := -O2 -g
endif
# Where the daemon loads adapters from unless the config says (hub.adapter_dir): the build's own
# directory, or the installed one for the package.
ADAPTER_DIR ?= $(abspath $(O))/adapters
# The one version: debian/changelog's.
VERSION := $(shell sed -n '1{s/^[^ ]* .//;s/. .*//;p;}' debian/changelog)

CFLAGS_COMMON := -std=gnu17 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wformat=2 \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -D_GNU_SOURCE -Iinclude -Ibroker \
	-DIDHUB_ADAPTER_DIR='"$(ADAPTER_DIR)"' -DIDHUB_VERSION='"$(VERSION)"'
ifeq ($(VARIANT),fuzz)
CFLAGS_COMMON := $(filter-out -D_FORTIFY_SOURCE=2,$(CFLAGS_COMMON))
endif
CFLAGS ?=
CFLAGS += $(CFLAGS_COMMON) $(OPT) $(SAN) $(PKG_CFLAGS) -pthread
LDFLAGS += $(SAN) -pthread
LDLIBS := $(PKG_LIBS) -ldl -lm

LIB_SRC := $(filter-out broker/main.c broker/ctl/%,$(wildcard broker/*.c broker/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o) $(O)/broker/pages/catalogs.o
CTL_SRC := $(wildcard broker/ctl/*.c)
ADAPTERS := $(notdir $(wildcard idp-adapters/*))
ADAPTER_SO := $(ADAPTERS:%=$(O)/adapters/idhub-adapter-%.so)
# Adapters that exist for the tests (tests/adapters/<name>/): built with the unit binaries, never by
# `all`, so a release build or package never ships them.
TEST_ADAPTERS := $(notdir $(wildcard tests/adapters/*))
TEST_ADAPTER_SO := $(TEST_ADAPTERS:%=$(O)/adapters/idhub-adapter-%.so)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(O)/fuzz/%)

.PHONY: all run check deps unit fuzz integration browser clean format format-check lint bench install \
	deb

all: $(O)/idhub $(O)/idhubctl $(ADAPTER_SO)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(O)/broker/main.o: debian/changelog # IDHUB_VERSION

# The citizen's pages' message catalogs (broker/pages/po/<lang>.po, gettext's format): checked and
# compiled by msgfmt (Debian package gettext), every English key required in the Welsh catalog
# (msgcmp), then linked into the binary by catalogs.S (read by broker/pages/catalog.c).
$(O)/pages/%.mo: broker/pages/po/%.po broker/pages/po/en.po
	@mkdir -p $(dir $@)
	@echo "  MSGFMT  $<"
	@msgcmp $< broker/pages/po/en.po
	@msgfmt --check -o $@ $<

$(O)/broker/pages/catalogs.o: broker/pages/catalogs.S $(O)/pages/en.mo $(O)/pages/cy.mo
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) -c -DMO_EN='"$(O)/pages/en.mo"' -DMO_CY='"$(O)/pages/cy.mo"' $< -o $@

$(O)/libidhub.a: $(LIB_OBJ)
	@echo "  LD      $@"
	@$(AR) rcs $@ $^

$(O)/idhub: $(O)/broker/main.o $(O)/libidhub.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LDLIBS)

$(O)/idhubctl: $(CTL_SRC:%.c=$(O)/%.o) $(O)/libidhub.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Adapters are position-independent shared objects that see only the ABI header and their own code.
# An adapter may add flags in idp-adapters/<name>/adapter.mk: ADAPTER_CFLAGS_<name>, ADAPTER_LIBS_<name>.
-include $(wildcard idp-adapters/*/adapter.mk)

.SECONDEXPANSION:
$(O)/adapters/idhub-adapter-%.so: $$(wildcard idp-adapters/%/*.c idp-adapters/%/*.h) \
		include/idhub/adapter.h
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(ADAPTER_CFLAGS_$*) -fPIC -shared -o $@ $(filter %.c,$^) $(LDFLAGS) \
		$(LDLIBS) $(ADAPTER_LIBS_$*)
$(TEST_ADAPTER_SO): $(O)/adapters/idhub-adapter-%.so: $$(wildcard tests/adapters/%/*.c) \
		include/idhub/adapter.h
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -fPIC -shared -o $@ $(filter %.c,$^) $(LDFLAGS)
$(O)/tests/%: tests/unit/%.c $(O)/libidhub.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -MMD -MP -MF $@.d -o $@ $< $(O)/libidhub.a $(LDFLAGS) $(LDLIBS) -lcmocka

$(O)/fuzz/%: tests/fuzz/%.c $(O)/libidhub.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) -MMD -MP -MF $@.d -fsanitize=fuzzer -o $@ $< $(O)/libidhub.a $(LDFLAGS) \
		$(LDLIBS)

deps:
	@deploy/install-deps.sh

# Quick start: install what is missing, build, start the hub in sandbox mode on http://127.0.0.1:8080
run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p var && chmod 700 var
	exec $(O)/idhub --config deploy/dev.conf

# Installs one build (run by debian/rules as `make VARIANT=deb install DESTDIR=...`): the daemon,
# the CLI, and the adapters into the directory the daemon was built to load them from.
install: all
	install -D -m 0755 $(O)/idhub $(DESTDIR)/usr/sbin/idhub
	install -D -m 0755 $(O)/idhubctl $(DESTDIR)/usr/bin/idhubctl
	install -d $(DESTDIR)$(ADAPTER_DIR)
	install -m 0644 $(ADAPTER_SO) $(DESTDIR)$(ADAPTER_DIR)/

# The Debian package, build/idhub_<version>_<arch>.deb, by dpkg-buildpackage from debian/ (binary
# only, unsigned), then lintian, which must report no error (its warnings are printed). The
# package's objects stay in build/deb/ between runs (no pre-clean: make rebuilds what changed);
# `make clean` starts afresh. Every output goes to build/, never to the parent directory.
DEB_ARCH = $(shell dpkg-architecture -qDEB_HOST_ARCH)
deb:
	@mkdir -p build
	@rm -f debian/debhelper-build-stamp # else dh skips the build step and make runs it from install
	dpkg-buildpackage -b -us -uc -nc --buildinfo-option=-ubuild \
		--buildinfo-option=-Obuild/idhub_$(VERSION)_$(DEB_ARCH).buildinfo \
		--changes-option=-ubuild --changes-option=-Obuild/idhub_$(VERSION)_$(DEB_ARCH).changes
	lintian --fail-on error \
		build/idhub_$(VERSION)_$(DEB_ARCH).deb
	@echo "  DEB     build/idhub_$(VERSION)_$(DEB_ARCH).deb"

unit-bins: $(UNIT_BIN) $(TEST_ADAPTER_SO)
fuzz-bins: $(FUZZ_BIN)

check:
	@deploy/install-deps.sh --with-tests
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory VARIANT=asan all unit-bins
	@$(MAKE) --no-print-directory VARIANT=fuzz fuzz-bins
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory deb
	tests/run-all.sh

# The benchmark: needs the test dependencies too (node, the oidc-provider peer, wrk).
bench:
	@deploy/install-deps.sh --with-tests
	@$(MAKE) --no-print-directory all
	bench/run.sh

format:
	clang-format -i $(shell git ls-files '*.c' '*.h')

# Every C file must match the committed .clang-format; `make format` fixes the tree.
format-check:
	@echo "  FORMAT  $$(git ls-files '*.c' '*.h' | wc -l) files"
	@clang-format --dry-run -Werror $(shell git ls-files '*.c' '*.h')

# The code's shape: no include circle between the folders of broker/ (tools/include-graph.sh prints
# the graph) and no function over 80 lines in broker/, idp-adapters/ and bench/
# (tools/check-function-length.sh, with universal-ctags).
lint:
	@echo "  LINT    include graph, function length"
	@tools/include-graph.sh --check
	@tools/check-function-length.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
