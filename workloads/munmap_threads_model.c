// SPDX-License-Identifier: GPL-2.0
/*
 * munmap_threads, after the run: a cost model fitted over the sweep's cases
 * and its projection to the scale of CLAIMS C4, labelled as an extrapolation.
 *
 *   op_ns = fixed_ns + ns_per_gib * GiB + ns_per_gib_per_thread * GiB * other_cpus
 *
 * other_cpus counts the CPUs other than the timing thread's that run threads
 * of the process: that is what a shootdown has to reach (a second thread on
 * the same CPU adds no target). One fit per (backing, op, mode), and for
 * mode=walk per walker too, on the median op_ns of each ok case, with the
 * threads=0 cases of (backing, op) as the baseline (those of the same mode
 * and walker when the config has them).
 * The sleep mode's per-thread term is the control: idle threads should cost
 * nothing.
 */
#include "mmrepro/fit.h"
#include "mmrepro/report.h"
#include "mmrepro/workload.h"
#include "munmap_threads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The claim's scale. QEMU's "-m 496G" means GiB; one thread per CPU. */
#define C4_GIB	   496
#define C4_THREADS 128

#define MODEL_TEXT                                                                                 \
	"op_ns = fixed_ns + ns_per_gib * GiB + ns_per_gib_per_thread * GiB * other_cpus, "         \
	"other_cpus = CPUs other than the timing thread's that run threads of the process"

struct points {
	size_t n;
	const char **id;
	double *gib, *other, *ns;
	json_int_t *threads;
};

struct model {
	const char *form; /* "full", "per_gib", "size_only" or "none" */
	const char *note;
	struct mmr_fit fit;
	int fixed, per_gib, per_thread; /* index into fit.coef, or -1 */
	bool have_proj, have_ci;
	double proj_ns, proj_lo, proj_hi;
};

static const char *param_str(json_t *c, const char *k)
{
	const char *s = json_string_value(json_object_get(json_object_get(c, "params"), k));

	return s ? s : "";
}

/* Add case c to the points if it ran and has what the model needs. */
static void add_point(struct points *p, json_t *c)
{
	json_t *params = json_object_get(c, "params"), *extra = json_object_get(c, "extra");
	json_t *op_ns = json_object_get(json_object_get(c, "metrics"), "op_ns");
	json_t *med = json_object_get(json_object_get(op_ns, "summary"), "median");
	json_t *other = json_object_get(extra, "other_cpus");
	double gib = json_number_value(json_object_get(params, "size")) / (double)MMR_GiB;
	size_t i = p->n;

	if (strcmp(json_string_value(json_object_get(c, "status")) ?: "", "ok") ||
	    !json_is_number(med) || !json_is_integer(other) || gib <= 0)
		return;
	p->id[i] = json_string_value(json_object_get(c, "id"));
	p->gib[i] = gib;
	p->threads[i] = json_integer_value(json_object_get(params, "threads"));
	p->other[i] = (double)json_integer_value(other);
	p->ns[i] = json_number_value(med);
	p->n++;
}

static bool has_threads(json_t *c)
{
	return json_integer_value(json_object_get(json_object_get(c, "params"), "threads")) != 0;
}

/* mode=walk: how the threads walk (a report from before walker existed
 * walked by vmsplice); NULL for the other modes. */
static const char *walker_of(json_t *c)
{
	const char *w = param_str(c, "walker");

	if (strcmp(param_str(c, "mode"), "walk"))
		return NULL;
	return w[0] ? w : "vmsplice";
}

/* Does case c run the group's mode (and walker)? */
static bool same_mode(json_t *c, json_t *group)
{
	const char *gw = json_string_value(json_object_get(group, "walker")), *w = walker_of(c);

	return !strcmp(param_str(c, "mode"), json_string_value(json_object_get(group, "mode"))) &&
	       (!gw || (w && !strcmp(w, gw)));
}

/*
 * The group's own cases, and its baseline: the threads=0 cases of the same
 * backing and op with the same mode (and walker) when there are some (measured beside the
 * threaded ones when threads is the innermost matrix axis, so drift of the
 * machine does not pass for a per-thread cost), else every threads=0 case of
 * that backing and op (with no threads, the mode makes no difference).
 */
