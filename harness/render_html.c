// SPDX-License-Identifier: GPL-2.0
/*
 * One self-contained HTML page: the comparability notes, a table per case and
 * a plot per metric (gnuplot SVG inlined). Without gnuplot the page says so
 * and carries the tables only.
 */
#include "mmrepro/compare.h"
#include "mmrepro/report.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char style[] =
	"body{font-family:sans-serif;margin:1.5em;color:#222}"
	"table{border-collapse:collapse;margin:.5em 0 1em}"
	"th,td{border:1px solid #ccc;padding:3px 8px;text-align:right;white-space:nowrap}"
	"th:first-child,td:first-child{text-align:left}"
	"tr.regression td{background:#fde2e2}tr.improvement td{background:#e2f5e2}"
	"tr.inconclusive td,tr.too-few td{background:#fff6d5}"
	".plots{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0}"
	".error{color:#a00;font-weight:bold}.note{color:#555}"
	"code{background:#f3f3f3;padding:0 3px}";

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

static const char *row_class(enum mmr_verdict v)
{
	switch (v) {
	case MMR_V_REGRESSION:
		return "regression";
	case MMR_V_IMPROVEMENT:
		return "improvement";
	case MMR_V_INCONCLUSIVE:
		return "inconclusive";
	case MMR_V_TOO_FEW:
		return "too-few";
	default:
		return "same";
	}
}

static void head(FILE *f, const struct mmr_comparison *c)
{
	size_t i;
	json_t *d;

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
	fprintf(f, "mmrepro %s: ", c->nreports > 1 ? "compare" : "report");
	for (size_t s = 0; s < c->nreports; s++) {
		fputs(s ? " vs " : "", f);
		esc(f, c->reports[s].label);
	}
	fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n<h1>mmrepro %s</h1>\n<ul>\n", style,
		c->nreports > 1 ? "compare" : "report");
	for (size_t s = 0; s < c->nreports; s++) {
		fprintf(f, "<li><b>");
		esc(f, c->reports[s].label);
		fprintf(f, "</b> <code>");
		esc(f, c->reports[s].path);
		fprintf(f, "</code> %s%s</li>\n",
			json_string_value(json_object_get(c->reports[s].doc, "started_at")),
			s == 0 && c->nreports > 1 ? " (base)" : "");
	}
	fprintf(f, "</ul>\n");
	if (c->nreports == 1)
		return;
	fprintf(f,
		"<p>Mann-Whitney U (alpha %g%s); %g%% CI of the change (Hodges-Lehmann); noise "
		"floor %g%%.</p>\n",
		c->o.alpha, c->o.fdr ? ", Benjamini-Hochberg FDR" : "", 100 * (1 - c->o.alpha),
		c->o.noise_floor_pct);
	json_array_foreach (c->errors, i, d) {
		fprintf(f, "<p class=\"error\">Not comparable: ");
		esc(f, json_string_value(d));
		fprintf(f, "</p>\n");
	}
	fprintf(f, "<h2>Comparability</h2>\n");
	if (!json_array_size(c->differences))
		fprintf(f, "<p>The fingerprints match besides the kernel.</p>\n");
	else {
		fprintf(f, "<table><tr><th>what</th><th>key</th>");
		for (size_t s = 0; s < c->nreports; s++) {
			fprintf(f, "<th>");
			esc(f, c->reports[s].label);
			fprintf(f, "</th>");
		}
		fprintf(f, "</tr>\n");
		json_array_foreach (c->differences, i, d) {
			json_t *v;
			size_t j;

			fprintf(f, "<tr><td>");
			esc(f, json_string_value(json_object_get(d, "category")));
			fprintf(f, "</td><td>");
			esc(f, json_string_value(json_object_get(d, "key")));
			fprintf(f, "</td>");
			json_array_foreach (json_object_get(d, "values"), j, v) {
				fprintf(f, "<td>");
				esc(f, json_string_value(v));
				fprintf(f, "</td>");
			}
			fprintf(f, "</tr>\n");
		}
		fprintf(f, "</table>\n");
	}
	json_array_foreach (c->warnings, i, d) {
		fprintf(f, "<p class=\"note\">");
		esc(f, json_string_value(d));
		fprintf(f, "</p>\n");
	}
}

static void value(FILE *f, const struct mmr_cmp_row *row, const struct mmr_cmp_cell *cell)
{
	char buf[48] = "-";

	if (cell->n)
		mmr_format_value(cell->s.median, row->unit, buf, sizeof(buf));
	fprintf(f, "<td>%s</td>", buf);
}

