# vmattest build. `make` builds the binaries in build/release/ and nothing else;
# `make check` runs every test suite (unit, integration, ASan+UBSan, VM boots, interop with
# Keylime, packages, fuzz) and `make deps` installs what that needs (as do check, demo, bench
# and fuzz: only these run apt-get, never `make`, `make install` or a package build);
# `make fuzz` runs every fuzz harness longer (FUZZ_SECONDS each, default 300; FUZZ_RUNS caps
# executions). `make dist` writes build/vmattest-VERSION.tar.gz, `make deb` and `make rpm`
# build the packages from it (packaging/, docs/packaging.md).

VARIANT ?= release
O := build/$(VARIANT)
PREFIX ?= /usr/local
DESTDIR ?=
# the one place the version is written; packaging/debian/changelog and packaging/rpm/vmattest.spec
# must agree with it (`make dist` checks)
VERSION := $(shell cat VERSION)
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
# where dracut and systemd look, whatever PREFIX: their own pkg-config files say
pkgvar = $(or $(shell pkg-config --variable=$(1) $(2) 2>/dev/null),$(3))
DRACUTMODULESDIR ?= $(call pkgvar,dracutmodulesdir,dracut,/usr/lib/dracut/modules.d)
SYSTEMDSYSTEMUNITDIR ?= $(call pkgvar,systemdsystemunitdir,systemd,/lib/systemd/system)
SYSUSERSDIR ?= $(call pkgvar,sysusersdir,systemd,/usr/lib/sysusers.d)
TMPFILESDIR ?= $(call pkgvar,tmpfilesdir,systemd,/usr/lib/tmpfiles.d)
# cloud-init runs the scripts of this directory at every boot, whatever PREFIX (the hook ends at
# vmattest's record once the first boot of the instance is done)
CLOUDINITSCRIPTSDIR ?= /var/lib/cloud/scripts/per-boot
# AMD's SEV-SNP ASK/ARK bundles, where the verifier looks for them whatever PREFIX (the path is
# SNP_AMD_CERTS_DIR in verifier/snp_verify.h; the ARKs are pinned there by fingerprint)
AMDCERTSDIR ?= /usr/share/vmattest/amd

# Every Debian package the build, the tests, the demo and the bench need.
DEB_PACKAGES := make gcc libc6-dev clang libclang-rt-14-dev pkg-config \
	libtss2-dev libssl-dev libjson-c-dev libinih-dev libcmocka-dev libcurl4-openssl-dev \
	libevent-dev libsqlite3-dev libpcre2-dev libcryptsetup-dev libfuse3-dev fuse3 \
	swtpm swtpm-tools tpm2-tools openssl jq xxd curl binutils coreutils \
	qemu-system-x86 ovmf busybox-static cpio e2fsprogs dracut-core dracut-network cryptsetup-bin \
	zstd kmod systemd udev iproute2 gdb \
	python3 python3-venv python3-gpg libefivar1 postgresql \
	build-essential dpkg-dev debhelper lintian rpm debootstrap systemd-container genisoimage

PKGS := tss2-esys tss2-mu tss2-tctildr tss2-rc openssl json-c inih
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(VERIFIER_PKGS) $(AGENT_PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))
# the verifier's polls and webhook are libcurl's (the agent's HTTP client is libevent's);
# PCRE2 matches the runtime policy's Python regexes (lib/runtime_policy.o, which the agent
# never pulls out of libvmattest.a)
VERIFIER_PKGS := libevent libevent_openssl sqlite3 libcurl libpcre2-8
EVENT_LIBS = $(shell pkg-config --libs libevent libevent_openssl)
# the first boot's disk work (agent/luks_provision.c: LUKS2 format, keyslots, online reencryption)
AGENT_PKGS := libcryptsetup
CRYPTSETUP_LIBS = $(shell pkg-config --libs $(AGENT_PKGS))
VERIFIER_LIBS = $(shell pkg-config --libs $(VERIFIER_PKGS)) -lpthread

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
	-Wno-unused-parameter
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -DVMATTEST_VERSION='"$(VERSION)"' -I. -MMD -MP $(WARNINGS)

