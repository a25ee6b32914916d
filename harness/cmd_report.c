// SPDX-License-Identifier: GPL-2.0
/* mmrepro report */
#include "mmrepro/commands.h"
#include "mmrepro/compare.h"

#include <stdio.h>

static void report_usage(FILE *f)
{
	fprintf(f, "usage: mmrepro report [options] REPORT.json\n\n"
		   "Render one report in the formats of `mmrepro compare`, without a\n"
		   "comparison: per case and metric the median, the 95%% CI of the median,\n"
		   "CoV and n. The report is checked against reports/report.schema.json first.\n\n"
		   "Options:\n"
		   "  -m, --metric GLOB      only metrics whose name matches (repeatable)\n"
		   "  -f, --format FMT       stdout format: text (default), markdown, json, html,\n"
		   "                         bencher, gab-smaller, gab-bigger\n"
		   "      --text FILE, --markdown FILE, --json FILE, --html FILE,\n"
		   "      --bencher FILE, --gab-smaller FILE, --gab-bigger FILE\n"
		   "                         also write that format to FILE (`-`: stdout)\n"
		   "  -h, --help             this text\n\n"
		   "Exit codes: 0 rendered; 2 bad command line; 5 an output could not be\n"
		   "written; 8 the report is empty, truncated, not JSON or not valid against\n"
		   "the schema; 9 it was written for another schema_version.\n");
}

int mmr_cmd_report(int argc, char **argv)
{
	return mmr_cmp_main(argc, argv, true, report_usage);
}
