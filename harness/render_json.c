// SPDX-License-Identifier: GPL-2.0
/* Machine-readable verdicts (schema: reports/compare.schema.json). */
#include "mmrepro/compare.h"
#include "mmrepro/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#ifndef MMREPRO_VERSION
#define MMREPRO_VERSION "0.0.0"
#endif
#ifndef MMREPRO_GIT
#define MMREPRO_GIT "unknown"
#endif

static const char *const verdict_ids[MMR_V_COUNT] = {
	[MMR_V_BASE] = "base",
	[MMR_V_MISSING] = "missing",
	[MMR_V_TOO_FEW] = "too_few",
	[MMR_V_SAME] = "same",
	[MMR_V_INCONCLUSIVE] = "inconclusive",
	[MMR_V_IMPROVEMENT] = "improvement",
	[MMR_V_REGRESSION] = "regression",
	[MMR_V_CHANGED] = "changed",
};

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *comparison(const struct mmr_cmp_row *row, const struct mmr_cmp_cell *cell, size_t s)
{
	json_t *o = json_object();

	json_object_set_new(o, "report", json_integer((json_int_t)s));
	json_object_set_new(o, "verdict", json_string(verdict_ids[cell->verdict]));
	json_object_set_new(o, "delta_pct", num(cell->delta_pct));
	json_object_set_new(o, "gain_pct", num(mmr_cmp_gain_pct(row->dir, cell->delta_pct)));
	json_object_set_new(o, "ci",
			    cell->ci_valid
				    ? json_pack("{s:o,s:o,s:o}", "lo_pct", num(cell->ci_lo_pct),
						"hi_pct", num(cell->ci_hi_pct), "level",
						num(cell->ci_level))
				    : json_null());
	json_object_set_new(o, "p", num(cell->p));
	json_object_set_new(o, "q", num(cell->q));
	json_object_set_new(o, "p_method",
			    isnan(cell->p) ? json_null()
					   : json_string(cell->exact ? "exact" : "normal"));
	json_object_set_new(o, "cost_ratio", num(cell->cost_ratio));
	json_object_set_new(o, "need_per_side",
			    cell->need_n ? json_integer((json_int_t)cell->need_n) : json_null());
	return o;
}

static json_t *metric(const struct mmr_comparison *c, const struct mmr_cmp_row *row)
{
	json_t *sides = json_array(), *cmps = json_array();

	for (size_t s = 0; s < c->nreports; s++) {
		const struct mmr_cmp_cell *cell = &row->cells[s];

		json_array_append_new(sides, cell->n ? mmr_summary_json(&cell->s) : json_null());
		if (s > 0)
			json_array_append_new(cmps, comparison(row, cell, s));
	}
	return json_pack("{s:s,s:s,s:s,s:o,s:o}", "name", row->metric, "unit", row->unit,
			 "direction", mmr_direction_name(row->dir), "sides", sides, "comparisons",
			 cmps);
}

static json_t *one_case(const struct mmr_comparison *c, const struct mmr_cmp_case *k)
{
	json_t *ids = json_array(), *metrics = json_array(), *cj;
	char *title = mmr_cmp_case_title(k);
	size_t i;

	json_array_foreach (k->cases, i, cj)
		json_array_append_new(ids, json_is_null(cj)
						   ? json_null()
						   : json_incref(json_object_get(cj, "id")));
	for (size_t r = 0; r < k->nrows; r++)
		json_array_append_new(metrics, metric(c, &k->rows[r]));
	cj = json_pack("{s:s,s:s,s:s,s:o,s:O,s:o}", "id", k->id, "title", title ? title : k->id,
		       "workload", k->workload, "ids", ids, "notes", k->notes, "metrics", metrics);
	free(title);
	return cj;
}

static json_t *summary(const struct mmr_comparison *c)
{
	json_t *out = json_array();

	for (size_t s = 1; s < c->nreports; s++) {
		json_t *counts = json_object();

		for (int v = MMR_V_MISSING; v < MMR_V_COUNT; v++)
			json_object_set_new(counts, verdict_ids[v],
					    json_integer((json_int_t)c->counts[s][v]));
		json_array_append_new(out, json_pack("{s:I,s:o,s:I,s:o}", "report", (json_int_t)s,
						     "gmean_cost_ratio", num(c->gmean[s].ratio),
						     "gmean_metrics", (json_int_t)c->gmean[s].n,
						     "verdicts", counts));
	}
	return out;
}

int mmr_render_json(FILE *f, const struct mmr_comparison *c)
{
	json_t *doc = json_object(), *reports = json_array(), *cases = json_array(), *pats;
	int ret;

	for (size_t r = 0; r < c->nreports; r++) {
		json_t *d = c->reports[r].doc;

		json_array_append_new(
			reports,
			json_pack("{s:s,s:s,s:O,s:O,s:O}", "path", c->reports[r].path, "label",
				  c->reports[r].label, "kernel",
				  json_object_get(json_object_get(json_object_get(d, "fingerprint"),
								  "kernel"),
						  "release"),
				  "run_id", json_object_get(d, "run_id"), "started_at",
				  json_object_get(d, "started_at")));
	}
	for (size_t k = 0; k < c->ncases; k++)
		json_array_append_new(cases, one_case(c, &c->cases[k]));
	pats = json_array();
	for (size_t i = 0; i < c->o.nmetrics; i++)
		json_array_append_new(pats, json_string(c->o.metrics[i]));
	json_object_set_new(doc, "schema_version", json_integer(MMR_COMPARE_SCHEMA_VERSION));
	json_object_set_new(doc, "kind", json_string(c->nreports > 1 ? "compare" : "report"));
	json_object_set_new(doc, "tool",
			    json_pack("{s:s,s:s,s:s}", "name", "mmrepro", "version",
				      MMREPRO_VERSION, "git", MMREPRO_GIT));
	json_object_set_new(
		doc, "options",
		json_pack("{s:f,s:f,s:f,s:b,s:o,s:o,s:b}", "alpha", c->o.alpha, "noise_floor_pct",
			  c->o.noise_floor_pct, "max_ci_width_pct", c->o.max_ci_width_pct, "fdr",
			  c->o.fdr, "fail_on_pct",
			  c->o.fail_on_pct < 0 ? json_null() : json_real(c->o.fail_on_pct),
			  "metrics", pats, "force", c->o.force));
	json_object_set_new(doc, "reports", reports);
	json_object_set_new(doc, "comparable", json_boolean(!json_array_size(c->errors)));
	json_object_set(doc, "errors", c->errors);
	json_object_set(doc, "warnings", c->warnings);
	json_object_set(doc, "differences", c->differences);
	json_object_set_new(doc, "cases", cases);
	json_object_set_new(doc, "summary", summary(c));
	json_object_set_new(doc, "exit_code", json_integer(c->exit_code));
	ret = json_dumpf(doc, f, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
	fputc('\n', f);
	json_decref(doc);
	return ret ? -EIO : 0;
}
