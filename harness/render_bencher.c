// SPDX-License-Identifier: GPL-2.0
/*
 * Bencher Metric Format: {"<benchmark>": {"<measure>": {"value", "lower_value",
 * "upper_value"}}}. The benchmark is the case, the measure the metric; value
 * is the newest report's median and the bounds its 95% CI of the median.
 */
#include "mmrepro/compare.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <stdlib.h>

int mmr_render_bencher(FILE *f, const struct mmr_comparison *c)
{
	json_t *out = json_object();
	size_t first = c->nreports > 1 ? 1 : 0;
	int ret;

	for (size_t k = 0; k < c->ncases; k++) {
		const struct mmr_cmp_case *kc = &c->cases[k];

		for (size_t s = first; s < c->nreports; s++) {
			char *name = c->nreports > 2 ? mmr_strdup_printf("%s [%s]", kc->id,
									 c->reports[s].label)
						     : NULL;
			json_t *bench = json_object();

			for (size_t r = 0; r < kc->nrows; r++) {
				const struct mmr_cmp_cell *cell = &kc->rows[r].cells[s];
				json_t *m;

				if (!cell->n)
					continue;
				m = json_pack("{s:f}", "value", cell->s.median);
				if (cell->s.ci_valid) {
					json_object_set_new(m, "lower_value",
							    json_real(cell->s.ci_lo));
					json_object_set_new(m, "upper_value",
							    json_real(cell->s.ci_hi));
				}
				json_object_set_new(bench, kc->rows[r].metric, m);
			}
			if (json_object_size(bench))
				json_object_set_new(out, name ? name : kc->id, bench);
			else
				json_decref(bench);
			free(name);
		}
	}
	ret = json_dumpf(out, f, JSON_INDENT(1));
	fputc('\n', f);
	json_decref(out);
	return ret ? -EIO : 0;
}