ifeq ($(VARIANT),release)
CC := gcc
# a packager's CPPFLAGS (dpkg-buildflags, rpm's optflags) may set _FORTIFY_SOURCE already: a
# second, different definition would be an error under -Werror
FORTIFY := $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),,-D_FORTIFY_SOURCE=2)
VARIANT_CFLAGS := -O2 -g $(FORTIFY) -fstack-protector-strong -fPIE
VARIANT_LDFLAGS := -pie -Wl,-z,relro,-z,now
else ifeq ($(VARIANT),asan)
CC := clang
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
VARIANT_CFLAGS := -O1 -g $(SAN)
VARIANT_LDFLAGS := $(SAN)
else ifeq ($(VARIANT),fuzz)
CC := clang
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
VARIANT_CFLAGS := -O1 -g $(SAN) -fsanitize=fuzzer-no-link
VARIANT_LDFLAGS := $(SAN)
else
$(error VARIANT must be release, asan or fuzz)
endif

# CPPFLAGS, CFLAGS and LDFLAGS from the environment or the command line come last: a package
# build's hardening flags (dpkg-buildflags, %{optflags}) reach every object and link
ALL_CFLAGS = $(BASE_CFLAGS) $(VARIANT_CFLAGS) $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(VARIANT_LDFLAGS) $(LDFLAGS)