static void table(FILE *f, const struct mmr_comparison *c, const struct mmr_cmp_case *k)
{
	fprintf(f, "<table class=\"metrics\"><tr><th>metric</th>");
	for (size_t s = 0; s < c->nreports; s++) {
		fprintf(f, "<th>");
		esc(f, c->reports[s].label);
		fprintf(f, "</th>");
	}
	if (c->nreports == 1)
		fprintf(f, "<th>95%% CI of the median</th><th>CoV</th><th>n</th></tr>\n");
	else
		fprintf(f, "<th>vs</th><th>change</th><th>CI</th><th>p</th><th>n</th>"
			   "<th>verdict</th></tr>\n");
	for (size_t r = 0; r < k->nrows; r++) {
		const struct mmr_cmp_row *row = &k->rows[r];

		for (size_t s = c->nreports > 1 ? 1 : 0; s < c->nreports; s++) {
			const struct mmr_cmp_cell *cell = &row->cells[s];
			char a[48] = "", b[48] = "";

			fprintf(f, "<tr class=\"%s\"><td>", row_class(cell->verdict));
			esc(f, row->metric);
			fprintf(f, " <small>(%s, %s)</small></td>", row->unit,
				mmr_direction_name(row->dir));
			for (size_t t = 0; t < c->nreports; t++)
				value(f, row, &row->cells[t]);
			if (c->nreports == 1) {
				if (cell->s.ci_valid) {
					mmr_format_value(cell->s.ci_lo, row->unit, a, sizeof(a));
					mmr_format_value(cell->s.ci_hi, row->unit, b, sizeof(b));
				}
				fprintf(f, "<td>%s%s%s</td><td>%.2f%%</td><td>%zu</td></tr>\n", a,
					cell->s.ci_valid ? " .. " : "", b, cell->s.cov_pct,
					cell->n);
				continue;
			}
			fprintf(f, "<td>");
			esc(f, c->reports[s].label);
			fprintf(f, "</td><td>");
			if (!isnan(cell->delta_pct))
				fprintf(f, "%+.2f%%", cell->delta_pct);
			fprintf(f, "</td><td>");
			if (cell->ci_valid)
				fprintf(f, "%+.2f%% .. %+.2f%%", cell->ci_lo_pct, cell->ci_hi_pct);
			fprintf(f, "</td><td>");
			if (!isnan(cell->q))
				fprintf(f, "%.3f", cell->q);
			fprintf(f, "</td><td>%zu/%zu</td><td>%s", row->cells[0].n, cell->n,
				mmr_verdict_name(cell->verdict));
			if (cell->need_n)
				fprintf(f, " (need %s%zu per side)",
					cell->verdict == MMR_V_TOO_FEW ? "&ge; " : "~",
					cell->need_n);
			fprintf(f, "</td></tr>\n");
		}
	}
	fprintf(f, "</table>\n");
}

int mmr_render_html(FILE *f, const struct mmr_comparison *c)
{
	char why[512] = "";
	char ***svgs = NULL;
	int pret = mmr_plot_svgs(c, &svgs, why, sizeof(why));

	if (pret)
		mmr_warn("the HTML page has no plots: %s", why);
	head(f, c);
	if (pret) {
		fprintf(f, "<p class=\"note\" id=\"no-plots\">Plots omitted: ");
		esc(f, why);
		fprintf(f, "</p>\n");
	}
	for (size_t k = 0; k < c->ncases; k++) {
		const struct mmr_cmp_case *kc = &c->cases[k];
		char *title = mmr_cmp_case_title(kc);
		json_t *note;
		size_t i;

		fprintf(f, "<h2>");
		esc(f, title ? title : kc->id);
		fprintf(f, "</h2>\n");
		free(title);
		json_array_foreach (kc->notes, i, note) {
			fprintf(f, "<p class=\"note\">");
			esc(f, json_string_value(note));
			fprintf(f, "</p>\n");
		}
		if (!kc->nrows)
			continue;
		table(f, c, kc);
		if (!svgs)
			continue;
		fprintf(f, "<div class=\"plots\">\n");
		for (size_t r = 0; r < kc->nrows; r++)
			if (svgs[k] && svgs[k][r])
				fprintf(f, "<figure class=\"plot\">%s</figure>\n", svgs[k][r]);
		fprintf(f, "</div>\n");
	}
	fprintf(f, "</body></html>\n");
	mmr_plot_free(c, svgs);
	return ferror(f) ? -EIO : 0;
}
