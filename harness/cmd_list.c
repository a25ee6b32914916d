// SPDX-License-Identifier: GPL-2.0
/* mmrepro list */
#include "mmrepro/commands.h"
#include "mmrepro/params.h"
#include "mmrepro/registry.h"
#include "mmrepro/runner.h"
#include "mmrepro/settings.h"
#include "mmrepro/util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char *const need_names[] = {
	"root", "thp", "mthp", "hugetlb", "io_uring", "kpageflags"
};

static json_t *workload_json(const struct mmr_workload *w)
{
	json_t *o = json_object(), *params = json_array(), *metrics = json_array(),
	       *needs = json_array();

	for (const struct mmr_param *p = w->params; p->name; p++) {
		json_t *e = json_pack("{s:s,s:s,s:s,s:s}", "name", p->name, "type",
				      mmr_type_name(p->type), "default", p->def, "help", p->help);

		json_object_set_new(e, "min", p->min ? json_string(p->min) : json_null());
		json_object_set_new(e, "max", p->max ? json_string(p->max) : json_null());
		if (p->choices) {
			json_t *ch = json_array();

			for (size_t i = 0; p->choices[i]; i++)
				json_array_append_new(ch, json_string(p->choices[i]));
			json_object_set_new(e, "choices", ch);
		}
		json_object_set_new(e, "scaled", json_boolean(p->flags & MMR_P_SCALED));
		json_array_append_new(params, e);
	}
	for (const struct mmr_metric *m = w->metrics; m->name; m++)
		json_array_append_new(metrics,
				      json_pack("{s:s,s:s,s:s,s:s}", "name", m->name, "unit",
						m->unit, "direction",
						m->direction == MMR_HIGHER_IS_BETTER  ? "higher"
						: m->direction == MMR_LOWER_IS_BETTER ? "lower"
										      : "info",
						"help", m->help));
	for (size_t i = 0; i < MMR_ARRAY_SIZE(need_names); i++)
		if (w->needs & (1u << i))
			json_array_append_new(needs, json_string(need_names[i]));
	json_object_set_new(o, "name", json_string(w->name));
	json_object_set_new(o, "summary", json_string(w->summary));
	json_object_set_new(o, "claims", w->claims ? json_string(w->claims) : json_null());
	json_object_set_new(o, "needs", needs);
	json_object_set_new(o, "default_repetitions",
			    json_integer(w->default_reps ? w->default_reps : 10));
	json_object_set_new(o, "params", params);
	json_object_set_new(o, "metrics", metrics);
	return o;
}

static void print_workload(const struct mmr_workload *w)
{
	char expected[512];

	printf("%s — %s\n", w->name, w->summary);
	if (w->claims)
		printf("  reproduces: %s (see CLAIMS.md)\n", w->claims);
	printf("  needs:");
	if (!w->needs)
		printf(" nothing special");
	for (size_t i = 0; i < MMR_ARRAY_SIZE(need_names); i++)
		if (w->needs & (1u << i))
			printf(" %s", need_names[i]);
	printf("\n  default repetitions: %u\n  parameters:\n",
	       w->default_reps ? w->default_reps : 10);
	for (const struct mmr_param *p = w->params; p->name; p++) {
		mmr_param_expected(p, expected, sizeof(expected));
		printf("    %-14s %-6s default %-10s %s%s\n", p->name, mmr_type_name(p->type),
		       p->def, p->help, (p->flags & MMR_P_SCALED) ? " (follows --scale)" : "");
		printf("    %-14s %-6s         %-10s %s\n", "", "", "", expected);
	}
	printf("  metrics:\n");
	for (const struct mmr_metric *m = w->metrics; m->name; m++)
		printf("    %-24s %-8s %-7s %s\n", m->name, m->unit,
		       m->direction == MMR_HIGHER_IS_BETTER  ? "higher"
		       : m->direction == MMR_LOWER_IS_BETTER ? "lower"
							     : "info",
		       m->help);
	printf("\n");
}

int mmr_cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, json = false;
	json_t *arr;
	int c, ret = MMR_EXIT_OK;

	while ((c = getopt_long(argc, argv, "ajh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			printf("usage: mmrepro list [--all] [--json] [workload...]\n\n"
			       "Show each workload: what it reproduces, what it needs, its parameters\n"
			       "(type, default, range, help) and its metrics (unit, which direction is\n"
			       "better). --all also shows the harness's self-test workloads.\n\n"
			       "Settings a config may change (\"settings\": {knob: value}):\n");
			for (size_t i = 0; mmr_knob_patterns[i]; i++)
				printf("  %s\n", mmr_knob_patterns[i]);
			printf("\n%s", mmr_exit_codes_help);
			return MMR_EXIT_OK;
		default:
			return MMR_EXIT_USAGE;
		}
	}
	arr = json_array();
	for (int i = optind; i < argc; i++) {
		const struct mmr_workload *w = mmr_workload_find(argv[i]);

		if (!w) {
			mmr_err("list: unknown workload \"%s\"", argv[i]);
			ret = MMR_EXIT_USAGE;
			continue;
		}
		json_array_append_new(arr, workload_json(w));
		if (!json)
			print_workload(w);
	}
	for (size_t i = 0; optind == argc && i < mmr_workload_count(); i++) {
		const struct mmr_workload *w = mmr_workload_at(i);

		if (w->hidden && !all)
			continue;
		json_array_append_new(arr, workload_json(w));
		if (!json)
			print_workload(w);
	}
	if (json) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	json_decref(arr);
	return ret;
}
