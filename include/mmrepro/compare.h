/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Comparing reports (mmrepro compare) and rendering one (mmrepro report).
 *
 * Loading checks each report against reports/report.schema.json; matching
 * pairs cases by workload and parameters and lists every difference of the
 * fingerprints besides the kernel; per metric each side is summarised with
 * mmr_summarize() and every report after the first is judged against the
 * first (Mann-Whitney U, Hodges-Lehmann interval of the log ratio, noise
 * floor). The renderers (render_*.c) only read the finished model.
 */
#ifndef MMREPRO_COMPARE_H
#define MMREPRO_COMPARE_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "mmrepro/stats.h"
#include "mmrepro/workload.h"

/* Exit codes 6..9 (0, 2 and 5 keep their meaning from enum mmr_exit). */
enum mmr_cmp_exit {
	MMR_EXIT_REGRESSION = 6,     /* a regression beyond --fail-on */
	MMR_EXIT_INCOMPARABLE = 7,   /* parameters or accelerator differ; nothing in common */
	MMR_EXIT_BAD_REPORT = 8,     /* empty, truncated, not JSON, not valid against the schema */
	MMR_EXIT_SCHEMA_VERSION = 9, /* written for another schema_version */
};

#define MMR_COMPARE_SCHEMA_VERSION 1

struct mmr_cmp_report {
	char *path;
	char *label; /* column title: the kernel release, or the file name when equal */
	json_t *doc;
};

/* Load and check one report. Returns 0, or an mmr exit code with one line in
 * err ("path: what is wrong"). */
int mmr_cmp_load(const char *path, json_t *schema, struct mmr_cmp_report *r, char *err,
		 size_t errlen);
void mmr_cmp_report_free(struct mmr_cmp_report *r);
/* Give every report a distinct, short column label. */
void mmr_cmp_label(struct mmr_cmp_report *r, size_t n);

enum mmr_verdict {
	MMR_V_BASE,	    /* the first report itself */
	MMR_V_MISSING,	    /* no samples on one side */
	MMR_V_TOO_FEW,	    /* too few samples for p < alpha whatever the data */
	MMR_V_SAME,	    /* "~": no significant change */
	MMR_V_INCONCLUSIVE, /* not significant and the CI is wider than --max-ci-width */
	MMR_V_IMPROVEMENT,
	MMR_V_REGRESSION,
	MMR_V_CHANGED, /* significant change of an "info" metric (no better/worse) */
	MMR_V_COUNT,
};

const char *mmr_verdict_name(enum mmr_verdict v);

struct mmr_cmp_cell {
	double *x; /* the samples (owned) */
	size_t n;
	struct mmr_summary s;
	/* Against the first report's cell of the same row: */
	enum mmr_verdict verdict;
	double delta_pct; /* (median / base median - 1) * 100; NAN when undefined */
	bool ci_valid;
	double ci_lo_pct, ci_hi_pct, ci_level; /* interval of delta_pct */
	double p, q;			       /* q: Benjamini-Hochberg with --fdr, else p */
	bool exact;			       /* p from the exact null distribution */
	size_t need_n;			       /* too few / inconclusive: samples per side needed */
	double cost_ratio;		       /* new/base (lower better), base/new (higher) */
};

struct mmr_cmp_row {
	char *metric;	  /* owned */
	const char *unit; /* borrowed from a report */
	enum mmr_direction dir;
	struct mmr_cmp_cell *cells; /* one per report; n == 0 where absent */
};

struct mmr_cmp_case {
	const char *id, *workload; /* of the first report that has the case */
	json_t *cases;		   /* the case object per report, or null */
	json_t *notes;		   /* strings: differences of parameters, harness keys, knobs */
	struct mmr_cmp_row *rows;
	size_t nrows;
};

