// SPDX-License-Identifier: GPL-2.0
/* Ordinary least squares by Householder QR; see fit.h. */
#include "mmrepro/fit.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A column whose part outside the span of the earlier ones is this small
 * relative to its own length is treated as dependent on them. */
#define RANK_TOL 1e-9

int mmr_fit_ols(const double *x, const double *y, size_t n, size_t k, struct mmr_fit *f)
{
	double *a, *b, colnorm[MMR_FIT_MAX_K], rinv[MMR_FIT_MAX_K][MMR_FIT_MAX_K] = { { 0 } };
	double mean = 0, sst = 0, sse = 0;
	int ret = 0;

	memset(f, 0, sizeof(*f));
	if (k < 1 || k > MMR_FIT_MAX_K || n < k)
		return -EINVAL;
	a = malloc(n * k * sizeof(*a));
	b = malloc(n * sizeof(*b));
	if (!a || !b) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(a, x, n * k * sizeof(*a));
	memcpy(b, y, n * sizeof(*b));
	for (size_t j = 0; j < k; j++) {
		colnorm[j] = 0;
		for (size_t i = 0; i < n; i++)
			colnorm[j] += a[i * k + j] * a[i * k + j];
		colnorm[j] = sqrt(colnorm[j]);
	}
	/* Reflect column j's tail onto its diagonal; apply the same to y. */
	for (size_t j = 0; j < k; j++) {
		double norm = 0, alpha, vv = 0;

		for (size_t i = j; i < n; i++)
			norm += a[i * k + j] * a[i * k + j];
		norm = sqrt(norm);
		if (colnorm[j] == 0 || norm <= RANK_TOL * colnorm[j]) {
			ret = -EDOM;
			goto out;
		}
		alpha = a[j * k + j] > 0 ? -norm : norm;
		a[j * k + j] -= alpha; /* the tail of column j is now v */
		for (size_t i = j; i < n; i++)
			vv += a[i * k + j] * a[i * k + j];
		for (size_t c = j + 1; c < k; c++) {
			double s = 0;

			for (size_t i = j; i < n; i++)
				s += a[i * k + j] * a[i * k + c];
			for (size_t i = j; i < n; i++)
				a[i * k + c] -= 2 * s / vv * a[i * k + j];
		}
		{
			double s = 0;

			for (size_t i = j; i < n; i++)
				s += a[i * k + j] * b[i];
			for (size_t i = j; i < n; i++)
				b[i] -= 2 * s / vv * a[i * k + j];
		}
		a[j * k + j] = alpha; /* R's diagonal; R above it is in place */
	}
	/* R coef = (Q'y)[0..k) by back-substitution; R^-1 the same way. */
	for (size_t j = k; j-- > 0;) {
		double s = b[j];

		for (size_t c = j + 1; c < k; c++)
			s -= a[j * k + c] * f->coef[c];
		f->coef[j] = s / a[j * k + j];
	}
	for (size_t col = 0; col < k; col++) {
		for (size_t j = col + 1; j-- > 0;) {
			double s = j == col ? 1 : 0;

			for (size_t c = j + 1; c <= col; c++)
				s -= a[j * k + c] * rinv[c][col];
			rinv[j][col] = s / a[j * k + j];
		}
	}
	for (size_t i = 0; i < k; i++)
		for (size_t j = 0; j < k; j++)
			for (size_t c = 0; c < k; c++)
				f->inv[i][j] += rinv[i][c] * rinv[j][c];
	for (size_t i = k; i < n; i++)
		sse += b[i] * b[i]; /* the part of Q'y the columns cannot reach */
	for (size_t i = 0; i < n; i++)
		mean += y[i] / (double)n;
	for (size_t i = 0; i < n; i++)
		sst += (y[i] - mean) * (y[i] - mean);
	f->n = n;
	f->k = k;
	f->dof = n - k;
	f->s2 = f->dof ? sse / (double)f->dof : 0;
	f->r2 = sst > 0 ? 1 - sse / sst : 1;
	for (size_t j = 0; j < k; j++)
		f->se[j] = sqrt(fmax(0, f->s2 * f->inv[j][j]));
out:
	free(a);
	free(b);
	return ret;
}

double mmr_fit_predict(const struct mmr_fit *f, const double *x0, double *se)
{
	double yhat = 0, var = 0;

	for (size_t i = 0; i < f->k; i++) {
		yhat += f->coef[i] * x0[i];
		for (size_t j = 0; j < f->k; j++)
			var += x0[i] * f->inv[i][j] * x0[j];
	}
	if (se)
		*se = sqrt(fmax(0, f->s2 * var)); /* var >= 0 but for rounding */
	return yhat;
}

double mmr_t975(size_t dof)
{
	static const double table[] = {
		12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
		2.2010,	 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
		2.0796,	 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
	};
	const double z = 1.959964, v = (double)dof;

	if (dof == 0)
		return NAN;
	if (dof <= sizeof(table) / sizeof(table[0]))
		return table[dof - 1];
	/* Cornish-Fisher expansion about the normal quantile: < 1e-4 off past 30 */
	return z + (z * z * z + z) / (4 * v) +
	       (5 * pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * v * v);
}
