// SPDX-License-Identifier: GPL-2.0
/* The sweep table of mthp_alloc; see mthp_alloc_analysis.h. */
#include "mthp_alloc_analysis.h"
#include "mmrepro/stats.h"
#include "mmrepro/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Row fields: the median of each of these metrics. */
static const char *const columns[] = {
	"ops_per_s",	       "heap_bytes",	      "bloat_ratio",	       "hidden_bytes",
	"mthp_fault_fallback", "mthp_split_deferred", "partially_mapped",      "reclaimed_bytes",
	"reclaim_ns",	       "mthp_split",	      "mthp_partially_mapped",
};

/* Lines no longer than this: the per-size line is cut in two past it. */
#define LINE_MAX_COLS 100

static double median(json_t *c, const char *metric)
{
	json_t *m = json_object_get(json_object_get(c, "metrics"), metric);
	json_t *v = json_object_get(json_object_get(m, "summary"), "median");

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static json_t *number_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of an array of numbers; NAN when empty. */
static double median_of(json_t *a)
{
	size_t n = json_array_size(a), i, k = 0;
	double *x, m;
	json_t *v;

	if (!n)
		return NAN;
	x = calloc(n, sizeof(*x));
	if (!x)
		return NAN;
	json_array_foreach (a, i, v)
		if (json_is_number(v))
			x[k++] = json_number_value(v);
	qsort(x, k, sizeof(*x), cmp_double);
	m = k ? mmr_quantile_sorted(x, k, 0.5) : NAN;
	free(x);
	return m;
}

/*
 * Medians of the case's per-size deltas (extra.per_size), for the sizes of
 * its set (extra.thp_sizes_seen): {"16K": {"split_deferred": 12, ...}, ...}.
 */
static json_t *per_size_medians(json_t *c)
{
	json_t *extra = json_object_get(c, "extra"), *out = json_object();
	json_t *all = json_object_get(extra, "per_size"), *stats, *a;
	const char *seen = json_string_value(json_object_get(extra, "thp_sizes_seen"));
	char buf[256], *save = NULL;
	const char *stat;

	if (!seen || !strcmp(seen, "none"))
		return out;
	snprintf(buf, sizeof(buf), "%s", seen);
	for (char *sz = strtok_r(buf, "+", &save); sz; sz = strtok_r(NULL, "+", &save)) {
		json_t *o = json_object();

		stats = json_object_get(all, sz);
		json_object_foreach (stats, stat, a)
			json_object_set_new(o, stat, number_or_null(median_of(a)));
		json_object_set_new(out, sz, o);
	}
	return out;
}

/* Same parameters but `mthp`? */
static bool same_but_mthp(json_t *a, json_t *b)
{
	json_t *pa = json_object_get(a, "params"), *pb = json_object_get(b, "params"), *v;
	const char *k;

	if (json_object_size(pa) != json_object_size(pb))
		return false;
	json_object_foreach (pa, k, v)
		if (strcmp(k, "mthp") && !json_equal(v, json_object_get(pb, k)))
			return false;
	return true;
}

/* Parameters besides the size set and the allocator that differ between
 * the cases: they label the rows. */
static json_t *varying(json_t *ok)
{
	json_t *first = json_object_get(json_array_get(ok, 0), "params"), *out = json_array(), *v,
	       *c;
	const char *k;
	size_t i;

	json_object_foreach (first, k, v) {
		if (!strcmp(k, "mthp") || !strcmp(k, "allocator"))
			continue;
		json_array_foreach (ok, i, c) {
			if (!json_equal(v, json_object_get(json_object_get(c, "params"), k))) {
				json_array_append_new(out, json_string(k));
				break;
			}
		}
	}
	return out;
}

static void fmt_count(double v, char *buf, size_t len)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (fabs(v) >= 1e6)
		snprintf(buf, len, "%.2fM", v / 1e6);
	else if (fabs(v) >= 1e4)
		snprintf(buf, len, "%.1fK", v / 1e3);
	else
		snprintf(buf, len, "%.0f", v);
}

static void fmt_mib(double v, char *buf, size_t len)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1fM", v / (double)MMR_MiB);
}

static void fmt_fixed(double v, int decimals, const char *suffix, char *buf, size_t len)
{
	if (!isfinite(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f%s", decimals, v, suffix);
}

/* "16K:3/32K:0/64K:12": one stat of every size of the row's set. */
static void fmt_per_size(json_t *per_size, const char *stat, char *buf, size_t len)
{
	size_t off = 0;
	const char *sz;
	json_t *o;
	char v[16];

	buf[0] = '\0';
	json_object_foreach (per_size, sz, o) {
		json_t *m = json_object_get(o, stat);

		fmt_count(json_is_number(m) ? json_number_value(m) : NAN, v, sizeof(v));
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s:%s", off ? "/" : "", sz,
						v);
	}
}

static void label(json_t *c, json_t *vary, char *buf, size_t len)
{
	json_t *params = json_object_get(c, "params"), *k;
	size_t i, off;

	off = (size_t)snprintf(buf, len, "%-12s %-9s",
			       json_string_value(json_object_get(params, "mthp")),
			       json_string_value(json_object_get(params, "allocator")));
	json_array_foreach (vary, i, k) {
		json_t *v = json_object_get(params, json_string_value(k));
		char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, " %s=%s",
						json_string_value(k), text ? text : "?");
		free(text);
	}
}

/* Under a row whose set has several sizes: its fallbacks and deferred splits
 * per size, on one line or, when that is too long, on two. */