LIB_SRC := $(wildcard lib/*.c)
AGENT_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c))
VERIFIER_SRC := $(filter-out verifier/main.c,$(wildcard verifier/*.c))
POLICY_SRC := $(filter-out policy/main.c,$(wildcard policy/*.c))
HOST_SRC := $(filter-out host/main.c,$(wildcard host/*.c))
UNIT_SRC := $(wildcard tests/unit/test-*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz-*.c)
BENCH_SRC := $(wildcard tests/bench/*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)

LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
AGENT_OBJ := $(AGENT_SRC:%.c=$(O)/%.o)
VERIFIER_OBJ := $(VERIFIER_SRC:%.c=$(O)/%.o)
POLICY_OBJ := $(POLICY_SRC:%.c=$(O)/%.o)
HOST_OBJ := $(HOST_SRC:%.c=$(O)/%.o)
UNIT_BIN := $(UNIT_SRC:%.c=$(O)/%)
FUZZ_BIN := $(FUZZ_SRC:%.c=build/fuzz/%)
BENCH_BIN := $(BENCH_SRC:%.c=$(O)/%)
TOOL_BIN := $(TOOL_SRC:%.c=$(O)/%)

DEPS_STAMP := build/.deps-installed
# Keylime for tests/interop, in a venv of its own (scripts/keylime-venv.sh, rebuilt when
# tests/interop/requirements.txt changes); `make check` and `make deps` prepare it, plain `make`
# never does, and `make clean` keeps it (like build/cache)
KEYLIME_VENV := build/keylime-venv
KEYLIME_STAMP := $(KEYLIME_VENV)/.stamp

.PHONY: all deps keylime-venv check demo bench fuzz install install-host clean tests-build fuzz-build dist deb rpm
.DEFAULT_GOAL := all

all: $(O)/vmattest $(O)/vmattest-verifier $(O)/vmattest-policy $(O)/vmattest-host

$(DEPS_STAMP): Makefile scripts/deps.sh
	@./scripts/deps.sh $(DEB_PACKAGES)
	@mkdir -p $(@D) && touch $@

deps:
	@./scripts/deps.sh $(DEB_PACKAGES)
	@mkdir -p build && touch $(DEPS_STAMP)
	@./scripts/keylime-venv.sh $(KEYLIME_VENV)

$(KEYLIME_STAMP): tests/interop/requirements.txt scripts/keylime-venv.sh | $(DEPS_STAMP)
	@./scripts/keylime-venv.sh $(KEYLIME_VENV)

keylime-venv: $(KEYLIME_STAMP)

$(O)/%.o: %.c
	@mkdir -p $(@D)
	@echo '  CC      $(VARIANT)/$<'
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/libvmattest.a: $(LIB_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(O)/libagent.a: $(AGENT_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(O)/libverifier.a: $(VERIFIER_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(O)/libpolicy.a: $(POLICY_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(O)/libhost.a: $(HOST_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(O)/vmattest: $(O)/agent/main.o $(O)/libagent.a $(O)/libvmattest.a
	@echo '  LD      $@'
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(EVENT_LIBS) $(CRYPTSETUP_LIBS)

# evidence names the EFI applications of an event log with vmattest-policy's boot_events.o
$(O)/vmattest-verifier: $(O)/verifier/main.o $(O)/libverifier.a $(O)/policy/boot_events.o $(O)/libvmattest.a
	@echo '  LD      $@'
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(VERIFIER_LIBS)

# vmattest-policy: the runtime policy's excludes are PCRE2 (lib/python_regex.o), the hashing
# is on threads
$(O)/vmattest-policy: $(O)/policy/main.o $(O)/libpolicy.a $(O)/libvmattest.a
	@echo '  LD      $@'
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(VERIFIER_LIBS)

# vmattest-host: the host TPM through the agent's TPM layer (agent/tpm.c, ek.c, ak.c, quote.c, pulled
# out of libagent.a as the linker needs them)
$(O)/vmattest-host: $(O)/host/main.o $(O)/libhost.a $(O)/libagent.a $(O)/libvmattest.a
	@echo '  LD      $@'
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(EVENT_LIBS) $(CRYPTSETUP_LIBS)

$(O)/tests/unit/test-%: $(O)/tests/unit/test-%.o $(O)/libhost.a $(O)/libagent.a $(O)/libverifier.a $(O)/libpolicy.a $(O)/libvmattest.a
	@echo '  LD      $@'
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(VERIFIER_LIBS) $(CRYPTSETUP_LIBS) -lcmocka

$(O)/tests/bench/%: $(O)/tests/bench/%.o $(O)/libvmattest.a
	@echo '  LD      $@'
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(VERIFIER_LIBS)

$(O)/tests/tools/%: $(O)/tests/tools/%.o $(O)/libvmattest.a
	@echo '  LD      $@'
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(VERIFIER_LIBS)

# the verifier's host binding check on files
$(O)/tests/tools/host-binding-check: $(O)/tests/tools/host-binding-check.o $(O)/libverifier.a $(O)/libvmattest.a
	@echo '  LD      $@'
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(VERIFIER_LIBS)

# the test double of configfs-tsm is a FUSE filesystem (libfuse3)
$(O)/tests/tools/tsm-double.o: ALL_CFLAGS += $(shell pkg-config --cflags fuse3)
$(O)/tests/tools/tsm-double: $(O)/tests/tools/tsm-double.o $(O)/tests/tools/forge/snp_forge.o \
                              $(O)/tests/tools/forge/tdx_forge.o
	@echo '  LD      $@'
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(shell pkg-config --libs openssl fuse3)

# the paravisor double of Azure's HCL report (a TPM proxy) signs SNP reports as tsm-double does
$(O)/tests/tools/hcl-double: $(O)/tests/tools/hcl-double.o $(O)/tests/tools/forge/hcl_forge.o \
                               $(O)/tests/tools/forge/snp_forge.o $(O)/libvmattest.a
	@echo '  LD      $@'
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(VERIFIER_LIBS)

# the IMDS double quotes the TDREPORTs of hcl-double --tdx under a test root of tdx_forge
$(O)/tests/tools/imds-double: $(O)/tests/tools/imds-double.o $(O)/tests/tools/forge/hcl_forge.o \
                               $(O)/tests/tools/forge/snp_forge.o $(O)/tests/tools/forge/tdx_forge.o $(O)/libvmattest.a
	@echo '  LD      $@'
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(VERIFIER_LIBS)

# unit tests that check TDX quotes and CC event logs make them with tdx_forge
$(O)/tests/unit/test-cc_event_log $(O)/tests/unit/test-tsm_evidence: $(O)/tests/tools/forge/tdx_forge.o
# unit tests that check Azure reports sign them with the same test keys
$(O)/tests/unit/test-platform_evidence: $(O)/tests/tools/forge/snp_forge.o $(O)/tests/tools/forge/hcl_forge.o \
                                        $(O)/tests/tools/forge/tdx_forge.o

# the VM test's stand-in for `vmattest provision` without the escrow: the disk work alone
$(O)/tests/tools/luks-provision: $(O)/tests/tools/luks-provision.o $(O)/agent/luks_provision.o $(O)/libvmattest.a
	@echo '  LD      $@'
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CRYPTSETUP_LIBS)

build/fuzz/tests/fuzz/fuzz-%: build/fuzz/tests/fuzz/fuzz-%.o build/fuzz/libagent.a build/fuzz/libverifier.a build/fuzz/libpolicy.a build/fuzz/libvmattest.a
	@echo '  LD      $@'
	@$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) $(VERIFIER_LIBS) $(CRYPTSETUP_LIBS)

tests-build: $(O)/vmattest $(O)/vmattest-verifier $(O)/vmattest-policy $(O)/vmattest-host $(UNIT_BIN) $(BENCH_BIN) $(TOOL_BIN)

fuzz-build:
	$(MAKE) VARIANT=fuzz $(FUZZ_BIN)

# One closing summary line for all suites: tests/run prints "N passed, N failed".
check: $(DEPS_STAMP) $(KEYLIME_STAMP)
	$(MAKE) VARIANT=release tests-build
	$(MAKE) VARIANT=asan tests-build
	$(MAKE) fuzz-build
	tests/run --fuzz-seconds $(or $(FUZZ_SECONDS),4)

# Each harness for FUZZ_SECONDS (300), or FUZZ_RUNS executions if that comes first; ends with a
# table of executions, executions per second and crashes: `make fuzz FUZZ_RUNS=10000000`.
fuzz: $(DEPS_STAMP)
	$(MAKE) fuzz-build
	tests/fuzz/run-long $(or $(FUZZ_SECONDS),300) $(FUZZ_RUNS)

demo: $(DEPS_STAMP)
	$(MAKE) VARIANT=release $(O)/vmattest $(O)/vmattest-verifier $(O)/vmattest-policy $(O)/vmattest-host $(TOOL_BIN)
	tests/demo.sh

bench: $(DEPS_STAMP) $(KEYLIME_STAMP)
	$(MAKE) VARIANT=release tests-build
	tests/bench/bench.sh

# Installs the binaries, man pages, example configurations, the dracut module where dracut
# looks, and the runtime units with their sysusers.d and tmpfiles.d files where systemd looks
# (both from their pkg-config files; DRACUTMODULESDIR, SYSTEMDSYSTEMUNITDIR, SYSUSERSDIR and
# TMPFILESDIR override), and AMD's SEV-SNP certificate bundles in AMDCERTSDIR. It runs nothing:
# a package's maintainer scripts, or the administrator
# (systemd-sysusers; systemd-tmpfiles --create vmattest.conf; systemctl daemon-reload), apply
# them. The cloud-init hook goes where cloud-init runs it at every boot (CLOUDINITSCRIPTSDIR).
# Units, the module and the hook name the binaries in BINDIR. A configuration or IMA policy that is
# there already is kept.
install_bindir = sed -e 's|=/usr/bin/vmattest|=$(BINDIR)/vmattest|' -e 's|:-/usr/bin/vmattest}|:-$(BINDIR)/vmattest}|' \
	-e 's|"/usr/bin/vmattest"|"$(BINDIR)/vmattest"|' \
	$(1) >$(2).tmp && chmod $(3) $(2).tmp && mv $(2).tmp $(2)
install_once = [ -e $(DESTDIR)$(2) ] || install -D -m 0644 $(1) $(DESTDIR)$(2)
MODULE_DIR = $(DESTDIR)$(DRACUTMODULESDIR)/90vmattest

install: all
	install -D -m 0755 $(O)/vmattest $(DESTDIR)$(BINDIR)/vmattest
	install -D -m 0755 $(O)/vmattest-verifier $(DESTDIR)$(BINDIR)/vmattest-verifier
	install -D -m 0755 $(O)/vmattest-policy $(DESTDIR)$(BINDIR)/vmattest-policy
	install -D -m 0644 agent/vmattest.8 $(DESTDIR)$(MANDIR)/man8/vmattest.8
	install -D -m 0644 verifier/vmattest-verifier.8 $(DESTDIR)$(MANDIR)/man8/vmattest-verifier.8
	install -D -m 0644 agent/vmattest.conf.5 $(DESTDIR)$(MANDIR)/man5/vmattest.conf.5
	install -D -m 0644 verifier/vmattest-verifier.conf.5 $(DESTDIR)$(MANDIR)/man5/vmattest-verifier.conf.5
	install -D -m 0644 initrd/vmattest-dracut.7 $(DESTDIR)$(MANDIR)/man7/vmattest-dracut.7
	install -D -m 0644 policy/vmattest-policy.1 $(DESTDIR)$(MANDIR)/man1/vmattest-policy.1
	install -D -m 0644 agent/agent.conf $(DESTDIR)/etc/vmattest/agent.conf.example
	install -D -m 0644 verifier/verifier.conf $(DESTDIR)/etc/vmattest/verifier.conf.example
	# Intel's SGX root CA, the root of every TDX quote's PCK chain, where the verifier looks
	# (verifier/tdx_verify.h: TDX_INTEL_ROOT_FILE, whatever PREFIX); the code pins its SHA-256
	install -D -m 0644 tests/fixtures/platforms/tdx/trusted_root.pem $(DESTDIR)/usr/share/vmattest/intel/sgx_root_ca.pem
	$(call install_once,packaging/agent.conf,/etc/vmattest/agent.conf)
	$(call install_once,verifier/verifier.conf,/etc/vmattest/verifier.conf)
	# the IMA policy unlock loads by default
	$(call install_once,ima-policy/vmattest.policy,/etc/vmattest/ima-policy)
	install -d $(MODULE_DIR) $(DESTDIR)$(SYSTEMDSYSTEMUNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	$(call install_bindir,initrd/90vmattest/module-setup.sh,$(MODULE_DIR)/module-setup.sh,0755)
	install -m 0644 initrd/90vmattest/vmattest-unlock.service initrd/90vmattest/vmattest-leave-initrd.service \
		initrd/90vmattest/99-vmattest-dhcp.network $(MODULE_DIR)/
	$(call install_bindir,packaging/systemd/vmattest.service,$(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/vmattest.service,0644)
	$(call install_bindir,packaging/systemd/vmattest-verifier.service,$(DESTDIR)$(SYSTEMDSYSTEMUNITDIR)/vmattest-verifier.service,0644)
	install -m 0644 packaging/systemd/vmattest.sysusers $(DESTDIR)$(SYSUSERSDIR)/vmattest.conf
	install -m 0644 packaging/systemd/vmattest-verifier.sysusers $(DESTDIR)$(SYSUSERSDIR)/vmattest-verifier.conf
	install -m 0644 packaging/systemd/vmattest.tmpfiles $(DESTDIR)$(TMPFILESDIR)/vmattest.conf
	install -d $(DESTDIR)$(AMDCERTSDIR)
	install -m 0644 verifier/amd/ask_ark_milan.pem verifier/amd/ask_ark_genoa.pem verifier/amd/ask_ark_turin_vcek.pem \
		$(DESTDIR)$(AMDCERTSDIR)/
	install -d $(DESTDIR)$(CLOUDINITSCRIPTSDIR)
	$(call install_bindir,packaging/cloud-init/vmattest-first-boot,$(DESTDIR)$(CLOUDINITSCRIPTSDIR)/vmattest-first-boot,0755)

# The host's side (vmattest-host, for the provider's hypervisor hosts, not the guests nor the
# tenant's verifier): the binary, its man page, the example configuration and the libvirt hook
# (/etc/libvirt/hooks/qemu, naming the binary in BINDIR; a hook that is there already, another
# program's, is kept and the script goes to qemu.d/, which libvirt 6.5 and later also runs); a
# host.conf that is there already is kept. Apart from `install` (and the packages), which are
# for the guest's and the tenant's machines.
HOOK_DIR = $(DESTDIR)/etc/libvirt/hooks
install-host: $(O)/vmattest-host
	install -D -m 0755 $(O)/vmattest-host $(DESTDIR)$(BINDIR)/vmattest-host
	install -D -m 0644 host/vmattest-host.8 $(DESTDIR)$(MANDIR)/man8/vmattest-host.8
	install -D -m 0644 host/host.conf $(DESTDIR)/etc/vmattest/host.conf.example
	$(call install_once,host/host.conf,/etc/vmattest/host.conf)
	install -d $(HOOK_DIR)/qemu.d
	sed 's|/usr/bin/vmattest-host|$(BINDIR)/vmattest-host|' host/libvirt-hook-qemu >$(HOOK_DIR)/vmattest.tmp
	chmod 0755 $(HOOK_DIR)/vmattest.tmp
	if [ -e $(HOOK_DIR)/qemu ] && ! grep -q 'vmattest-host hook' $(HOOK_DIR)/qemu; then \
		mv $(HOOK_DIR)/vmattest.tmp $(HOOK_DIR)/qemu.d/vmattest; \
	else mv $(HOOK_DIR)/vmattest.tmp $(HOOK_DIR)/qemu; fi

# build/vmattest-VERSION.tar.gz: the tracked files of the work tree, reproducibly (scripts/dist.sh)
DIST := build/vmattest-$(VERSION).tar.gz
dist:
	scripts/dist.sh

# The Debian packages, in build/deb. Debian builds a release from its tarball (renamed
# vmattest_VERSION.orig.tar.gz) with debian/ beside the sources; upstream keeps that directory in
# packaging/debian so that it never stands in a distribution's way (its own debian/ replaces
# ours), and the build copies it into the unpacked tarball: dh writes into debian/, and the
# work tree stays clean. DEB_BUILD_OPTIONS=nocheck skips the unit tests.
DEB_DIR := build/deb
deb: dist
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	cp $(DIST) $(DEB_DIR)/vmattest_$(VERSION).orig.tar.gz
	tar -xzf $(DIST) -C $(DEB_DIR)
	cp -R $(DEB_DIR)/vmattest-$(VERSION)/packaging/debian $(DEB_DIR)/vmattest-$(VERSION)/debian
	cd $(DEB_DIR)/vmattest-$(VERSION) && dpkg-buildpackage -us -uc -b

# The RPMs, in build/rpm/RPMS, from the same tarball. RPMBUILD_FLAGS=--nodeps builds where the
# BuildRequires are not rpm packages (Debian: the tests).
rpm: dist
	rm -rf build/rpm && mkdir -p build/rpm/SOURCES
	cp $(DIST) build/rpm/SOURCES/
	rpmbuild -bb --define '_topdir $(CURDIR)/build/rpm' $(RPMBUILD_FLAGS) packaging/rpm/vmattest.spec

clean:
	rm -rf build/release build/asan build/fuzz build/deb build/rpm $(DIST)

# only the variants' own dependency files (build/deb and build/rpm hold other trees)
-include $(shell find build/release build/asan build/fuzz -name '*.d' -type f 2>/dev/null)
