// SPDX-License-Identifier: GPL-2.0
/* mmrepro compare */
#include "mmrepro/commands.h"
#include "mmrepro/compare.h"

#include <stdio.h>

const char mmr_cmp_exit_codes_help[] =
	"Exit codes:\n"
	"  0    no regression beyond --fail-on (improvements and ~ are fine)\n"
	"  2    bad command line\n"
	"  5    internal or I/O error (e.g. an output could not be written)\n"
	"  6    a significant regression beyond --fail-on\n"
	"  7    not comparable: a matched case's parameters differ, the accelerators\n"
	"       differ (both need --force), or no case in common\n"
	"  8    a report is unreadable: empty, truncated, not JSON, or not valid\n"
	"       against reports/report.schema.json\n"
	"  9    a report was written for another schema_version\n";

static void compare_usage(FILE *f)
{
	fprintf(f,
		"usage: mmrepro compare [options] BASE.json NEW.json [MORE.json...]\n\n"
		"Compare reports of the same config, typically an unpatched and a patched\n"
		"kernel. Cases are matched by workload and parameters. Every difference\n"
		"between the fingerprints besides the kernel (CPU, memory, knobs, cmdline,\n"
		"virtualization, tool) is listed before the table. Per metric: each side's\n"
		"median, the change against BASE (ratio of medians), the two-sided\n"
		"Mann-Whitney U p-value (exact null distribution up to 50 samples in all,\n"
		"with ties too; normal approximation with tie and continuity correction\n"
		"above), the (1-alpha) interval of the change (Hodges-Lehmann shift of log\n"
		"values, distribution-free), and a verdict signed by the metric's direction:\n"
		"  improvement / regression  p < alpha and the whole interval beyond the\n"
		"                            noise floor\n"
		"  ~                         no significant change\n"
		"  inconclusive              not significant and the interval is wider than\n"
		"                            --max-ci-width; says how many samples would do\n"
		"  too few samples           no data could give p < alpha (3+3 samples: the\n"
		"                            smallest p is 0.1); says how many are needed\n"
		"The summary gives the geometric mean of cost ratios (new/base for\n"
		"lower-is-better metrics, base/new for higher; < 1 is better).\n\n"
		"Options:\n"
		"  -a, --alpha A          significance level (default 0.05)\n"
		"      --noise-floor PCT  smallest change worth a verdict (default 1%%)\n"
		"      --max-ci-width PCT wider intervals are inconclusive (default 20%%)\n"
		"      --fdr              Benjamini-Hochberg adjustment over all metrics\n"
		"  -m, --metric GLOB      only metrics whose name matches (repeatable)\n"
		"      --fail-on WHEN     exit 6 on: any significant regression (default\n"
		"                         `any`), one worse than PCT (e.g. 5%%), or `never`\n"
		"      --force            compare cases whose parameters differ, and reports\n"
		"                         from different accelerators\n"
		"  -f, --format FMT       stdout format: text (default; the mmtests layout),\n"
		"                         markdown, json, html, bencher, gab-smaller,\n"
		"                         gab-bigger\n"
		"      --text FILE, --markdown FILE, --json FILE, --html FILE,\n"
		"      --bencher FILE, --gab-smaller FILE, --gab-bigger FILE\n"
		"                         also write that format to FILE (`-`: stdout instead\n"
		"                         of --format); repeatable, any combination\n"
		"  -h, --help             this text\n\n"
		"Formats: json holds every verdict (reports/compare.schema.json); html is one\n"
		"self-contained page with a plot per metric (needs gnuplot, else the page\n"
		"says so and has the tables only); gab-* are github-action-benchmark\n"
		"`customSmallerIsBetter`/`customBiggerIsBetter` files of NEW's medians;\n"
		"bencher is the Bencher Metric Format.\n"
		"Environment: MMREPRO_GNUPLOT names the gnuplot binary.\n\n%s",
		mmr_cmp_exit_codes_help);
}

int mmr_cmd_compare(int argc, char **argv)
{
	return mmr_cmp_main(argc, argv, false, compare_usage);
}
