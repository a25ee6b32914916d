// SPDX-License-Identifier: GPL-2.0
/* Least squares: exact recovery, agreement with a reference solver on noisy
 * data (values from numpy.linalg.lstsq), rank deficiency, t quantiles. */
#include "check.h"
#include "mmrepro/fit.h"

/* the design of munmap_threads' model: 1, GiB, GiB x other CPUs */
static const double X[7][3] = {
	{ 1, 0.25, 0 },	 { 1, 0.25, 0.25 }, { 1, 1, 0 }, { 1, 1, 1 },
	{ 1, 0.5, 0.5 }, { 1, 2, 0 },	    { 1, 2, 2 },
};

static void exact(void)
{
	double y[7], x0[3] = { 1, 496, 496 * 128 }, se;
	struct mmr_fit f;

	for (int i = 0; i < 7; i++)
		y[i] = 3 + 2 * X[i][1] + 0.5 * X[i][2];
	CHECK(mmr_fit_ols(&X[0][0], y, 7, 3, &f) == 0);
	CHECK_NEAR(f.coef[0], 3, 1e-9);
	CHECK_NEAR(f.coef[1], 2, 1e-9);
	CHECK_NEAR(f.coef[2], 0.5, 1e-9);
	CHECK_NEAR(f.r2, 1, 1e-12);
	CHECK(f.dof == 4);
	CHECK_NEAR(mmr_fit_predict(&f, x0, &se), 3 + 2 * 496 + 0.5 * 496 * 128, 1e-6);
	CHECK_NEAR(se, 0, 1e-6);
}

static void noisy(void)
{
	static const double y[7] = { 1.1, 1.9, 3.05, 4.4, 2.6, 5.1, 7.9 };
	double x0[3] = { 1, 496, 496 * 128 }, se, yhat;
	struct mmr_fit f;

	CHECK(mmr_fit_ols(&X[0][0], y, 7, 3, &f) == 0);
	CHECK_NEAR(f.coef[0], 0.81866389, 1e-7);
	CHECK_NEAR(f.coef[1], 2.14604293, 1e-7);
	CHECK_NEAR(f.coef[2], 1.41254726, 1e-7);
	CHECK_NEAR(f.se[0], 0.11067767, 1e-7);
	CHECK_NEAR(f.se[1], 0.10262871, 1e-7);
	CHECK_NEAR(f.se[2], 0.10373228, 1e-7);
	CHECK_NEAR(f.r2, 0.9964988041675352, 1e-10);
	yhat = mmr_fit_predict(&f, x0, &se);
	CHECK_NEAR(yhat, 90745.05643383531, 1e-5);
	CHECK_NEAR(se, 6562.080819744079, 1e-5);
}

static void degenerate(void)
{
	/* the thread column is a multiple of the size column: no thread count varied */
	double x[4][3] = { { 1, 1, 2 }, { 1, 2, 4 }, { 1, 3, 6 }, { 1, 4, 8 } };
	double y[4] = { 1, 2, 3, 4 };
	struct mmr_fit f;

	CHECK(mmr_fit_ols(&x[0][0], y, 4, 3, &f) == -EDOM);
	CHECK(mmr_fit_ols(&x[0][0], y, 2, 3, &f) == -EINVAL); /* fewer points than unknowns */
	CHECK(mmr_fit_ols(&x[0][0], y, 4, 0, &f) == -EINVAL);
	/* two points, two unknowns: an exact fit with no degrees of freedom left */
	{
		double x2[2][2] = { { 1, 1 }, { 1, 3 } }, y2[2] = { 5, 9 };

		CHECK(mmr_fit_ols(&x2[0][0], y2, 2, 2, &f) == 0);
		CHECK_NEAR(f.coef[0], 3, 1e-12);
		CHECK_NEAR(f.coef[1], 2, 1e-12);
		CHECK(f.dof == 0 && f.se[1] == 0);
	}
}

int main(void)
{
	exact();
	noisy();
	degenerate();
	CHECK_NEAR(mmr_t975(1), 12.7062, 1e-4);
	CHECK_NEAR(mmr_t975(30), 2.0423, 1e-4);
	CHECK_NEAR(mmr_t975(31), 2.0395134, 2e-4);
	CHECK_NEAR(mmr_t975(40), 2.0210754, 1e-4);
	CHECK_NEAR(mmr_t975(100), 1.9839715, 1e-4);
	CHECK(isnan(mmr_t975(0)));
	return check_done("test_fit");
}
