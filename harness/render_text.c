// SPDX-License-Identifier: GPL-2.0
/*
 * Text in the mmtests compare-kernels layout that reviewers paste into mail:
 * one column per report, the first as the baseline (0.00%), changes signed so
 * that positive is better, significant ones marked *..*, p and n at the
 * right. Fits 80 columns for two reports unless metric names are long.
 */
#include "mmrepro/compare.h"
#include "mmrepro/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PCT_W 10 /* "(   0.00%)" and "*  29.91%*" */

/* Column widths of one case: metric names and formatted medians. */
struct cols {
	int name, value, col; /* col: a report's whole column (value and change) */
};

static char marker(enum mmr_verdict v)
{
	switch (v) {
	case MMR_V_IMPROVEMENT:
	case MMR_V_REGRESSION:
	case MMR_V_CHANGED:
		return '*';
	case MMR_V_INCONCLUSIVE:
		return '?';
	case MMR_V_TOO_FEW:
		return '!';
	default:
		return ' ';
	}
}

/*
 * Four significant digits, as mmtests prints: durations scaled to s/ms/us (a
 * unit such as ns/page keeps its tail), large counts with k/M/G.
 */
static void compact(double v, const char *unit, char *buf, size_t len)
{
	static const struct {
		double div;
		const char *prefix;
	} ns[] = { { 1e9, "s" }, { 1e6, "ms" }, { 1e3, "us" }, { 1, "ns" } },
	  si[] = { { 1e9, "G" }, { 1e6, "M" }, { 1e3, "k" }, { 1, "" } };

	if (!isfinite(v) || !strcmp(unit, "bytes")) {
		mmr_format_value(v, unit, buf, len);
		return;
	}
	if (!strncmp(unit, "ns", 2)) {
		for (size_t i = 0; i < 4; i++)
			if (fabs(v) >= ns[i].div || i == 3) {
				snprintf(buf, len, "%.4g %s%s", v / ns[i].div, ns[i].prefix,
					 unit + 2);
				return;
			}
	}
	for (size_t i = 0; i < 4; i++)
		if (fabs(v) >= 10 * si[i].div || i == 3) {
			snprintf(buf, len, "%.4g%s %s", v / si[i].div, si[i].prefix, unit);
			return;
		}
}

static struct cols widths(const struct mmr_comparison *c, const struct mmr_cmp_case *k)
{
	struct cols w = { .name = 10, .value = 10 };
	char buf[48];

	for (size_t r = 0; r < k->nrows; r++) {
		if ((int)strlen(k->rows[r].metric) > w.name)
			w.name = (int)strlen(k->rows[r].metric);
		for (size_t s = 0; s < c->nreports; s++) {
			compact(k->rows[r].cells[s].s.median, k->rows[r].unit, buf, sizeof(buf));
			if ((int)strlen(buf) > w.value)
				w.value = (int)strlen(buf);
		}
	}
	w.col = c->nreports > 1 ? w.value + 1 + PCT_W : w.value;
	return w;
}

static void print_header(FILE *f, const struct mmr_comparison *c)
{
	size_t i;
	json_t *d;

	if (c->nreports == 1)
		fprintf(f, "mmrepro report: medians with the 95%% CI of the median\n");
	else
		fprintf(f,
			"mmrepro compare: Mann-Whitney U (alpha=%g%s), %g%% CI of the change,\n"
			"noise floor %g%%; changes signed so that + is better; *x%%* significant,\n"
			"?x%%? inconclusive (too noisy), !x%%! too few samples\n",
			c->o.alpha, c->o.fdr ? ", Benjamini-Hochberg FDR" : "",
			100 * (1 - c->o.alpha), c->o.noise_floor_pct);
	for (size_t r = 0; r < c->nreports; r++) {
		json_t *doc = c->reports[r].doc;

		const char *kernel = json_string_value(json_object_get(
			json_object_get(json_object_get(doc, "fingerprint"), "kernel"), "release"));

		fprintf(f, "  %-16s %s  %s", c->reports[r].label,
			json_string_value(json_object_get(doc, "started_at")), c->reports[r].path);
		if (kernel && strcmp(kernel, c->reports[r].label))
			fprintf(f, "  (%s)", kernel);
		fprintf(f, "%s\n", r == 0 && c->nreports > 1 ? "  (base)" : "");
	}
	if (c->nreports > 1) {
		if (!json_array_size(c->differences))
			fprintf(f, "Comparability: the fingerprints match besides the kernel\n");
		else
			fprintf(f, "Comparability: %zu difference(s) besides the kernel\n",
				json_array_size(c->differences));
		json_array_foreach (c->differences, i, d) {
			json_t *v;
			size_t j;

			fprintf(f, "  %-14s %s:", json_string_value(json_object_get(d, "category")),
				json_string_value(json_object_get(d, "key")));
			json_array_foreach (json_object_get(d, "values"), j, v)
				fprintf(f, "%s %.60s%s", j ? " |" : "", json_string_value(v),
					strlen(json_string_value(v)) > 60 ? "..." : "");
			fputc('\n', f);
		}
	}
	json_array_foreach (c->errors, i, d)
		fprintf(f, "NOT COMPARABLE: %s\n", json_string_value(d));
	json_array_foreach (c->warnings, i, d)
		fprintf(f, "Note: %s\n", json_string_value(d));
}

