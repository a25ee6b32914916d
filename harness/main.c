// SPDX-License-Identifier: GPL-2.0
/* mmrepro: dispatch to a subcommand. */
#include "mmrepro/commands.h"
#include "mmrepro/registry.h"
#include "mmrepro/runner.h"
#include "mmrepro/util.h"

#include <stdio.h>
#include <string.h>

#ifndef MMREPRO_VERSION
#define MMREPRO_VERSION "0.0.0"
#endif
#ifndef MMREPRO_GIT
#define MMREPRO_GIT "unknown"
#endif

const char mmr_exit_codes_help[] =
	"Exit codes:\n"
	"  0    every case ok or skipped (skips carry their reason in the report)\n"
	"  1    at least one case failed or was invalid (layout not as requested)\n"
	"  2    bad command line or config; nothing on the system was changed\n"
	"  3    refused before starting: does not fit the memory guard, or another\n"
	"       mmrepro holds the run lock; nothing was changed\n"
	"  4    a kernel knob could not be restored; the journal is kept for\n"
	"       `mmrepro restore`\n"
	"  5    internal or I/O error (e.g. the report could not be written)\n"
	"  6..9 compare/report: regression, not comparable, unreadable report,\n"
	"       other schema_version (see `mmrepro compare --help`)\n"
	"  10   vm: the guest failed (panicked, never answered, timed out, or sent\n"
	"       garbage); its console log says more\n"
	"  128+N  stopped by signal N; knobs restored, partial report written\n";

static const struct mmr_command commands[] = {
	{ "run", mmr_cmd_run, "run a config file, a suite or a workload with its defaults" },
	{ "list", mmr_cmd_list, "show workloads with their parameters and metrics" },
	{ "env", mmr_cmd_env, "print the fingerprint of this machine and kernel as JSON" },
	{ "restore", mmr_cmd_restore, "put back every knob recorded in a leftover journal" },
	{ "compare", mmr_cmd_compare, "compare reports: verdict per metric, for mail and CI" },
	{ "report", mmr_cmd_report, "render one report as text, markdown, JSON or HTML" },
	{ "vm", mmr_cmd_vm, "boot a kernel image under qemu and run mmrepro inside it" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mmrepro [--version] [--help] <command> [<args>]\n\n"
		   "Workloads from linux-mm threads, measured on the running kernel, reported as\n"
		   "JSON that two kernels can be compared with.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < MMR_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun `mmrepro <command> --help` for its options.\n\n%s", mmr_exit_codes_help);
}

int main(int argc, char **argv)
{
	if (mmr_registry_check())
		return MMR_EXIT_INTERNAL;
	if (argc < 2) {
		usage(stderr);
		return MMR_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return MMR_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("mmrepro %s (%s)\n", MMREPRO_VERSION, MMREPRO_GIT);
		return MMR_EXIT_OK;
	}
	for (size_t i = 0; i < MMR_ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	{
		const char *names[MMR_ARRAY_SIZE(commands)];
		const char *near;

		for (size_t i = 0; i < MMR_ARRAY_SIZE(commands); i++)
			names[i] = commands[i].name;
		near = mmr_did_you_mean(argv[1], names, MMR_ARRAY_SIZE(commands));
		mmr_err("unknown command \"%s\"%s%s%s; see `mmrepro --help`", argv[1],
			near ? " (did you mean \"" : "", near ? near : "", near ? "\"?)" : "");
	}
	return MMR_EXIT_USAGE;
}
