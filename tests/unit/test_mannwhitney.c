// SPDX-License-Identifier: GPL-2.0
/* Mann-Whitney U, the Hodges-Lehmann interval and BH against values worked
 * out by hand (scipy checks the rest: tests/integration/test_compare_stats.py). */
#include "check.h"
#include "mmrepro/mannwhitney.h"

int main(void)
{
	const double lo3[] = { 1, 2, 3 }, hi3[] = { 4, 5, 6 }, far3[] = { 11, 12, 13 };
	const double lo4[] = { 1, 2, 3, 4 }, hi4[] = { 5, 6, 7, 8 };
	const double same[] = { 5, 5, 5, 5, 5 };
	double big_x[30], big_y[30];
	const double p[] = { 0.01, 0.04, 0.03, 0.5, NAN };
	double q[5];
	struct mmr_shift sh;
	struct mmr_mwu u;

	/* 3 + 3 fully separated: U = 0, the most extreme of C(6,3) = 20
	 * arrangements on each side: p = 2/20 */
	CHECK(mmr_mwu(lo3, 3, hi3, 3, &u) == 0);
	CHECK_NEAR(u.u, 0, 0);
	CHECK_NEAR(u.p, 0.1, 1e-15);
	CHECK(u.exact && !u.ties);
	/* symmetric in the order of the samples; U counts x > y pairs */
	CHECK(mmr_mwu(hi3, 3, lo3, 3, &u) == 0);
	CHECK_NEAR(u.u, 9, 0);
	CHECK_NEAR(u.p, 0.1, 1e-15);
	/* 4 + 4: 2 / C(8,4) = 2/70 */
	CHECK(mmr_mwu(lo4, 4, hi4, 4, &u) == 0);
	CHECK_NEAR(u.p, 2.0 / 70, 1e-15);
	/* everything tied: no evidence */
	CHECK(mmr_mwu(same, 5, same, 5, &u) == 0);
	CHECK(u.ties);
	CHECK_NEAR(u.p, 1, 0);
	/* 60 samples: normal approximation; identical sets sit at the mean */
	for (int i = 0; i < 30; i++)
		big_x[i] = big_y[i] = i * 1.5;
	CHECK(mmr_mwu(big_x, 30, big_y, 30, &u) == 0);
	CHECK(!u.exact && u.ties);
	CHECK_NEAR(u.u, 450, 0);
	CHECK_NEAR(u.p, 1, 0);
	CHECK(mmr_mwu(lo3, 0, hi3, 3, &u) == -EINVAL);

	/* the smallest samples that can reach p < alpha */
	CHECK(mmr_mwu_too_few(3, 3, 0.05));  /* 2/20 */
	CHECK(mmr_mwu_too_few(3, 4, 0.05));  /* 2/35 = 0.057 */
	CHECK(!mmr_mwu_too_few(3, 5, 0.05)); /* 2/56 = 0.036 */
	CHECK(!mmr_mwu_too_few(4, 4, 0.05));
	CHECK(mmr_mwu_min_per_side(0.05) == 4);
	CHECK(mmr_mwu_min_per_side(0.01) == 5); /* 2/252 */

	/* y - x for {1,2,3} and {11,12,13}: 8 9 9 10 10 10 11 11 12, median 10.
	 * U of 3+3 has counts 1 1 2 3 3 3 3 2 1 1 over 0..9 (20 in all): for
	 * 80% take c = 2 (P(U <= 1) = 2/20 <= 0.1 < 4/20), so [d(2), d(8)] =
	 * [9, 11] with coverage 1 - 4/20. At 95% no c exists (1/20 > 0.025). */
	CHECK(mmr_hl_shift(lo3, 3, far3, 3, 0.8, &sh) == 0);
	CHECK_NEAR(sh.est, 10, 0);
	CHECK_NEAR(sh.lo, 9, 0);
	CHECK_NEAR(sh.hi, 11, 0);
	CHECK_NEAR(sh.level, 0.8, 1e-15);
	CHECK(mmr_hl_shift(lo3, 3, far3, 3, 0.95, &sh) == -EDOM);

	/* BH: sorted .01 .03 .04 .5 (m = 4): .5, min(.5, .04*4/3), min(., .03*4/2),
	 * .01*4 -> q = .04 .0533 .0533 .5; NaN stays out */
	CHECK(mmr_bh_adjust(p, 5, q) == 0);
	CHECK_NEAR(q[0], 0.04, 1e-15);
	CHECK_NEAR(q[1], 0.04 * 4 / 3, 1e-15);
	CHECK_NEAR(q[2], 0.04 * 4 / 3, 1e-15);
	CHECK_NEAR(q[3], 0.5, 1e-15);
	CHECK(isnan(q[4]));
	return check_done("test_mannwhitney");
}
