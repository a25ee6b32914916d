/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Ordinary least squares for the small linear cost models workloads fit in
 * their analyze() hook (a few coefficients, tens of points): coefficients,
 * their standard errors, R^2, and a prediction with the standard error of the
 * fitted mean, so a projection far outside the measured range can carry an
 * honest interval.
 */
#ifndef MMREPRO_FIT_H
#define MMREPRO_FIT_H

#include <stddef.h>

#define MMR_FIT_MAX_K 4

struct mmr_fit {
	size_t n, k;				  /* points, coefficients */
	double coef[MMR_FIT_MAX_K];		  /* y ~ sum coef[j] * x[j] */
	double se[MMR_FIT_MAX_K];		  /* standard errors (0 when dof == 0) */
	double inv[MMR_FIT_MAX_K][MMR_FIT_MAX_K]; /* (X'X)^-1 */
	double s2;				  /* residual variance, SSE / dof */
	double r2;				  /* 1 - SSE/SST about the mean of y */
	size_t dof;				  /* n - k */
};

/*
 * Fit y ~ X b, X row-major n x k (include a column of ones for an intercept).
 * Householder QR, so nearly collinear columns lose digits gracefully instead
 * of squaring the condition number as the normal equations would.
 * Returns 0, -EINVAL (k out of 1..MMR_FIT_MAX_K or n < k) or -EDOM (the columns
 * are linearly dependent: the data cannot tell those coefficients apart).
 */
int mmr_fit_ols(const double *x, const double *y, size_t n, size_t k, struct mmr_fit *f);

/* The fitted mean at x0 (k values); *se gets its standard error. */
double mmr_fit_predict(const struct mmr_fit *f, const double *x0, double *se);

/* Two-sided 95% quantile of Student's t with dof degrees of freedom (dof >= 1). */
double mmr_t975(size_t dof);

#endif
