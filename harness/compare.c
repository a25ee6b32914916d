// SPDX-License-Identifier: GPL-2.0
/* Building the comparison: fingerprints, matching, per-metric summaries and
 * verdicts, the FDR adjustment, geometric means and the exit status. */
#include "mmrepro/compare.h"
#include "mmrepro/mannwhitney.h"
#include "mmrepro/runner.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static enum mmr_direction parse_direction(const char *s)
{
	if (s && !strcmp(s, "higher"))
		return MMR_HIGHER_IS_BETTER;
	if (s && !strcmp(s, "info"))
		return MMR_INFO_ONLY;
	return MMR_LOWER_IS_BETTER;
}

static bool wanted(const struct mmr_cmp_opts *o, const char *metric)
{
	if (!o->nmetrics)
		return true;
	for (size_t i = 0; i < o->nmetrics; i++)
		if (!fnmatch(o->metrics[i], metric, 0))
			return true;
	return false;
}

static int fill_cell(json_t *m, struct mmr_cmp_cell *cell)
{
	json_t *samples = json_object_get(m, "samples"), *v;
	size_t i;

	cell->n = json_array_size(samples);
	if (!cell->n)
		return mmr_summarize(NULL, 0, &cell->s);
	cell->x = malloc(cell->n * sizeof(double));
	if (!cell->x)
		return -ENOMEM;
	json_array_foreach (samples, i, v)
		cell->x[i] = json_number_value(v);
	return mmr_summarize(cell->x, cell->n, &cell->s);
}

/* One row per metric any report has for the case, in order of appearance. */
static int build_rows(struct mmr_comparison *c, struct mmr_cmp_case *k)
{
	json_t *names = json_array(), *seen = json_object(), *cj, *n;
	size_t i, j;
	int ret = 0;

	json_array_foreach (k->cases, i, cj) {
		const char *name;
		json_t *m;

		json_object_foreach (json_object_get(cj, "metrics"), name, m)
			if (!json_object_get(seen, name) && wanted(&c->o, name)) {
				json_object_set_new(seen, name, json_true());
				json_array_append_new(names, json_string(name));
			}
	}
	k->rows = calloc(json_array_size(names) + 1, sizeof(*k->rows));
	if (!k->rows) {
		ret = -ENOMEM;
		goto out;
	}
	json_array_foreach (names, j, n) {
		struct mmr_cmp_row *row = &k->rows[k->nrows++];
		const char *name = json_string_value(n);

		row->cells = calloc(c->nreports, sizeof(*row->cells));
		if (!row->cells) {
			ret = -ENOMEM;
			goto out;
		}
		json_array_foreach (k->cases, i, cj) {
			json_t *m = json_object_get(json_object_get(cj, "metrics"), name);

			if (!m)
				continue;
			if (!row->metric) {
				row->metric = strdup(name);
				if (!row->metric) {
					ret = -ENOMEM;
					goto out;
				}
				row->unit = json_string_value(json_object_get(m, "unit"));
				row->dir = parse_direction(
					json_string_value(json_object_get(m, "direction")));
			} else if (strcmp(row->unit,
					  json_string_value(json_object_get(m, "unit")))) {
				json_array_append_new(
					k->notes,
					json_sprintf("%s: unit %s in %s, %s before; "
						     "not compared",
						     name,
						     json_string_value(json_object_get(m, "unit")),
						     c->reports[i].label, row->unit));
				continue;
			}
			ret = fill_cell(m, &row->cells[i]);
			if (ret)
				goto out;
		}
	}
out:
	json_decref(names);
	json_decref(seen);
	return ret;
}

static int adjust_fdr(struct mmr_comparison *c)
{
	size_t total = 0, at = 0;
	double *p, *q;

	for (size_t k = 0; k < c->ncases; k++)
		total += c->cases[k].nrows * c->nreports;
	p = malloc((total + 1) * sizeof(double));
	q = malloc((total + 1) * sizeof(double));
	if (!p || !q) {
		free(p);
		free(q);
		return -ENOMEM;
	}
	for (size_t k = 0; k < c->ncases; k++)
		for (size_t r = 0; r < c->cases[k].nrows; r++)
			for (size_t s = 1; s < c->nreports; s++) {
				struct mmr_cmp_cell *cell = &c->cases[k].rows[r].cells[s];

				p[at++] = cell->verdict == MMR_V_SAME ? cell->p : NAN;
			}
	mmr_bh_adjust(p, at, q);
	at = 0;
	for (size_t k = 0; k < c->ncases; k++)
		for (size_t r = 0; r < c->cases[k].nrows; r++)
			for (size_t s = 1; s < c->nreports; s++) {
				struct mmr_cmp_cell *cell = &c->cases[k].rows[r].cells[s];

				if (!isnan(q[at]))
					cell->q = q[at];
				at++;
			}
	free(p);
	free(q);
	return 0;
}

