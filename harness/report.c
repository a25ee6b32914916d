// SPDX-License-Identifier: GPL-2.0
/* Building and writing the JSON report. */
#include "mmrepro/report.h"
#include "mmrepro/env.h"
#include "mmrepro/stats.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef MMREPRO_VERSION
#define MMREPRO_VERSION "0.0.0"
#endif
#ifndef MMREPRO_GIT
#define MMREPRO_GIT "unknown"
#endif

void mmr_iso_time(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *mmr_report_new(const struct mmr_config *cfg, int argc, char **argv, const char *run_id)
{
	json_t *r = json_object(), *tool = json_object(), *cmd = json_array();
	char now[64];

	for (int i = 0; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	json_object_set_new(tool, "name", json_string("mmrepro"));
	json_object_set_new(tool, "version", json_string(MMREPRO_VERSION));
	json_object_set_new(tool, "git", json_string(MMREPRO_GIT));
	mmr_iso_time(now, sizeof(now));
	json_object_set_new(r, "schema_version", json_integer(MMR_SCHEMA_VERSION));
	json_object_set_new(r, "tool", tool);
	json_object_set_new(r, "command", cmd);
	json_object_set_new(r, "run_id", json_string(run_id));
	json_object_set_new(r, "started_at", json_string(now));
	json_object_set_new(r, "fingerprint", mmr_fingerprint());
	json_object_set(r, "config", cfg->resolved);
	json_object_set_new(r, "claim", cfg->claim ? json_incref(cfg->claim) : json_null());
	json_object_set_new(r, "cases", json_array());
	return r;
}

json_t *mmr_report_case_new(const struct mmr_case *c, size_t index)
{
	json_t *j = json_object();

	json_object_set_new(j, "index", json_integer((json_int_t)index));
	json_object_set_new(j, "id", json_string(c->id));
	json_object_set_new(j, "workload", json_string(c->w->name));
	json_object_set_new(j, "origin", json_string(c->origin));
	json_object_set(j, "params", c->params);
	json_object_set_new(j, "harness", mmr_case_harness_json(c));
	json_object_set_new(j, "status", json_string("not-run"));
	json_object_set_new(j, "reason", json_null());
	json_object_set_new(j, "metrics", json_object());
	json_object_set_new(j, "counters", json_object());
	json_object_set_new(j, "layout", json_null());
	json_object_set_new(j, "placement", json_array());
	json_object_set_new(j, "extra", json_object());
	json_object_set_new(j, "log", json_array());
	return j;
}

const char *mmr_direction_name(enum mmr_direction d)
{
	return d == MMR_HIGHER_IS_BETTER ? "higher" : d == MMR_LOWER_IS_BETTER ? "lower" : "info";
}

void mmr_report_add_sample(json_t *cj, const struct mmr_workload *w, const char *metric, double v)
{
	json_t *metrics = json_object_get(cj, "metrics"), *m = json_object_get(metrics, metric);

	if (!m) {
		const struct mmr_metric *decl = NULL;

		for (const struct mmr_metric *d = w->metrics; d->name; d++)
			if (!strcmp(d->name, metric))
				decl = d;
		if (!decl)
			return;
		m = json_object();
		json_object_set_new(m, "unit", json_string(decl->unit));
		json_object_set_new(m, "direction",
				    json_string(mmr_direction_name(decl->direction)));
		json_object_set_new(m, "help", json_string(decl->help));
		json_object_set_new(m, "samples", json_array());
		json_object_set_new(metrics, metric, m);
	}
	json_array_append_new(json_object_get(m, "samples"), json_real(v));
}

void mmr_report_add_op(json_t *cj, const char *op, json_t *delta)
{
	json_t *counters = json_object_get(cj, "counters"), *o = json_object_get(counters, op), *v;
	const char *name;

	if (!o) {
		o = json_pack("{s:i,s:o}", "n", 0, "total", json_object());
		json_object_set_new(counters, op, o);
	}
	json_object_set_new(o, "n", json_integer(json_integer_value(json_object_get(o, "n")) + 1));
	json_object_foreach (delta, name, v) {
		const char *dot = strchr(name, '.');
		char group[32];
		json_t *g, *old;

		if (!dot || dot - name >= (long)sizeof(group))
			continue;
		snprintf(group, sizeof(group), "%.*s", (int)(dot - name), name);
		g = json_object_get(json_object_get(o, "total"), group);
		if (!g) {
			g = json_object();
			json_object_set_new(json_object_get(o, "total"), group, g);
		}
		old = json_object_get(g, dot + 1);
		json_object_set_new(g, dot + 1,
				    json_integer(json_integer_value(old) + json_integer_value(v)));
	}
}

void mmr_report_summarize_case(json_t *cj)
{
	json_t *metrics = json_object_get(cj, "metrics"), *m;
	const char *name;

	json_object_foreach (metrics, name, m) {
		json_t *samples = json_object_get(m, "samples"), *v;
		size_t n = json_array_size(samples), i;
		double *x = calloc(n ? n : 1, sizeof(double));
		struct mmr_summary s;

		if (!x)
			continue;
		json_array_foreach (samples, i, v)
			x[i] = json_number_value(v);
		mmr_summarize(x, n, &s);
		json_object_set_new(m, "summary", mmr_summary_json(&s));
		free(x);
	}
}

int mmr_report_write(json_t *report, const char *path)
{
	char *text = json_dumps(report, JSON_INDENT(1));
	char dir[PATH_MAX];
	int ret;

	if (!text)
		return -ENOMEM;
	snprintf(dir, sizeof(dir), "%s", path);
	ret = mmr_mkdirs(dirname(dir), 0755);
	if (!ret)
		ret = mmr_write_atomic(path, text, strlen(text));
	free(text);
	return ret;
}
