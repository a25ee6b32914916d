// SPDX-License-Identifier: GPL-2.0
/* mmrepro restore */
#include "mmrepro/commands.h"
#include "mmrepro/runner.h"
#include "mmrepro/settings.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int mmr_cmd_restore(int argc, char **argv)
{
	unsigned restored = 0;
	bool had = false;
	int ret;

	if (argc > 1) {
		FILE *f = strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? stderr : stdout;

		fprintf(f,
			"usage: mmrepro restore\n\n"
			"Put back every kernel knob recorded in the settings journal that an\n"
			"mmrepro killed with SIGKILL (or a crashed machine) left in %s, kill\n"
			"the case processes it recorded, remove the SysV segments, files and\n"
			"cgroups its cases recorded (resources-<pid>.json), and remove the\n"
			"journal. Every other mmrepro command that changes knobs does this\n"
			"first on its own.\n\n%s",
			mmr_state_dir(), mmr_exit_codes_help);
		return f == stdout ? MMR_EXIT_OK : MMR_EXIT_USAGE;
	}
	ret = mmr_recover_only(&restored, &had);
	if (ret == -EBUSY) {
		mmr_err("another mmrepro is running and owns the journal; it restores on its own");
		return MMR_EXIT_REFUSED;
	}
	if (ret) {
		mmr_err("restore failed: %s", strerror(-ret));
		return MMR_EXIT_RESTORE;
	}
	if (!had)
		printf("nothing to restore: no journal in %s\n", mmr_state_dir());
	else
		printf("restored %u knob(s)\n", restored);
	return MMR_EXIT_OK;
}