static void summarize(struct mmr_comparison *c)
{
	for (size_t s = 1; s < c->nreports; s++) {
		double logsum = 0;
		size_t n = 0, partial = 0;

		for (size_t k = 0; k < c->ncases; k++)
			for (size_t r = 0; r < c->cases[k].nrows; r++) {
				const struct mmr_cmp_row *row = &c->cases[k].rows[r];
				const struct mmr_cmp_cell *cell = &row->cells[s];

				c->counts[s][cell->verdict]++;
				if (cell->verdict == MMR_V_REGRESSION &&
				    (c->o.fail_on_pct == 0 ||
				     (c->o.fail_on_pct > 0 &&
				      -mmr_cmp_gain_pct(row->dir, cell->delta_pct) >
					      c->o.fail_on_pct)))
					c->regressions_failing++;
				if ((!row->cells[0].n) != (!cell->n))
					partial++;
				if (cell->cost_ratio > 0) {
					logsum += log(cell->cost_ratio);
					n++;
				}
			}
		c->gmean[s].n = n;
		c->gmean[s].ratio = n ? exp(logsum / (double)n) : NAN;
		if (partial)
			json_array_append_new(
				c->warnings,
				json_sprintf("%zu metric(s) are in only one of %s and %s; the "
					     "geometric mean covers the %zu in both",
					     partial, c->reports[0].label, c->reports[s].label, n));
	}
}

int mmr_compare_build(struct mmr_comparison *c)
{
	c->differences = json_array();
	c->errors = json_array();
	c->warnings = json_array();
	c->gmean = calloc(c->nreports, sizeof(*c->gmean));
	c->counts = calloc(c->nreports, sizeof(*c->counts));
	if (!c->differences || !c->errors || !c->warnings || !c->gmean || !c->counts)
		return -ENOMEM;
	mmr_cmp_label(c->reports, c->nreports);
	if (c->nreports > 1)
		mmr_cmp_fingerprints(c);
	if (mmr_cmp_match(c))
		return -ENOMEM;
	for (size_t k = 0; k < c->ncases; k++) {
		struct mmr_cmp_case *kc = &c->cases[k];

		if (build_rows(c, kc))
			return -ENOMEM;
		for (size_t r = 0; r < kc->nrows; r++) {
			struct mmr_cmp_row *row = &kc->rows[r];

			row->cells[0].verdict = MMR_V_BASE;
			for (size_t s = 1; s < c->nreports; s++)
				mmr_cmp_judge(&c->o, row->dir, &row->cells[0], &row->cells[s]);
		}
	}
	for (size_t i = 0; i < c->o.nmetrics; i++) {
		bool hit = false;

		for (size_t k = 0; k < c->ncases && !hit; k++)
			for (size_t r = 0; r < c->cases[k].nrows && !hit; r++)
				hit = !fnmatch(c->o.metrics[i], c->cases[k].rows[r].metric, 0);
		if (!hit)
			json_array_append_new(
				c->warnings,
				json_sprintf("--metric %s matches no metric", c->o.metrics[i]));
	}
	if (c->o.fdr && adjust_fdr(c))
		return -ENOMEM;
	for (size_t k = 0; k < c->ncases; k++)
		for (size_t r = 0; r < c->cases[k].nrows; r++) {
			struct mmr_cmp_row *row = &c->cases[k].rows[r];

			for (size_t s = 1; s < c->nreports; s++)
				mmr_cmp_decide(&c->o, row->dir, &row->cells[0], &row->cells[s]);
		}
	summarize(c);
	if (json_array_size(c->errors))
		c->exit_code = MMR_EXIT_INCOMPARABLE;
	else if (c->regressions_failing)
		c->exit_code = MMR_EXIT_REGRESSION;
	else
		c->exit_code = MMR_EXIT_OK;
	return 0;
}

void mmr_compare_free(struct mmr_comparison *c)
{
	for (size_t k = 0; k < c->ncases; k++) {
		for (size_t r = 0; r < c->cases[k].nrows; r++) {
			for (size_t s = 0; s < c->nreports; s++)
				free(c->cases[k].rows[r].cells[s].x);
			free(c->cases[k].rows[r].cells);
			free(c->cases[k].rows[r].metric);
		}
		free(c->cases[k].rows);
		json_decref(c->cases[k].cases);
		json_decref(c->cases[k].notes);
	}
	free(c->cases);
	for (size_t r = 0; r < c->nreports; r++)
		mmr_cmp_report_free(&c->reports[r]);
	free(c->reports);
	json_decref(c->differences);
	json_decref(c->errors);
	json_decref(c->warnings);
	free(c->gmean);
	free(c->counts);
	memset(c, 0, sizeof(*c));
}

char *mmr_cmp_case_title(const struct mmr_cmp_case *k)
{
	const char *first = k->id, *other = NULL;
	json_t *cj;
	size_t i;

	json_array_foreach (k->cases, i, cj) {
		const char *id = json_string_value(json_object_get(cj, "id"));

		if (id && strcmp(id, first) && !other)
			other = id;
	}
	return other ? mmr_strdup_printf("%s vs %s", first, other) : strdup(first);
}
