/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * guest_image.S - embeds a test guest's ELF image (SD_GUEST_ELF, a path
 * string given by the Makefile) in the host test program, so one binary
 * carries both halves of a test.
 */
	.section .rodata.sd_guest_image, "a"
	.balign 64
	.globl sd_guest_image
sd_guest_image:
	.incbin SD_GUEST_ELF
	.globl sd_guest_image_end
sd_guest_image_end:

	.section .note.GNU-stack, "", @progbits
