// SPDX-License-Identifier: GPL-2.0
/* mmrepro run */
#include "mmrepro/commands.h"
#include "mmrepro/config.h"
#include "mmrepro/report.h"
#include "mmrepro/runner.h"
#include "mmrepro/settings.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: mmrepro run <config.json | suite | workload> [options]\n\n"
		"Run every case of a config file, a suite from configs/suites (e.g. `quick`), or\n"
		"one workload with its defaults (e.g. `fork_anon`). Knobs a case needs are set\n"
		"under a journal and restored afterwards, on errors and on signals too.\n"
		"A case that runs past its `timeout` (default 10m), or reports no progress for\n"
		"its `stall_timeout` (default: the workload's, e.g. 30s for io_remap; 0 or off:\n"
		"none), is a hang: its tasks' kernel stacks go into the report, it is killed\n"
		"and the run goes on (also when a task stuck in the kernel cannot die).\n\n"
		"Options:\n"
		"  -s, --set KEY=VALUE   override, with the config's own parser: a parameter\n"
		"                        (size=512M), a harness key (repetitions=5, warmup=1,\n"
		"                        timeout=10m, stall_timeout=30s, cpu=1,\n"
		"                        layout_tolerance=0.01, seed=7) or a knob\n"
		"                        (settings.thp.enabled=madvise); repeatable; a\n"
		"                        parameter set here is not swept by the config's matrix\n"
		"  -o, --output FILE     the JSON report (default:\n"
		"                        reports/runs/<name>-<kernel>-<time>.json)\n"
		"      --scale S         ci | default | full: scale the workloads' main sizes,\n"
		"                        default or from the config (not those given with\n"
		"                        --set): ci /16, full x4; a case that still does not\n"
		"                        fit memory is halved until it does\n"
		"  -n, --dry-run         validate and plan only: print each case, its footprint,\n"
		"                        the knobs it would set, or why it would skip\n"
		"      --json            print the report on stdout instead of the table\n"
		"  -q, --quiet           no progress lines or table\n"
		"  -v, --verbose         also show the workloads' log lines\n"
		"  -h, --help            this text\n\n"
		"Environment: MMREPRO_LOCK_WAIT=<seconds> queue behind another running mmrepro;\n"
		"MMREPRO_MEM_MARGIN=<size> keep more memory free than the default margin\n"
		"(max(1G, 10%% of RAM)); MMREPRO_STATE_DIR holds the lock and journal\n"
		"(default /run/mmrepro).\n\n%s",
		mmr_exit_codes_help);
}

static int dry_run(struct mmr_config *cfg)
{
	struct mmr_plan *plans = calloc(cfg->ncases ? cfg->ncases : 1, sizeof(*plans));
	json_t *guard = NULL;
	int fits;

	if (!plans)
		return MMR_EXIT_INTERNAL;
	fits = mmr_plan_all(cfg, plans, &guard);
	for (size_t i = 0; i < cfg->ncases; i++) {
		char fp[32];
		char *settings;

		mmr_format_value((double)plans[i].footprint, "bytes", fp, sizeof(fp));
		settings = json_dumps(plans[i].settings, JSON_COMPACT | JSON_SORT_KEYS);
		printf("[%zu/%zu] %s\n    footprint %s, %u reps + %u warm-up, settings %s\n", i + 1,
		       cfg->ncases, cfg->cases[i].id, fp, cfg->cases[i].reps, cfg->cases[i].warmup,
		       settings ? settings : "{}");
		free(settings);
		if (plans[i].invalid)
			printf("    would be invalid: %s\n", plans[i].invalid);
		else if (plans[i].skip)
			printf("    would skip: %s\n", plans[i].skip);
		mmr_plan_free(&plans[i]);
	}
	json_decref(guard);
	free(plans);
	if (fits == -ENOMEM)
		return MMR_EXIT_REFUSED;
	return fits ? MMR_EXIT_INTERNAL : MMR_EXIT_OK;
}

int mmr_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "set", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "scale", required_argument, NULL, 'S' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mmr_overrides ov = { 0 };
	struct mmr_run_opts ro = { .argc = argc, .argv = argv };
	struct mmr_config cfg;
	enum mmr_scale scale = MMR_SCALE_DEFAULT;
	bool scale_given = false, dry = false;
	char err[2048];
	int c, ret;

	while ((c = getopt_long(argc, argv, "s:o:nqvh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (mmr_overrides_add(&ov, optarg, err, sizeof(err))) {
				mmr_err("%s", err);
				mmr_overrides_free(&ov);
				return MMR_EXIT_USAGE;
			}
			break;
		case 'o':
			ro.output = optarg;
			break;
		case 'S':
			if (mmr_scale_parse(optarg, &scale)) {
				mmr_err("--scale %s: expected one of ci|default|full", optarg);
				mmr_overrides_free(&ov);
				return MMR_EXIT_USAGE;
			}
			scale_given = true;
			break;
		case 'n':
			dry = true;
			break;
		case 'j':
			ro.json_stdout = true;
			break;
		case 'q':
			ro.quiet = true;
			break;
		case 'v':
			mmr_verbose = 1;
			break;
		case 'h':
			run_usage(stdout);
			mmr_overrides_free(&ov);
			return MMR_EXIT_OK;
		default:
			run_usage(stderr);
			mmr_overrides_free(&ov);
			return MMR_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		mmr_err(optind == argc
				? "run: which config, suite or workload? (see `mmrepro run --help`)"
				: "run: one config, suite or workload at a time");
		mmr_overrides_free(&ov);
		return MMR_EXIT_USAGE;
	}
	/* a run killed by SIGKILL is undone first: the config is checked, and a
	 * dry run planned, against the machine's own settings */
	if (mmr_recover_if_idle()) {
		mmr_err("a knob left by an mmrepro that did not finish could not be restored; "
			"see `mmrepro restore`");
		mmr_overrides_free(&ov);
		return MMR_EXIT_RESTORE;
	}
	ret = mmr_config_load(argv[optind], &ov, scale, scale_given, &cfg, err, sizeof(err));
	if (ret) {
		mmr_err("%s", err);
		mmr_overrides_free(&ov);
		return ret == -EINVAL ? MMR_EXIT_USAGE : MMR_EXIT_INTERNAL;
	}
	ret = dry ? dry_run(&cfg) : mmr_run(&cfg, &ro);
	mmr_config_free(&cfg);
	mmr_overrides_free(&ov);
	return ret;
}
