// SPDX-License-Identifier: GPL-2.0
/* mmrepro env */
#include "mmrepro/commands.h"
#include "mmrepro/env.h"
#include "mmrepro/runner.h"
#include "mmrepro/settings.h"
#include "mmrepro/util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int mmr_cmd_env(int argc, char **argv)
{
	json_t *fp;
	unsigned restored = 0;
	bool had = false;

	if (argc > 1) {
		FILE *f = strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? stderr : stdout;

		fprintf(f,
			"usage: mmrepro env\n\n"
			"Print the fingerprint of this machine and kernel as JSON: uname, kernel\n"
			"command line, the kernel config options that matter for mm measurements,\n"
			"CPU, hwloc topology, NUMA nodes, memory, virtualization, CPU mitigations,\n"
			"every THP/mTHP/hugetlb knob and feature probes (mTHP sysfs and stats,\n"
			"MADV_POPULATE_WRITE, MADV_COLLAPSE, io_uring, kpageflags, PAGEMAP_SCAN).\n"
			"Every report embeds the same object. A leftover settings journal is\n"
			"restored first, so the knobs shown are the machine's own.\n\n%s",
			mmr_exit_codes_help);
		return f == stdout ? MMR_EXIT_OK : MMR_EXIT_USAGE;
	}
	if (geteuid() == 0 && mmr_recover_only(&restored, &had))
		return MMR_EXIT_RESTORE;
	fp = mmr_fingerprint();
	json_dumpf(fp, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(fp);
	return MMR_EXIT_OK;
}