struct mmr_cmp_opts {
	double alpha;		 /* 0.05 */
	double noise_floor_pct;	 /* 1 */
	double max_ci_width_pct; /* 20: wider and not significant is inconclusive */
	bool fdr;		 /* Benjamini-Hochberg over every comparison */
	bool force;		 /* compare despite parameter or accelerator mismatches */
	double fail_on_pct;	 /* < 0: never fail; 0: any regression; > 0: worse than this */
	const char **metrics;	 /* fnmatch patterns; NULL: every metric */
	size_t nmetrics;
};

struct mmr_cmp_gmean {
	double ratio; /* geometric mean of cost ratios (< 1 is better); NAN if none */
	size_t n;     /* metrics in it */
};

struct mmr_comparison {
	struct mmr_cmp_opts o;
	struct mmr_cmp_report *reports;
	size_t nreports;
	json_t *differences; /* [{category, key, values: [per report]}] besides the kernel */
	json_t *errors;	     /* reasons the reports are not comparable */
	json_t *warnings;    /* unmatched cases, differing metric sets, ... */
	struct mmr_cmp_case *cases;
	size_t ncases;
	struct mmr_cmp_gmean *gmean;   /* per report (index 0 unused) */
	size_t (*counts)[MMR_V_COUNT]; /* verdicts per report */
	size_t regressions_failing;    /* regressions beyond --fail-on */
	int exit_code;
};

/* Match, summarise and judge. reports/nreports/o must be set; the comparison
 * takes the reports. Returns 0 or -ENOMEM. */
int mmr_compare_build(struct mmr_comparison *c);
void mmr_compare_free(struct mmr_comparison *c);

/* Steps of mmr_compare_build, one file each. */
void mmr_cmp_fingerprints(struct mmr_comparison *c);
/* Keys (flattened "a.b.c", under prefix) whose values differ between the
 * objects of the array: [{key, values: [text per object, "(absent)"]}]. */
json_t *mmr_cmp_differences(json_t *objs, const char *prefix);
int mmr_cmp_match(struct mmr_comparison *c);
void mmr_cmp_judge(const struct mmr_cmp_opts *o, enum mmr_direction dir,
		   const struct mmr_cmp_cell *base, struct mmr_cmp_cell *cell);
void mmr_cmp_decide(const struct mmr_cmp_opts *o, enum mmr_direction dir,
		    const struct mmr_cmp_cell *base, struct mmr_cmp_cell *cell);

/* `mmrepro compare` (single: false) and `mmrepro report` (single: true);
 * usage prints the command's --help. Returns the exit code. */
int mmr_cmp_main(int argc, char **argv, bool single, void (*usage)(FILE *f));

/* Helpers the renderers share. */
/* "+12.34%" style change where positive is better (mmtests convention). */
double mmr_cmp_gain_pct(enum mmr_direction dir, double delta_pct);
/* "fork_anon size=16M backing=4k", or "... vs backing=thp-pmd" under --force. */
char *mmr_cmp_case_title(const struct mmr_cmp_case *k);

/* Renderers: each writes the whole document to f. 0 or -errno. */
int mmr_render_text(FILE *f, const struct mmr_comparison *c);
int mmr_render_markdown(FILE *f, const struct mmr_comparison *c);
int mmr_render_json(FILE *f, const struct mmr_comparison *c);
int mmr_render_html(FILE *f, const struct mmr_comparison *c);
int mmr_render_gab(FILE *f, const struct mmr_comparison *c, enum mmr_direction dir);
int mmr_render_bencher(FILE *f, const struct mmr_comparison *c);

/* One SVG per row of every case, from one gnuplot run: svgs[case][row],
 * NULL entries where a row has no samples. Returns 0, or -ENOENT when gnuplot
 * is missing (why says so), another -errno on failure. */
int mmr_plot_svgs(const struct mmr_comparison *c, char ****svgs, char *why, size_t whylen);
void mmr_plot_free(const struct mmr_comparison *c, char ***svgs);

#endif
