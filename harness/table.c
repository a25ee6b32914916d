// SPDX-License-Identifier: GPL-2.0
/* The human side of a report: per-case progress lines and the final table. */
#include "mmrepro/report.h"
#include "mmrepro/util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void mmr_format_value(double v, const char *unit, char *buf, size_t len)
{
	static const struct {
		double div;
		const char *suffix;
	} ns[] = { { 1e9, "s" }, { 1e6, "ms" }, { 1e3, "us" }, { 1, "ns" } },
	  bytes[] = { { 1099511627776.0, "TiB" },
		      { 1073741824.0, "GiB" },
		      { 1048576.0, "MiB" },
		      { 1024.0, "KiB" },
		      { 1, "B" } };

	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return;
	}
	/* "ns" and rates of it ("ns/page", "ns/GiB") get a readable time unit */
	if (!strcmp(unit, "ns") || !strncmp(unit, "ns/", 3)) {
		for (size_t i = 0; i < MMR_ARRAY_SIZE(ns); i++)
			if (fabs(v) >= ns[i].div || i == MMR_ARRAY_SIZE(ns) - 1) {
				snprintf(buf, len, "%.3f %s%s", v / ns[i].div, ns[i].suffix,
					 unit + 2);
				return;
			}
	}
	if (!strcmp(unit, "bytes")) {
		for (size_t i = 0; i < MMR_ARRAY_SIZE(bytes); i++)
			if (fabs(v) >= bytes[i].div || i == MMR_ARRAY_SIZE(bytes) - 1) {
				snprintf(buf, len, "%.2f %s", v / bytes[i].div, bytes[i].suffix);
				return;
			}
	}
	if (fabs(v) >= 1e6 || (fabs(v) < 1e-2 && v != 0))
		snprintf(buf, len, "%.4g %s", v, unit);
	else
		snprintf(buf, len, "%.3f %s", v, unit);
}

void mmr_print_case_result(FILE *f, json_t *cj, size_t i, size_t n)
{
	const char *status = json_string_value(json_object_get(cj, "status"));
	const char *reason = json_string_value(json_object_get(cj, "reason"));
	json_t *dur = json_object_get(cj, "duration_s");

	fprintf(f, "[%zu/%zu] %s: %s", i + 1, n, json_string_value(json_object_get(cj, "id")),
		status);
	if (reason)
		fprintf(f, " (%s)", reason);
	if (dur)
		fprintf(f, " [%.1f s]", json_number_value(dur));
	fprintf(f, "\n");
}

static void print_metric_row(FILE *f, const char *name, json_t *m)
{
	json_t *s = json_object_get(m, "summary"), *ci = json_object_get(s, "median_ci95");
	const char *unit = json_string_value(json_object_get(m, "unit"));
	char med[32], lo[32], hi[32];

	if (!s || json_integer_value(json_object_get(s, "n")) == 0)
		return;
	mmr_format_value(json_number_value(json_object_get(s, "median")), unit, med, sizeof(med));
	if (json_is_object(ci)) {
		mmr_format_value(json_number_value(json_object_get(ci, "lo")), unit, lo,
				 sizeof(lo));
		mmr_format_value(json_number_value(json_object_get(ci, "hi")), unit, hi,
				 sizeof(hi));
	} else {
		snprintf(lo, sizeof(lo), "n<6");
		snprintf(hi, sizeof(hi), "-");
	}
	fprintf(f, "    %-26s %16s  %6.2f%%  [%s .. %s]  n=%lld  (%s)\n", name, med,
		json_number_value(json_object_get(s, "cov_pct")), lo, hi,
		(long long)json_integer_value(json_object_get(s, "n")),
		json_string_value(json_object_get(m, "direction")));
}

void mmr_print_table(FILE *f, json_t *report)
{
	json_t *cases = json_object_get(report, "cases"), *c;
	size_t i;

	fprintf(f, "\n%-30s %16s  %7s  %s\n", "    metric", "median", "CoV",
		"95% CI of the median");
	json_array_foreach (cases, i, c) {
		json_t *metrics = json_object_get(c, "metrics"), *m,
		       *layout = json_object_get(c, "layout");
		const char *name, *reason = json_string_value(json_object_get(c, "reason"));

		fprintf(f, "%s  [%s%s%s]\n", json_string_value(json_object_get(c, "id")),
			json_string_value(json_object_get(c, "status")), reason ? ": " : "",
			reason ? reason : "");
		if (json_is_object(layout))
			fprintf(f, "    layout: %s (%s)\n",
				json_string_value(json_object_get(layout, "observed")),
				json_string_value(json_object_get(layout, "detail")));
		json_object_foreach (metrics, name, m)
			print_metric_row(f, name, m);
	}
	{
		json_t *analysis = json_object_get(report, "analysis"), *a, *line;
		const char *w;

		json_object_foreach (analysis, w, a) {
			json_t *lines = json_object_get(a, "summary_lines");

			if (json_array_size(lines))
				fprintf(f, "\n%s:\n", w);
			json_array_foreach (lines, i, line)
				fprintf(f, "  %s\n", json_string_value(line));
		}
	}
}
