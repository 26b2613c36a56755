/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * sd_version.h - the version of sev-donate: the one place it is written.
 *
 * The library's soname is libsev-donate.so.SD_LIB_VERSION_MAJOR; the
 * Makefile, the pkg-config file, `sev-donate --version` and the kernel
 * module's MODULE_VERSION all take it from here (debian/changelog must
 * agree: tests/scripts/test-version.sh checks). Independent of the table's
 * ABI version (SD_ABI_MAJOR/MINOR in sev_donate.h) and the migration
 * stream's (docs/STREAM.md).
 */
#ifndef SD_VERSION_H
#define SD_VERSION_H

#define SD_LIB_VERSION_MAJOR	1
#define SD_LIB_VERSION_MINOR	0
#define SD_LIB_VERSION_PATCH	0

/* One number for comparisons: 0xMMmmpp. */
#define SD_LIB_VERSION							\
	((SD_LIB_VERSION_MAJOR << 16) | (SD_LIB_VERSION_MINOR << 8) | SD_LIB_VERSION_PATCH)

#define SD__VSTR(x)		#x
#define SD__VXSTR(x)		SD__VSTR(x)
/* "1.0.0" */
#define SD_LIB_VERSION_STRING						\
	SD__VXSTR(SD_LIB_VERSION_MAJOR) "." SD__VXSTR(SD_LIB_VERSION_MINOR) "."	\
	SD__VXSTR(SD_LIB_VERSION_PATCH)

#endif /* SD_VERSION_H */
