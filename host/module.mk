# SPDX-License-Identifier: GPL-2.0 OR MIT
# host/: registration and the bounded reader (freestanding; SPEC.md 3, 5, 6).
SD_SRCS += host/register.c host/reader.c host/walk.c host/flat.c
