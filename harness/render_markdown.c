// SPDX-License-Identifier: GPL-2.0
/* Markdown for CI job summaries (GitHub's $GITHUB_STEP_SUMMARY, GitLab notes). */
#include "mmrepro/compare.h"
#include "mmrepro/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Table cells must not contain a bare '|' or a newline. */
static void cell_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n')
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

static void header(FILE *f, const struct mmr_comparison *c)
{
	size_t i;
	json_t *d;

	if (c->nreports == 1) {
		fprintf(f, "## mmrepro report: %s\n\nMedians with the 95%% CI of the median.\n",
			c->reports[0].label);
		return;
	}
	fprintf(f, "## mmrepro compare: %s", c->reports[0].label);
	for (size_t s = 1; s < c->nreports; s++)
		fprintf(f, " vs %s", c->reports[s].label);
	fprintf(f,
		"\n\nMann-Whitney U (alpha %g%s); %g%% CI of the change (Hodges-Lehmann); noise "
		"floor %g%%. *change* is the new median against the base median.\n\n",
		c->o.alpha, c->o.fdr ? ", Benjamini-Hochberg FDR" : "", 100 * (1 - c->o.alpha),
		c->o.noise_floor_pct);
	json_array_foreach (c->errors, i, d)
		fprintf(f, "> **Not comparable:** %s\n\n", json_string_value(d));
	if (!json_array_size(c->differences)) {
		fprintf(f, "**Comparability:** the fingerprints match besides the kernel.\n\n");
	} else {
		fprintf(f, "**Comparability:** %zu difference(s) besides the kernel:\n\n",
			json_array_size(c->differences));
		json_array_foreach (c->differences, i, d) {
			json_t *v;
			size_t j;

			fprintf(f, "- %s `%s`:", json_string_value(json_object_get(d, "category")),
				json_string_value(json_object_get(d, "key")));
			json_array_foreach (json_object_get(d, "values"), j, v)
				fprintf(f, "%s `%s`", j ? " \xe2\x86\x92" : "",
					json_string_value(v));
			fputc('\n', f);
		}
		fputc('\n', f);
	}
	json_array_foreach (c->warnings, i, d)
		fprintf(f, "- note: %s\n", json_string_value(d));
	if (json_array_size(c->warnings))
		fputc('\n', f);
}

static void median_text(const struct mmr_cmp_row *row, const struct mmr_cmp_cell *cell, char *buf,
			size_t len)
{
	if (cell->n)
		mmr_format_value(cell->s.median, row->unit, buf, len);
	else
		snprintf(buf, len, "-");
}

static void compare_row(FILE *f, const struct mmr_comparison *c, const struct mmr_cmp_row *row,
			size_t s)
{
	const struct mmr_cmp_cell *base = &row->cells[0], *cell = &row->cells[s];
	char b[48], n[48], ci[64] = "", p[32] = "", d[32] = "";
	const char *v = mmr_verdict_name(cell->verdict);

	median_text(row, base, b, sizeof(b));
	median_text(row, cell, n, sizeof(n));
	if (!isnan(cell->delta_pct))
		snprintf(d, sizeof(d), "%+.2f%%", cell->delta_pct);
	if (cell->ci_valid)
		snprintf(ci, sizeof(ci), "%+.2f%% .. %+.2f%%", cell->ci_lo_pct, cell->ci_hi_pct);
	if (!isnan(cell->q))
		snprintf(p, sizeof(p), "%.3f", cell->q);
	fprintf(f, "| %s", row->metric);
	if (c->nreports > 2)
		fprintf(f, " (%s)", c->reports[s].label);
	fprintf(f, " | %s | %s | %s | %s | %s | %zu/%zu | ", b, n, d, ci, p, base->n, cell->n);
	if (cell->verdict == MMR_V_REGRESSION)
		fprintf(f, "**%s**", v);
	else if (cell->verdict == MMR_V_TOO_FEW)
		fprintf(f, "too few samples (need >= %zu per side)", cell->need_n);
	else if (cell->verdict == MMR_V_INCONCLUSIVE)
		fprintf(f, "inconclusive (need ~%zu per side)", cell->need_n);
	else
		fprintf(f, "%s", v);
	fprintf(f, " |\n");
}

static void one_case(FILE *f, const struct mmr_comparison *c, const struct mmr_cmp_case *k)
{
	char *title = mmr_cmp_case_title(k);
	json_t *note;
	size_t i;

	fprintf(f, "### ");
	cell_text(f, title ? title : k->id);
	fprintf(f, "\n\n");
	free(title);
	json_array_foreach (k->notes, i, note)
		fprintf(f, "- %s\n", json_string_value(note));
	if (json_array_size(k->notes))
		fputc('\n', f);
	if (!k->nrows)
		return;
	if (c->nreports == 1) {
		fprintf(f, "| metric | median | 95%% CI of the median | CoV | n |\n"
			   "|---|---:|---|---:|---:|\n");
		for (size_t r = 0; r < k->nrows; r++) {
			const struct mmr_cmp_row *row = &k->rows[r];
			const struct mmr_cmp_cell *cell = &row->cells[0];
			char m[48], lo[48], hi[48];

			median_text(row, cell, m, sizeof(m));
			fprintf(f, "| %s (%s, %s is better) | %s | ", row->metric, row->unit,
				mmr_direction_name(row->dir), m);
			if (cell->s.ci_valid) {
				mmr_format_value(cell->s.ci_lo, row->unit, lo, sizeof(lo));
				mmr_format_value(cell->s.ci_hi, row->unit, hi, sizeof(hi));
				fprintf(f, "%s .. %s", lo, hi);
			} else if (cell->n) {
				fprintf(f, "need >= 6 samples");
			}
			fprintf(f, " | %.2f%% | %zu |\n", cell->s.cov_pct, cell->n);
		}
		fputc('\n', f);
		return;
	}
	fprintf(f,
		"| metric | %s | %s | change | CI | p | n | verdict |\n"
		"|---|---:|---:|---:|---|---:|---:|---|\n",
		c->reports[0].label, c->nreports == 2 ? c->reports[1].label : "new");
	for (size_t r = 0; r < k->nrows; r++)
		for (size_t s = 1; s < c->nreports; s++)
			compare_row(f, c, &k->rows[r], s);
	fputc('\n', f);
}

int mmr_render_markdown(FILE *f, const struct mmr_comparison *c)
{
	header(f, c);
	for (size_t k = 0; k < c->ncases; k++)
		one_case(f, c, &c->cases[k]);
	for (size_t s = 1; s < c->nreports; s++) {
		const size_t *n = c->counts[s];

		fprintf(f,
			"**%s:** %zu improvement(s), %zu regression(s), %zu no significant change, "
			"%zu inconclusive, %zu with too few samples",
			c->reports[s].label, n[MMR_V_IMPROVEMENT], n[MMR_V_REGRESSION],
			n[MMR_V_SAME], n[MMR_V_INCONCLUSIVE], n[MMR_V_TOO_FEW]);
		if (c->gmean[s].n)
			fprintf(f,
				"; geometric mean cost ratio %.4f over %zu metrics (< 1 is better)",
				c->gmean[s].ratio, c->gmean[s].n);
		fprintf(f, ".\n\n");
	}
	return ferror(f) ? -EIO : 0;
}