static void collect(json_t *cases, json_t *group, struct points *p)
{
	const char *backing = json_string_value(json_object_get(group, "backing"));
	const char *op = json_string_value(json_object_get(group, "op"));
	bool own_baseline = false;
	json_t *c;
	size_t i;

	json_array_foreach (cases, i, c)
		own_baseline = own_baseline ||
			       (!has_threads(c) && !strcmp(param_str(c, "backing"), backing) &&
				!strcmp(param_str(c, "op"), op) && same_mode(c, group));
	p->n = 0;
	json_array_foreach (cases, i, c) {
		if (strcmp(param_str(c, "backing"), backing) || strcmp(param_str(c, "op"), op))
			continue;
		if (!same_mode(c, group) && (has_threads(c) || own_baseline))
			continue;
		add_point(p, c);
	}
}

static unsigned distinct(const double *v, size_t n)
{
	unsigned d = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < i && v[j] != v[i])
			j++;
		d += j == i;
	}
	return d;
}

static void project(struct model *m, const double *x0, double scale)
{
	double se;

	m->proj_ns = mmr_fit_predict(&m->fit, x0, &se) * scale;
	m->have_proj = isfinite(m->proj_ns);
	m->have_ci = m->have_proj && m->fit.dof > 0 && isfinite(se);
	if (m->have_ci) {
		m->proj_lo = m->proj_ns - mmr_t975(m->fit.dof) * se * scale;
		m->proj_hi = m->proj_ns + mmr_t975(m->fit.dof) * se * scale;
	}
}

/* The richest of the three forms the points can tell apart. */
static void fit_model(const struct points *p, struct model *m)
{
	unsigned sizes = distinct(p->gib, p->n), others = distinct(p->other, p->n);
	double *x = calloc(3 * p->n + 1, sizeof(double)), *y = calloc(p->n + 1, sizeof(double));
	const double g = C4_GIB, r = C4_THREADS;

	memset(m, 0, sizeof(*m));
	m->form = "none";
	m->fixed = m->per_gib = m->per_thread = -1;
	m->note = "needs ok cases of at least two sizes or two thread counts";
	if (!x || !y)
		goto out;
	if (sizes >= 2 && others >= 2) {
		for (size_t i = 0; i < p->n; i++) {
			x[3 * i] = 1;
			x[3 * i + 1] = p->gib[i];
			x[3 * i + 2] = p->gib[i] * p->other[i];
			y[i] = p->ns[i];
		}
		if (mmr_fit_ols(x, y, p->n, 3, &m->fit) == 0) {
			const double x0[3] = { 1, g, g * r };

			m->form = "full";
			m->note = NULL;
			m->fixed = 0, m->per_gib = 1, m->per_thread = 2;
			project(m, x0, 1);
			goto out;
		}
	}
	if (others >= 2) {
		/* the cost per GiB against threads, the fixed cost folded in */
		for (size_t i = 0; i < p->n; i++) {
			x[2 * i] = 1;
			x[2 * i + 1] = p->other[i];
			y[i] = p->ns[i] / p->gib[i];
		}
		if (mmr_fit_ols(x, y, p->n, 2, &m->fit) == 0) {
			const double x0[2] = { 1, r };

			m->form = "per_gib";
			m->note = sizes < 2
					  ? "one region size: the fixed cost is folded into the "
					    "per-GiB terms, and R^2 is that of op_ns per GiB"
					  : "sizes and thread counts did not vary independently: "
					    "the fixed cost is folded into the per-GiB terms, and "
					    "R^2 is that of op_ns per GiB";
			m->per_gib = 0, m->per_thread = 1;
			project(m, x0, g);
			goto out;
		}
	}
	if (sizes >= 2) {
		for (size_t i = 0; i < p->n; i++) {
			x[2 * i] = 1;
			x[2 * i + 1] = p->gib[i];
			y[i] = p->ns[i];
		}
		if (mmr_fit_ols(x, y, p->n, 2, &m->fit) == 0) {
			m->form = "size_only";
			m->note =
				"every case had the same number of other CPUs running threads: no "
				"per-thread term, so no projection";
			m->fixed = 0, m->per_gib = 1;
		}
	}
out:
	free(x);
	free(y);
}

/* jansson has no NaN or infinity: a number the data cannot give is null */
static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *coefs(const struct model *m, const double *v)
{
	const int idx[3] = { m->fixed, m->per_gib, m->per_thread };
	json_t *o[3];

	for (int i = 0; i < 3; i++)
		o[i] = idx[i] < 0 ? json_null() : num(v[idx[i]]);
	return json_pack("{s:o,s:o,s:o}", "fixed_ns", o[0], "ns_per_gib", o[1],
			 "ns_per_gib_per_thread", o[2]);
}

