// SPDX-License-Identifier: GPL-2.0
/*
 * The verdict for one metric of one report against the first: "changed" only
 * when the U test says so (p, or the BH q with --fdr, below alpha) and the
 * whole interval of the change lies beyond the noise floor; labelled by the
 * metric's direction. Not significant with an interval wider than
 * --max-ci-width is "inconclusive", with the samples it would take.
 */
#include "mmrepro/compare.h"
#include "mmrepro/mannwhitney.h"

#include <math.h>
#include <stdlib.h>

const char *mmr_verdict_name(enum mmr_verdict v)
{
	static const char *const names[MMR_V_COUNT] = {
		[MMR_V_BASE] = "base",
		[MMR_V_MISSING] = "missing",
		[MMR_V_TOO_FEW] = "too few samples",
		[MMR_V_SAME] = "~",
		[MMR_V_INCONCLUSIVE] = "inconclusive",
		[MMR_V_IMPROVEMENT] = "improvement",
		[MMR_V_REGRESSION] = "regression",
		[MMR_V_CHANGED] = "changed",
	};

	return v < MMR_V_COUNT ? names[v] : "?";
}

double mmr_cmp_gain_pct(enum mmr_direction dir, double delta_pct)
{
	/* no "-0.00%" for an unchanged lower-is-better metric */
	return dir == MMR_LOWER_IS_BETTER && delta_pct != 0 ? -delta_pct : delta_pct;
}

static bool all_positive(const double *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(x[i] > 0))
			return false;
	return true;
}

/* Interval of the change in percent: the shift of log values when every
 * sample is positive (a ratio, symmetric for speed-ups and slow-downs), else
 * the shift of raw values relative to the base median. */
static void change_interval(const struct mmr_cmp_opts *o, const struct mmr_cmp_cell *base,
			    struct mmr_cmp_cell *cell)
{
	struct mmr_shift sh;
	double level = 1 - o->alpha;

	if (all_positive(base->x, base->n) && all_positive(cell->x, cell->n)) {
		double *lb = malloc(base->n * sizeof(double)),
		       *lc = malloc(cell->n * sizeof(double));
		int ret = -1;

		if (lb && lc) {
			for (size_t i = 0; i < base->n; i++)
				lb[i] = log(base->x[i]);
			for (size_t i = 0; i < cell->n; i++)
				lc[i] = log(cell->x[i]);
			ret = mmr_hl_shift(lb, base->n, lc, cell->n, level, &sh);
		}
		free(lb);
		free(lc);
		if (ret)
			return;
		cell->ci_lo_pct = (exp(sh.lo) - 1) * 100;
		cell->ci_hi_pct = (exp(sh.hi) - 1) * 100;
	} else {
		double m = fabs(base->s.median);

		if (m == 0 || mmr_hl_shift(base->x, base->n, cell->x, cell->n, level, &sh))
			return;
		cell->ci_lo_pct = sh.lo / m * 100;
		cell->ci_hi_pct = sh.hi / m * 100;
	}
	cell->ci_valid = true;
	cell->ci_level = sh.level;
}

void mmr_cmp_judge(const struct mmr_cmp_opts *o, enum mmr_direction dir,
		   const struct mmr_cmp_cell *base, struct mmr_cmp_cell *cell)
{
	struct mmr_mwu u;

	cell->delta_pct = cell->ci_lo_pct = cell->ci_hi_pct = cell->p = cell->q = NAN;
	cell->cost_ratio = NAN;
	if (!base->n || !cell->n) {
		cell->verdict = MMR_V_MISSING;
		return;
	}
	if (base->s.median != 0)
		cell->delta_pct = (cell->s.median / base->s.median - 1) * 100;
	if (base->s.median > 0 && cell->s.median > 0 && dir != MMR_INFO_ONLY)
		cell->cost_ratio = dir == MMR_LOWER_IS_BETTER ? cell->s.median / base->s.median
							      : base->s.median / cell->s.median;
	if (!mmr_mwu(base->x, base->n, cell->x, cell->n, &u)) {
		cell->p = cell->q = u.p;
		cell->exact = u.exact;
	}
	change_interval(o, base, cell);
	if (mmr_mwu_too_few(base->n, cell->n, o->alpha)) {
		cell->verdict = MMR_V_TOO_FEW;
		cell->need_n = mmr_mwu_min_per_side(o->alpha);
		return;
	}
	cell->verdict = MMR_V_SAME; /* until mmr_cmp_decide() */
}

void mmr_cmp_decide(const struct mmr_cmp_opts *o, enum mmr_direction dir,
		    const struct mmr_cmp_cell *base, struct mmr_cmp_cell *cell)
{
	double floor_pct = o->noise_floor_pct;
	bool significant, up;

	if (cell->verdict != MMR_V_SAME)
		return;
	significant = cell->q < o->alpha;
	if (cell->ci_valid)
		significant &= cell->ci_lo_pct > floor_pct || cell->ci_hi_pct < -floor_pct;
	if (significant) {
		up = cell->ci_valid ? cell->ci_lo_pct > 0 : cell->s.median > base->s.median;
		if (dir == MMR_INFO_ONLY)
			cell->verdict = MMR_V_CHANGED;
		else
			cell->verdict = up == (dir == MMR_HIGHER_IS_BETTER) ? MMR_V_IMPROVEMENT
									    : MMR_V_REGRESSION;
		return;
	}
	if (cell->ci_valid && cell->ci_hi_pct - cell->ci_lo_pct > o->max_ci_width_pct) {
		/* the interval narrows as 1/sqrt(n) */
		double width = cell->ci_hi_pct - cell->ci_lo_pct;
		size_t n = base->n > cell->n ? base->n : cell->n;

		cell->verdict = MMR_V_INCONCLUSIVE;
		cell->need_n = (size_t)ceil((double)n * (width / o->max_ci_width_pct) *
					    (width / o->max_ci_width_pct));
	}
}
