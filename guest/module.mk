# SPDX-License-Identifier: GPL-2.0 OR MIT
# guest/: the guest-side writer. Freestanding; needs two environment hooks.
SD_SRCS += guest/table.c guest/register.c
FS_ALLOWED += sd_env_lock sd_env_unlock
# A spinning lock for environments that never sleep: linked into libsd.a
# (userspace) and the KVM test guest, compiled freestanding but kept out of
# the freestanding proof so the hooks it resolves stay visible there.
SD_ENV_SRCS += guest/env/spinlock.c