static json_t *projection_json(const struct points *p, const struct model *m)
{
	double lo_g = INFINITY, hi_g = 0, hi_r = 0;
	char label[320];

	if (!m->have_proj)
		return json_null();
	for (size_t i = 0; i < p->n; i++) {
		lo_g = fmin(lo_g, p->gib[i]);
		hi_g = fmax(hi_g, p->gib[i]);
		hi_r = fmax(hi_r, p->other[i]);
	}
	snprintf(label, sizeof(label),
		 "an extrapolation of this machine's fit (%.3g..%.3g GiB, up to %.0f other CPUs "
		 "running threads) to %d GiB and %d threads each on a CPU of its own; not a "
		 "measurement",
		 lo_g, hi_g, hi_r, C4_GIB, C4_THREADS);
	return json_pack("{s:I,s:i,s:i,s:f,s:o,s:s}", "bytes", (json_int_t)C4_GIB * (1 << 30),
			 "threads", C4_THREADS, "other_cpus", C4_THREADS, "op_ns", m->proj_ns,
			 "ci95",
			 m->have_ci ? json_pack("{s:f,s:f}", "lo", m->proj_lo, "hi", m->proj_hi)
				    : json_null(),
			 "label", label);
}

/* The 95% interval of the per-thread term, when there are residuals to say. */
static bool per_thread_ci(const struct model *m, double *lo, double *hi)
{
	double t = mmr_t975(m->fit.dof);

	if (m->per_thread < 0 || !m->fit.dof || !isfinite(m->fit.se[m->per_thread]))
		return false;
	*lo = m->fit.coef[m->per_thread] - t * m->fit.se[m->per_thread];
	*hi = m->fit.coef[m->per_thread] + t * m->fit.se[m->per_thread];
	return true;
}

static json_t *fit_json(json_t *group, const struct points *p, const struct model *m)
{
	json_t *g = json_deep_copy(group), *pts = json_array();

	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(pts,
				      json_pack("{s:s,s:f,s:I,s:I,s:f}", "case", p->id[i], "gib",
						p->gib[i], "threads", p->threads[i], "other_cpus",
						(json_int_t)p->other[i], "op_ns", p->ns[i]));
	json_object_set_new(g, "form", json_string(m->form));
	json_object_set_new(g, "points", pts);
	json_object_set_new(g, "coef", coefs(m, m->fit.coef));
	json_object_set_new(g, "stderr", coefs(m, m->fit.se));
	json_object_set_new(g, "r2", strcmp(m->form, "none") ? num(m->fit.r2) : json_null());
	json_object_set_new(g, "dof", json_integer((json_int_t)m->fit.dof));
	{
		double lo, hi;

		json_object_set_new(g, "per_thread_ci95",
				    per_thread_ci(m, &lo, &hi)
					    ? json_pack("{s:f,s:f}", "lo", lo, "hi", hi)
					    : json_null());
	}
	json_object_set_new(g, "note", m->note ? json_string(m->note) : json_null());
	json_object_set_new(g, "projection", projection_json(p, m));
	return g;
}

static void summary(json_t *lines, const char *name, const struct points *p, const struct model *m)
{
	char b[32] = "", c[48] = "", a[48] = "", v[32], lo[32], hi[32], ci[96] = "";
	double clo, chi;

	if (!strcmp(m->form, "none")) {
		json_array_append_new(lines, json_sprintf("%s: no fit (%s)", name, m->note));
		return;
	}
	mmr_format_value(m->fit.coef[m->per_gib], "ns/GiB", b, sizeof(b));
	if (m->per_thread >= 0) {
		double k = m->fit.coef[m->per_thread];

		c[0] = k < 0 ? '-' : '+';
		c[1] = ' ';
		mmr_format_value(fabs(k), "ns/GiB", c + 2, sizeof(c) - 2);
	}
	if (m->fixed >= 0)
		mmr_format_value(m->fit.coef[m->fixed], "ns", a, sizeof(a));
	json_array_append_new(
		lines, json_sprintf("%s: %s%s%s%s%s%s, R^2 %.3f over %zu cases%s", name, b,
				    m->per_thread >= 0 ? " " : "", c,
				    m->per_thread >= 0 ? " per thread on another CPU" : "",
				    m->fixed >= 0 ? ", fixed " : "", a, m->fit.r2, p->n,
				    per_thread_ci(m, &clo, &chi) && clo <= 0 && chi >= 0
					    ? "; the per-thread term is not distinguishable from 0"
					    : ""));
	if (!m->have_proj)
		return;
	mmr_format_value(m->proj_ns, "ns", v, sizeof(v));
	if (m->have_ci) {
		mmr_format_value(m->proj_lo, "ns", lo, sizeof(lo));
		mmr_format_value(m->proj_hi, "ns", hi, sizeof(hi));
		/* a time below zero reads as nonsense: say what it means (the JSON
		 * keeps the interval as fitted) */
		if (m->proj_lo < 0)
			snprintf(ci, sizeof(ci), " (95%% CI 0 .. %s: the fit cannot exclude 0)",
				 hi);
		else
			snprintf(ci, sizeof(ci), " (95%% CI %s .. %s)", lo, hi);
	}
	json_array_append_new(lines,
			      json_sprintf("  projected to %d GiB x %d threads: %s%s, an "
					   "extrapolation of this machine's fit, not a measurement",
					   C4_GIB, C4_THREADS, v, ci));
}

