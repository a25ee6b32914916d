// SPDX-License-Identifier: GPL-2.0
/*
 * github-action-benchmark "custom" JSON: [{name, unit, value, range, extra}],
 * one file for smaller-is-better metrics and one for bigger-is-better (the
 * action takes one tool per file). The values are the newest report's
 * medians (the only report's for `mmrepro report`); range is the half-width
 * of the 95% CI of the median; extra carries the verdict against the base.
 * Info-only metrics have no better direction and go in neither file.
 */
#include "mmrepro/compare.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

int mmr_render_gab(FILE *f, const struct mmr_comparison *c, enum mmr_direction dir)
{
	json_t *out = json_array();
	size_t first = c->nreports > 1 ? 1 : 0;
	int ret;

	for (size_t k = 0; k < c->ncases; k++) {
		const struct mmr_cmp_case *kc = &c->cases[k];

		for (size_t r = 0; r < kc->nrows; r++) {
			const struct mmr_cmp_row *row = &kc->rows[r];

			if (row->dir != dir)
				continue;
			for (size_t s = first; s < c->nreports; s++) {
				const struct mmr_cmp_cell *cell = &row->cells[s];
				json_t *e;
				char *extra;

				if (!cell->n)
					continue;
				if (s > 0 && !isnan(cell->delta_pct))
					extra = mmr_strdup_printf(
						"n=%zu CoV=%.2f%%; vs %s: %+.2f%% p=%.3f %s",
						cell->n, cell->s.cov_pct, c->reports[0].label,
						cell->delta_pct, cell->q,
						mmr_verdict_name(cell->verdict));
				else
					extra = mmr_strdup_printf("n=%zu CoV=%.2f%%", cell->n,
								  cell->s.cov_pct);
				e = json_pack("{s:s++,s:s,s:f,s:s?}", "name", kc->id, ": ",
					      row->metric, "unit", row->unit, "value",
					      cell->s.median, "extra", extra);
				if (c->nreports > 2 && s > 0) {
					char *n = mmr_strdup_printf(
						"%s [%s]",
						json_string_value(json_object_get(e, "name")),
						c->reports[s].label);

					json_object_set_new(e, "name", json_string(n));
					free(n);
				}
				if (cell->s.ci_valid) {
					char *range = mmr_strdup_printf(
						"\xc2\xb1 %.6g",
						(cell->s.ci_hi - cell->s.ci_lo) / 2);

					json_object_set_new(e, "range", json_string(range));
					free(range);
				}
				free(extra);
				json_array_append_new(out, e);
			}
		}
	}
	ret = json_dumpf(out, f, JSON_INDENT(1));
	fputc('\n', f);
	json_decref(out);
	return ret ? -EIO : 0;
}
