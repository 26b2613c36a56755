// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * test_guest_policy.c - sev_donate.ko's registration decision
 * (guest/linux/sd_reg_policy.h), compiled here in userspace: every
 * combination of encrypted memory, the test-only register_incomplete
 * parameter and a transport. make linux-check runs the same function in
 * the module (unencrypted, no transport under QEMU's TCG).
 */
#include <stdio.h>
#include "sd_test.h"
#include "../../guest/linux/sd_reg_policy.h"

static const char *action_name(enum sdl_reg_action a)
{
	switch (a) {
	case SDL_REG_NO_TRANSPORT:
		return "no transport";
	case SDL_REG_CLEAR_ONLY:
		return "clear only";
	case SDL_REG_REGISTER:
		return "register";
	case SDL_REG_REGISTER_INCOMPLETE:
		return "register incomplete";
	}
	return "?";
}

static void every_combination_has_its_action(void **state)
{
	static const struct {
		bool encrypted, incomplete, transport;
		enum sdl_reg_action want;
	} cases[] = {
		/* No transport: nothing to write to, whatever else holds. */
		{ false, false, false, SDL_REG_NO_TRANSPORT },
		{ false, true, false, SDL_REG_NO_TRANSPORT },
		{ true, false, false, SDL_REG_NO_TRANSPORT },
		{ true, true, false, SDL_REG_NO_TRANSPORT },
		/* Unencrypted: the module's own conversions are all there are; the parameter is moot. */
		{ false, false, true, SDL_REG_REGISTER },
		{ false, true, true, SDL_REG_REGISTER },
		/* Encrypted: the table misses the kernel's conversions; only the test switch registers it. */
		{ true, false, true, SDL_REG_CLEAR_ONLY },
		{ true, true, true, SDL_REG_REGISTER_INCOMPLETE },
	};

	(void)state;
	for (unsigned i = 0; i < SD_ARRAY_SIZE(cases); i++) {
		enum sdl_reg_action got = sdl_reg_decide(cases[i].encrypted, cases[i].incomplete,
							 cases[i].transport);

		print_message("encrypted=%d register_incomplete=%d transport=%d: %s\n",
			      cases[i].encrypted, cases[i].incomplete, cases[i].transport,
			      action_name(got));
		if (got != cases[i].want)
			fail_msg("case %u: %s, want %s", i, action_name(got),
				 action_name(cases[i].want));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_combination_has_its_action),
	};

	return cmocka_run_group_tests_name("guest/linux: registration policy", tests, NULL, NULL)
		? 1 : 0;
}
