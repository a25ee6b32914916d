// SPDX-License-Identifier: GPL-2.0
/* The workload list (workloads/workloads.def) and its one-time sanity check.
 * A plain table rather than constructor tricks: those vanish when the objects
 * come from a static library. */
#include "mmrepro/registry.h"
#include "mmrepro/params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MMR_WORKLOAD(n) extern const struct mmr_workload n##_workload;
#include "workloads.def"
#undef MMR_WORKLOAD

static const struct mmr_workload *const all[] = {
#define MMR_WORKLOAD(n) &n##_workload,
#include "workloads.def"
#undef MMR_WORKLOAD
};

size_t mmr_workload_count(void)
{
	return sizeof(all) / sizeof(all[0]);
}

const struct mmr_workload *mmr_workload_at(size_t i)
{
	return i < mmr_workload_count() ? all[i] : NULL;
}

const struct mmr_workload *mmr_workload_find(const char *name)
{
	for (size_t i = 0; i < mmr_workload_count(); i++)
		if (!strcmp(all[i]->name, name))
			return all[i];
	return NULL;
}

static int complain(const struct mmr_workload *w, const char *what, const char *name)
{
	fprintf(stderr, "mmrepro: internal error: workload %s: %s%s%s\n", w->name, what,
		name ? " " : "", name ? name : "");
	return -1;
}

static int check_one(const struct mmr_workload *w)
{
	char err[512];
	int bad = 0;

	if (w->abi != MMR_WORKLOAD_ABI)
		bad |= complain(w, "built against another workload ABI", NULL);
	if (!w->run)
		bad |= complain(w, "has no run()", NULL);
	if (!w->params || !w->metrics)
		return complain(w, "needs a params and a metrics table (may be empty)", NULL);
	for (const struct mmr_param *p = w->params; p->name; p++) {
		void *scratch = calloc(1, w->params_size ? w->params_size : 1);
		json_t *val = json_string(p->def), *canon = NULL;

		for (size_t k = 0; mmr_case_keys[k]; k++)
			if (!strcmp(p->name, mmr_case_keys[k]))
				bad |= complain(w, "parameter shadows a harness key:", p->name);
		for (const struct mmr_param *q = w->params; q < p; q++)
			if (!strcmp(p->name, q->name))
				bad |= complain(w, "duplicate parameter", p->name);
		if (p->type == MMR_T_ENUM && !p->choices)
			bad |= complain(w, "enum without choices:", p->name);
		if (!p->help || !p->def)
			bad |= complain(w, "parameter without default or help:", p->name);
		else if (p->offset >= w->params_size)
			bad |= complain(w, "parameter offset outside params_size:", p->name);
		else if (scratch && mmr_param_parse(p, val, scratch, &canon, err, sizeof(err)))
			bad |= complain(w, "default does not parse for", p->name);
		json_decref(canon);
		json_decref(val);
		if (scratch)
			mmr_params_free(w->params, scratch);
		free(scratch);
	}
	for (const struct mmr_metric *m = w->metrics; m->name; m++) {
		for (const struct mmr_metric *o = w->metrics; o < m; o++)
			if (!strcmp(m->name, o->name))
				bad |= complain(w, "duplicate metric", m->name);
		if (!m->unit || !m->help)
			bad |= complain(w, "metric without unit or help:", m->name);
	}
	return bad ? -1 : 0;
}

int mmr_registry_check(void)
{
	int bad = 0;

	for (size_t i = 0; i < mmr_workload_count(); i++) {
		bad |= check_one(all[i]);
		if (i && strcmp(all[i - 1]->name, all[i]->name) >= 0)
			bad |= complain(all[i], "workloads.def is not sorted at", all[i]->name);
	}
	return bad ? -22 : 0;
}