static void print_value(FILE *f, const struct mmr_cmp_row *row, const struct mmr_cmp_cell *cell,
			const struct cols *w)
{
	char buf[48];

	if (!cell->n) {
		fprintf(f, " %*s", w->value, "-");
		return;
	}
	compact(cell->s.median, row->unit, buf, sizeof(buf));
	fprintf(f, " %*s", w->value, buf);
}

static void print_median_row(FILE *f, const struct mmr_comparison *c, const struct mmr_cmp_row *row,
			     const struct cols *w)
{
	const struct mmr_cmp_cell *last = &row->cells[c->nreports - 1];

	fprintf(f, "%-7s %-*s", "Median", w->name, row->metric);
	for (size_t s = 0; s < c->nreports; s++) {
		const struct mmr_cmp_cell *cell = &row->cells[s];
		char m = marker(cell->verdict);

		print_value(f, row, cell, w);
		if (c->nreports == 1)
			continue;
		if (s == 0 && cell->n)
			fprintf(f, " (%7.2f%%)", 0.0);
		else if (s == 0)
			fprintf(f, " %*s", PCT_W, "");
		else if (!isnan(cell->delta_pct))
			fprintf(f, " %c%7.2f%%%c", m, mmr_cmp_gain_pct(row->dir, cell->delta_pct),
				m);
		else
			fprintf(f, " %*s", PCT_W, "");
	}
	if (c->nreports == 2 && !isnan(last->p))
		fprintf(f, "  p=%.3f", last->q);
	if (c->nreports == 2 && row->cells[0].n && last->n) {
		if (row->cells[0].n == last->n)
			fprintf(f, " n=%zu", last->n);
		else
			fprintf(f, " n=%zu/%zu", row->cells[0].n, last->n);
	}
	fputc('\n', f);
}

static bool has_interval(const struct mmr_comparison *c, const struct mmr_cmp_row *row)
{
	for (size_t s = 0; s < c->nreports; s++)
		if (c->nreports == 1 ? row->cells[s].n > 0 : s > 0 && row->cells[s].ci_valid)
			return true;
	return false;
}

static void print_ci_row(FILE *f, const struct mmr_comparison *c, const struct mmr_cmp_row *row,
			 const struct cols *w)
{
	char lo[48], hi[48], buf[100];

	fprintf(f, "%-7s %-*s", c->nreports == 1 ? "CI95" : "CI", w->name, row->metric);
	for (size_t s = 0; s < c->nreports; s++) {
		const struct mmr_cmp_cell *cell = &row->cells[s];

		buf[0] = '\0';
		if (c->nreports == 1) {
			if (cell->s.ci_valid) {
				compact(cell->s.ci_lo, row->unit, lo, sizeof(lo));
				compact(cell->s.ci_hi, row->unit, hi, sizeof(hi));
				snprintf(buf, sizeof(buf), "%s .. %s", lo, hi);
			} else if (cell->n) {
				snprintf(buf, sizeof(buf), "need >= 6 samples");
			}
			fprintf(f, " %*s", w->value, buf);
			continue;
		}
		if (s > 0 && cell->ci_valid) {
			double a = mmr_cmp_gain_pct(row->dir, cell->ci_lo_pct),
			       b = mmr_cmp_gain_pct(row->dir, cell->ci_hi_pct);

			snprintf(buf, sizeof(buf), "[%6.2f%%,%6.2f%%]", fmin(a, b), fmax(a, b));
		}
		fprintf(f, " %*s", w->col, buf);
	}
	fputc('\n', f);
}

static void print_cov_row(FILE *f, const struct mmr_comparison *c, const struct mmr_cmp_row *row,
			  const struct cols *w)
{
	fprintf(f, "%-7s %-*s", "CoV", w->name, row->metric);
	for (size_t s = 0; s < c->nreports; s++) {
		char buf[32] = "-";

		if (row->cells[s].n)
			snprintf(buf, sizeof(buf), "%.2f%%", row->cells[s].s.cov_pct);
		fprintf(f, " %*s%*s", w->value, buf, c->nreports > 1 ? PCT_W + 1 : 0, "");
	}
	fputc('\n', f);
}

static void print_p_row(FILE *f, const struct mmr_comparison *c, const struct mmr_cmp_row *row,
			const struct cols *w)
{
	fprintf(f, "%-7s %-*s %*s", c->o.fdr ? "q" : "p", w->name, row->metric, w->col, "");
	for (size_t s = 1; s < c->nreports; s++) {
		char buf[32] = "";

		if (!isnan(row->cells[s].q))
			snprintf(buf, sizeof(buf), "%.3f", row->cells[s].q);
		fprintf(f, " %*s%*s", w->value, buf, PCT_W + 1, "");
	}
	fputc('\n', f);
}

