# SPDX-License-Identifier: GPL-2.0 OR MIT
# proto/: the freestanding core both sides share.
SD_SRCS += proto/layout.c proto/bitmap.c proto/validate.c proto/errname.c