/* A group per (backing, op, mode[, walker]) that has a case with threads, in
 * case order. */
static json_t *groups_of(json_t *cases)
{
	json_t *groups = json_array(), *c, *g;
	size_t i, k;

	json_array_foreach (cases, i, c) {
		json_t *key;
		bool seen = false;

		if (json_integer_value(json_object_get(json_object_get(c, "params"), "threads")) ==
		    0)
			continue;
		key = json_pack("{s:s,s:s,s:s}", "backing", param_str(c, "backing"), "op",
				param_str(c, "op"), "mode", param_str(c, "mode"));
		if (key && walker_of(c))
			json_object_set_new(key, "walker", json_string(walker_of(c)));
		json_array_foreach (groups, k, g)
			seen = seen || json_equal(g, key);
		if (seen)
			json_decref(key);
		else
			json_array_append_new(groups, key);
	}
	return groups;
}

json_t *munmap_threads_analyze(json_t *cases)
{
	size_t n = json_array_size(cases) + 1, i;
	struct points p = {
		.id = calloc(n, sizeof(*p.id)),
		.gib = calloc(n, sizeof(double)),
		.other = calloc(n, sizeof(double)),
		.ns = calloc(n, sizeof(double)),
		.threads = calloc(n, sizeof(json_int_t)),
	};
	json_t *groups = groups_of(cases), *fits = json_array(), *lines = json_array(), *g,
	       *out = NULL;

	if (!p.id || !p.gib || !p.other || !p.ns || !p.threads)
		goto done;
	json_array_foreach (groups, i, g) {
		const char *walker = json_string_value(json_object_get(g, "walker"));
		char name[160];
		struct model m;

		snprintf(name, sizeof(name), "%s %s %s%s%s",
			 json_string_value(json_object_get(g, "backing")),
			 json_string_value(json_object_get(g, "op")),
			 json_string_value(json_object_get(g, "mode")), walker ? "/" : "",
			 walker ? walker : "");
		collect(cases, g, &p);
		fit_model(&p, &m);
		json_array_append_new(fits, fit_json(g, &p, &m));
		summary(lines, name, &p, &m);
	}
	if (json_array_size(fits))
		json_array_append_new(
			lines, json_string("C4 measured 275 s for 496 GB x 128 CPUs on "
					   "ppc64 before its fix, 39 ms after it (Linux 5.8)"));
	out = json_pack(
		"{s:s,s:s,s:{s:I,s:i,s:s},s:O,s:O}", "model", MODEL_TEXT, "method",
		"ordinary least squares (Householder QR) on the median op_ns of each ok case; "
		"the baseline of a mode (and walker) is its own threads=0 cases, or every threads=0 "
		"case of the backing and op when it has none",
		"projection_target", "bytes", (json_int_t)C4_GIB * (1 << 30), "threads", C4_THREADS,
		"source",
		"CLAIMS C4: munmap() of 496 GB of THP in a QEMU guest with 128 CPUs took 275 s on "
		"ppc64 (20190916205527.1859-1-leonardo@linux.ibm.com)",
		"fits", fits, "summary_lines", lines);
done:
	json_decref(groups);
	json_decref(fits);
	json_decref(lines);
	free(p.id);
	free(p.gib);
	free(p.other);
	free(p.ns);
	free(p.threads);
	return out;
}