static void print_verdict_notes(FILE *f, const struct mmr_comparison *c,
				const struct mmr_cmp_row *row)
{
	for (size_t s = 1; s < c->nreports; s++) {
		const struct mmr_cmp_cell *cell = &row->cells[s];

		if (cell->verdict == MMR_V_TOO_FEW)
			fprintf(f, "  %s vs %s: too few samples (%zu/%zu): need >= %zu per side\n",
				row->metric, c->reports[s].label, row->cells[0].n, cell->n,
				cell->need_n);
		else if (cell->verdict == MMR_V_INCONCLUSIVE)
			fprintf(f,
				"  %s vs %s: inconclusive: the CI is %.1f%% wide; ~%zu samples per "
				"side would narrow it to %g%%\n",
				row->metric, c->reports[s].label, cell->ci_hi_pct - cell->ci_lo_pct,
				cell->need_n, c->o.max_ci_width_pct);
		else if (cell->verdict == MMR_V_MISSING && (cell->n || row->cells[0].n))
			fprintf(f, "  %s: no samples in %s\n", row->metric,
				c->reports[cell->n ? 0 : s].label);
	}
}

static void print_case(FILE *f, const struct mmr_comparison *c, const struct mmr_cmp_case *k)
{
	struct cols cw = widths(c, k), *w = &cw;
	size_t i;
	char *title = mmr_cmp_case_title(k);
	json_t *note;

	fprintf(f, "\n%s\n", title ? title : k->id);
	free(title);
	json_array_foreach (k->notes, i, note)
		fprintf(f, "  (%s)\n", json_string_value(note));
	if (!k->nrows)
		return;
	fprintf(f, "%*s", w->name + 8, "");
	for (size_t s = 0; s < c->nreports; s++)
		fprintf(f, " %*.*s", w->col, w->col, c->reports[s].label);
	fputc('\n', f);
	for (size_t r = 0; r < k->nrows; r++)
		print_median_row(f, c, &k->rows[r], w);
	for (size_t r = 0; r < k->nrows; r++)
		if (has_interval(c, &k->rows[r]))
			print_ci_row(f, c, &k->rows[r], w);
	for (size_t r = 0; r < k->nrows; r++)
		print_cov_row(f, c, &k->rows[r], w);
	for (size_t r = 0; r < k->nrows && c->nreports > 2; r++)
		print_p_row(f, c, &k->rows[r], w);
	for (size_t r = 0; r < k->nrows && c->nreports == 1; r++)
		fprintf(f, "%-7s %-*s %*zu\n", "n", w->name, k->rows[r].metric, w->value,
			k->rows[r].cells[0].n);
	for (size_t r = 0; r < k->nrows; r++)
		print_verdict_notes(f, c, &k->rows[r]);
}

static void print_summary(FILE *f, const struct mmr_comparison *c)
{
	fputc('\n', f);
	for (size_t s = 1; s < c->nreports; s++) {
		const size_t *n = c->counts[s];

		if (c->gmean[s].n)
			fprintf(f,
				"Gmean   cost ratio %s/%s: %.4f over %zu metrics (< 1 is better)\n",
				c->reports[s].label, c->reports[0].label, c->gmean[s].ratio,
				c->gmean[s].n);
		fprintf(f,
			"Verdict %s: %zu improved, %zu regressed, %zu ~, %zu inconclusive, "
			"%zu too few",
			c->reports[s].label, n[MMR_V_IMPROVEMENT], n[MMR_V_REGRESSION],
			n[MMR_V_SAME], n[MMR_V_INCONCLUSIVE], n[MMR_V_TOO_FEW]);
		if (n[MMR_V_CHANGED])
			fprintf(f, ", %zu changed (info)", n[MMR_V_CHANGED]);
		if (n[MMR_V_MISSING])
			fprintf(f, ", %zu missing", n[MMR_V_MISSING]);
		fputc('\n', f);
	}
}

static void render(FILE *f, const struct mmr_comparison *c)
{
	print_header(f, c);
	for (size_t k = 0; k < c->ncases; k++)
		print_case(f, c, &c->cases[k]);
	if (c->nreports > 1)
		print_summary(f, c);
}

/* Columns are padded as they are printed; mail wants no trailing blanks. */
int mmr_render_text(FILE *f, const struct mmr_comparison *c)
{
	char *buf = NULL, *line, *end;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return -errno;
	render(m, c);
	if (fclose(m)) {
		free(buf);
		return -EIO;
	}
	for (line = buf; *line; line = *end ? end + 1 : end) {
		size_t n;

		end = strchrnul(line, '\n');
		n = (size_t)(end - line);
		while (n && line[n - 1] == ' ')
			n--;
		fprintf(f, "%.*s\n", (int)n, line);
	}
	free(buf);
	return ferror(f) ? -EIO : 0;
}
