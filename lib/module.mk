# SPDX-License-Identifier: GPL-2.0 OR MIT
# lib/: libsev-donate, the library other projects link (proto/, guest/ and
# host/ built position-independent), its pkg-config file, and installing
# everything:
#
#   make install   [DESTDIR=...] [PREFIX=/usr/local] [LIBDIR=$(PREFIX)/lib] [...]
#   make uninstall (the same variables)
#
# The usual variables are honoured: DESTDIR, PREFIX (prefix), exec_prefix,
# bindir, LIBDIR (libdir), includedir, mandir, docdir, pkgconfigdir, dkmsdir,
# and CC, CFLAGS, CPPFLAGS, LDFLAGS; WERROR= turns -Werror off, CPU_FLAGS=
# builds for any x86-64 (the default uses POPCNT). The version is
# include/sd_version.h's, the only place it is written.
sd_version_part = $(shell sed -n 's/^\#define SD_LIB_VERSION_$(1)[[:space:]]*\([0-9][0-9]*\).*/\1/p' \
			include/sd_version.h)
VERSION := $(call sd_version_part,MAJOR).$(call sd_version_part,MINOR).$(call sd_version_part,PATCH)
SOVERSION := $(call sd_version_part,MAJOR)

PREFIX		?= /usr/local
prefix		?= $(PREFIX)
exec_prefix	?= $(prefix)
bindir		?= $(exec_prefix)/bin
LIBDIR		?= $(exec_prefix)/lib
libdir		?= $(LIBDIR)
includedir	?= $(prefix)/include
datarootdir	?= $(prefix)/share
mandir		?= $(datarootdir)/man
docdir		?= $(datarootdir)/doc/sev-donate
pkgconfigdir	?= $(libdir)/pkgconfig
dkmsdir		?= /usr/src
INSTALL		?= install

# ---- the library -----------------------------------------------------------
PIC_OBJS := $(patsubst %.c,$(BUILD)/pic/%.o,$(SD_SRCS) $(SD_ENV_SRCS))
LIB_SO := $(BUILD)/libsev-donate.so.$(VERSION)
LIB_A := $(BUILD)/libsev-donate.a
LIB_MAP := lib/libsev-donate.map
# What a consumer includes: only these, all of them, installed in one directory.
LIB_HEADERS := include/sev_donate.h include/sd_api_types.h include/sd_version.h \
	       host/sd_host.h guest/sd_guest.h

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(Q),@echo "  CC [PIC] $@")
	$(Q)$(CC) $(USER_CFLAGS) -fPIC -MMD -MP -c $< -o $@

# Only the API is exported (the version script); every symbol resolves (-z defs).
$(LIB_SO): $(PIC_OBJS) $(LIB_MAP)
	$(if $(Q),@echo "  LD [SO] $@")
	$(Q)$(CC) -shared -Wl,-soname,libsev-donate.so.$(SOVERSION) \
		-Wl,--version-script=$(LIB_MAP) -Wl,-z,defs -Wl,-z,relro -Wl,-z,now \
		$(SAN_FLAGS) $(LDFLAGS) -o $@ $(PIC_OBJS)
	$(Q)ln -sfn $(notdir $@) $(BUILD)/libsev-donate.so.$(SOVERSION)
	$(Q)ln -sfn $(notdir $@) $(BUILD)/libsev-donate.so

$(LIB_A): $(PIC_OBJS)
	$(if $(Q),@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# The .pc file names the directories of the install it belongs to: written
# at install time, from the same variables.
pc_subst = sed -e 's|@prefix@|$(prefix)|' -e 's|@libdir@|$(libdir)|' \
	       -e 's|@includedir@|$(includedir)|' -e 's|@VERSION@|$(VERSION)|' lib/sev-donate.pc.in

# The manual, with the version filled in.
MAN_PAGE := $(BUILD)/sev-donate.1
$(MAN_PAGE): docs/man/sev-donate.1 include/sd_version.h
	$(Q)sed 's|@VERSION@|$(VERSION)|' $< > $@

BINS += $(LIB_SO) $(LIB_A) $(MAN_PAGE)
-include $(PIC_OBJS:.o=.d)

# ---- installing --------------------------------------------------------------
DOCS := README.md SPEC.md docs/STREAM.md docs/VMM-INTEGRATION.md LICENSE

#> installables       build only what install installs (a package's build step: debian/rules)
installables: $(CLI_BIN) $(LIB_SO) $(LIB_A) $(MAN_PAGE)

#> install            install the CLI, the library (.so with soname, .a, .pc), headers, manual, docs
install: $(CLI_BIN) $(LIB_SO) $(LIB_A) $(MAN_PAGE)
	$(INSTALL) -d $(DESTDIR)$(bindir) $(DESTDIR)$(libdir) $(DESTDIR)$(pkgconfigdir) \
		$(DESTDIR)$(includedir)/sev-donate $(DESTDIR)$(mandir)/man1 $(DESTDIR)$(docdir)
	$(INSTALL) -m 755 $(CLI_BIN) $(DESTDIR)$(bindir)/sev-donate
	$(INSTALL) -m 644 $(LIB_SO) $(DESTDIR)$(libdir)/
	ln -sfn libsev-donate.so.$(VERSION) $(DESTDIR)$(libdir)/libsev-donate.so.$(SOVERSION)
	ln -sfn libsev-donate.so.$(SOVERSION) $(DESTDIR)$(libdir)/libsev-donate.so
	$(INSTALL) -m 644 $(LIB_A) $(DESTDIR)$(libdir)/
	$(pc_subst) > $(DESTDIR)$(pkgconfigdir)/sev-donate.pc
	$(INSTALL) -m 644 $(LIB_HEADERS) $(DESTDIR)$(includedir)/sev-donate/
	$(INSTALL) -m 644 $(MAN_PAGE) $(DESTDIR)$(mandir)/man1/
	$(INSTALL) -m 644 $(DOCS) LICENSES/* $(DESTDIR)$(docdir)/

#> install-dkms       install the kernel module's sources for DKMS in $(dkmsdir)/sev-donate-VERSION
install-dkms:
	$(INSTALL) -d $(DESTDIR)$(dkmsdir)/sev-donate-$(VERSION)
	for f in $(KMOD_SOURCES); do \
		$(INSTALL) -D -m 644 $$f $(DESTDIR)$(dkmsdir)/sev-donate-$(VERSION)/$$f || exit 1; done
	sed 's|@VERSION@|$(VERSION)|' guest/linux/dkms.conf.in \
		> $(DESTDIR)$(dkmsdir)/sev-donate-$(VERSION)/dkms.conf
	$(INSTALL) -m 644 LICENSE $(DESTDIR)$(dkmsdir)/sev-donate-$(VERSION)/

#> uninstall          remove what install and install-dkms put there
uninstall:
	rm -f $(DESTDIR)$(bindir)/sev-donate $(DESTDIR)$(libdir)/libsev-donate.so* \
	      $(DESTDIR)$(libdir)/libsev-donate.a $(DESTDIR)$(pkgconfigdir)/sev-donate.pc \
	      $(DESTDIR)$(mandir)/man1/sev-donate.1
	rm -rf $(DESTDIR)$(includedir)/sev-donate $(DESTDIR)$(docdir) \
	       $(DESTDIR)$(dkmsdir)/sev-donate-$(VERSION)

.PHONY: installables install install-dkms uninstall