static void per_size_lines(json_t *per_size, json_t *lines)
{
	char fb[256], def[256], line[600];

	if (json_object_size(per_size) < 2)
		return;
	fmt_per_size(per_size, "anon_fault_fallback", fb, sizeof(fb));
	fmt_per_size(per_size, "split_deferred", def, sizeof(def));
	snprintf(line, sizeof(line), "  per size: fallback %s  deferred %s", fb, def);
	if (strlen(line) <= LINE_MAX_COLS) {
		json_array_append_new(lines, json_string(line));
		return;
	}
	snprintf(line, sizeof(line), "  per size: fallback %s", fb);
	json_array_append_new(lines, json_string(line));
	snprintf(line, sizeof(line), "  per size: deferred %s", def);
	json_array_append_new(lines, json_string(line));
}

static json_t *row(json_t *c, json_t *none, json_t *vary, size_t width, char *line, size_t len)
{
	json_t *r = json_object(), *params = json_object(), *k;
	char name[256], ops[16], vs[16], heap[16], bloat[16], hidden[16], fb[16], def[16];
	char rec[16], ms[16];
	double base = none ? median(none, "ops_per_s") : NAN;
	size_t i;

	json_object_set_new(r, "case", json_incref(json_object_get(c, "index")));
	json_object_set(r, "mthp", json_object_get(json_object_get(c, "params"), "mthp"));
	json_object_set(r, "allocator", json_object_get(json_object_get(c, "params"), "allocator"));
	json_array_foreach (vary, i, k)
		json_object_set(
			params, json_string_value(k),
			json_object_get(json_object_get(c, "params"), json_string_value(k)));
	json_object_set_new(r, "params", params);
	for (i = 0; i < MMR_ARRAY_SIZE(columns); i++)
		json_object_set_new(r, columns[i], number_or_null(median(c, columns[i])));
	json_object_set_new(r, "ops_vs_none", number_or_null(median(c, "ops_per_s") / base));
	json_object_set_new(r, "heap_vs_none",
			    number_or_null(median(c, "heap_bytes") /
					   (none ? median(none, "heap_bytes") : NAN)));
	json_object_set_new(r, "per_size", per_size_medians(c));

	label(c, vary, name, sizeof(name));
	fmt_count(median(c, "ops_per_s"), ops, sizeof(ops));
	fmt_fixed(median(c, "ops_per_s") / base, 3, "x", vs, sizeof(vs));
	fmt_mib(median(c, "heap_bytes"), heap, sizeof(heap));
	fmt_fixed(median(c, "bloat_ratio"), 3, "", bloat, sizeof(bloat));
	fmt_mib(median(c, "hidden_bytes"), hidden, sizeof(hidden));
	fmt_count(median(c, "mthp_fault_fallback"), fb, sizeof(fb));
	fmt_count(median(c, "mthp_split_deferred"), def, sizeof(def));
	fmt_mib(median(c, "reclaimed_bytes"), rec, sizeof(rec));
	fmt_fixed(median(c, "reclaim_ns") / 1e6, 2, "", ms, sizeof(ms));
	snprintf(line, len, "%-*s %8s %7s %8s %6s %7s %8s %8s %9s %7s", (int)width, name, ops, vs,
		 heap, bloat, hidden, fb, def, rec, ms);
	return r;
}

json_t *mthp_alloc_table(json_t *cases)
{
	json_t *ok = json_array(), *rows = json_array(), *lines = json_array(), *vary, *c, *d, *r;
	char name[256], line[512];
	size_t i, j, width = 22;

	json_array_foreach (cases, i, c)
		if (!strcmp(json_string_value(json_object_get(c, "status")), "ok"))
			json_array_append(ok, c);
	if (!json_array_size(ok)) {
		json_decref(ok);
		json_decref(rows);
		json_decref(lines);
		return NULL;
	}
	vary = varying(ok);
	json_array_foreach (ok, i, c) {
		label(c, vary, name, sizeof(name));
		width = strlen(name) > width ? strlen(name) : width;
	}
	snprintf(line, sizeof(line), "%-*s %8s %7s %8s %6s %7s %8s %8s %9s %7s", (int)width,
		 "mthp         allocator", "ops/s", "vs none", "heap RSS", "bloat", "hidden",
		 "fallback", "deferred", "reclaimed", "in ms");
	json_array_append_new(lines, json_string(line));
	json_array_foreach (ok, i, c) {
		json_t *none = NULL;

		json_array_foreach (ok, j, d) {
			const char *m = json_string_value(
				json_object_get(json_object_get(d, "params"), "mthp"));

			if (d != c && m && !strcmp(m, "none") && same_but_mthp(c, d))
				none = d;
		}
		r = row(c, none, vary, width, line, sizeof(line));
		json_array_append_new(lines, json_string(line));
		per_size_lines(json_object_get(r, "per_size"), lines);
		json_array_append_new(rows, r);
	}
	json_array_append_new(
		lines, json_string("medians; heap RSS: anonymous RSS the heap added; bloat: heap "
				   "RSS / live bytes; hidden: held by the case's cgroup but not "
				   "mapped; fallback, deferred: mTHP faults that fell back, "
				   "folios queued for deferred split (per size under a set of "
				   "several); reclaimed: what a cgroup reclaim gave back after "
				   "the churn"));
	json_decref(vary);
	json_decref(ok);
	return json_pack("{s:o,s:o}", "rows", rows, "summary_lines", lines);
}
