// SPDX-License-Identifier: GPL-2.0
/*
 * Matching cases across reports: by workload and parameters (the k-th
 * occurrence with the k-th). Cases of one workload left over on both sides in
 * equal numbers are paired in order as a parameter mismatch: an error unless
 * --force, because a different parameter is a different experiment. A
 * parameter a report lacks (it was written before the parameter existed)
 * counts as its default, which keeps what ran before.
 */
#include "mmrepro/compare.h"
#include "mmrepro/params.h"
#include "mmrepro/registry.h"
#include "mmrepro/util.h"

#include <stdlib.h>
#include <string.h>

static char *case_key(json_t *cj)
{
	char *params = json_dumps(json_object_get(cj, "params"), JSON_COMPACT | JSON_SORT_KEYS);
	char *key = mmr_strdup_printf("%s\t%s", json_string_value(json_object_get(cj, "workload")),
				      params ? params : "{}");

	free(params);
	return key;
}

static const char *wl(json_t *cj)
{
	return json_string_value(json_object_get(cj, "workload"));
}

static struct mmr_cmp_case *add_case(struct mmr_comparison *c, size_t r, json_t *cj)
{
	struct mmr_cmp_case *nc = realloc(c->cases, (c->ncases + 1) * sizeof(*nc)), *k;

	if (!nc)
		return NULL;
	c->cases = nc;
	k = &c->cases[c->ncases++];
	memset(k, 0, sizeof(*k));
	k->cases = json_array();
	k->notes = json_array();
	for (size_t i = 0; i < c->nreports; i++)
		json_array_append_new(k->cases, i == r ? json_incref(cj) : json_null());
	k->id = json_string_value(json_object_get(cj, "id"));
	k->workload = wl(cj);
	return k;
}

static int match_exact(struct mmr_comparison *c, size_t r, json_t *rcases, bool *used)
{
	size_t i, ncases = c->ncases;
	json_t *cj;

	for (size_t k = 0; k < ncases; k++) {
		json_t *ref = NULL;
		char *key;

		for (size_t p = 0; p < r && !ref; p++)
			if (!json_is_null(json_array_get(c->cases[k].cases, p)))
				ref = json_array_get(c->cases[k].cases, p);
		key = case_key(ref);
		if (!key)
			return -1;
		json_array_foreach (rcases, i, cj) {
			char *ck;

			if (used[i])
				continue;
			ck = case_key(cj);
			if (ck && !strcmp(ck, key)) {
				used[i] = true;
				json_array_set(c->cases[k].cases, r, cj);
				free(ck);
				break;
			}
			free(ck);
		}
		free(key);
	}
	return 0;
}

/* Pair what is left of one workload, or list it as unmatched. */
static int match_leftovers(struct mmr_comparison *c, size_t r, json_t *rcases, bool *used)
{
	const char *label = c->reports[r].label;
	size_t i, ncases = c->ncases;
	json_t *cj;

	json_array_foreach (rcases, i, cj) {
		size_t left_here = 0, left_there = 0;

		if (used[i])
			continue;
		for (size_t k = 0; k < ncases; k++)
			left_there += !strcmp(c->cases[k].workload, wl(cj)) &&
				      json_is_null(json_array_get(c->cases[k].cases, r));
		for (size_t j = i; j < json_array_size(rcases); j++)
			left_here += !used[j] && !strcmp(wl(json_array_get(rcases, j)), wl(cj));
		if (left_here == left_there) {
			for (size_t k = 0; k < ncases; k++) {
				struct mmr_cmp_case *mk = &c->cases[k];

				if (strcmp(mk->workload, wl(cj)) ||
				    !json_is_null(json_array_get(mk->cases, r)))
					continue;
				json_array_set(mk->cases, r, cj);
				used[i] = true;
				json_array_append_new(
					mk->notes,
					json_sprintf("paired by order with \"%s\" of %s, "
						     "whose parameters differ",
						     json_string_value(json_object_get(cj, "id")),
						     label));
				break;
			}
		}
		if (!used[i]) {
			used[i] = true;
			if (!add_case(c, r, cj))
				return -1;
		}
	}
	return 0;
}

/* Differences within a matched case: parameters, harness keys, the knobs it
 * ran with, the layout observed, and a status other than ok. */
static void case_notes(struct mmr_comparison *c, struct mmr_cmp_case *k)
{
	static const char *const parts[] = { "params", "harness", "settings", "layout" };
	bool reported = false;
	json_t *cj;
	size_t i;

	for (size_t p = 0; p < MMR_ARRAY_SIZE(parts); p++) {
		json_t *objs = json_array(), *diffs, *d;
		size_t present = 0;

		json_array_foreach (k->cases, i, cj) {
			json_t *part;

			if (json_is_null(cj))
				continue;
			part = json_object_get(cj, parts[p]);
			if (!strcmp(parts[p], "settings"))
				part = json_object_get(part, "applied");
			else if (!strcmp(parts[p], "layout"))
				part = json_object_get(part, "observed");
			present += part != NULL;
			json_array_append_new(objs, part ? json_incref(part) : json_object());
		}
		diffs = present > 1 ? mmr_cmp_differences(objs, parts[p]) : json_array();
		json_array_foreach (diffs, i, d) {
			json_t *vals = json_object_get(d, "values"), *v;
			size_t j;
			char *joined = strdup(""), *next;

			json_array_foreach (vals, j, v) {
				next = mmr_strdup_printf("%s%s%s", joined ? joined : "",
							 j ? " | " : "", json_string_value(v));
				free(joined);
				joined = next;
			}
			json_array_append_new(
				k->notes,
				json_sprintf("%s: %s", json_string_value(json_object_get(d, "key")),
					     joined ? joined : "?"));
			if (!strcmp(parts[p], "params") && !c->o.force && !reported) {
				reported = true;
				json_array_append_new(
					c->errors,
					json_sprintf("\"%s\": parameters differ (%s: %s); compare "
						     "like with like, or pass --force",
						     k->id,
						     json_string_value(json_object_get(d, "key")),
						     joined ? joined : "?"));
			}
			free(joined);
		}
		json_decref(diffs);
		json_decref(objs);
	}
	json_array_foreach (k->cases, i, cj) {
		const char *st = json_string_value(json_object_get(cj, "status"));
		const char *why = json_string_value(json_object_get(cj, "reason"));

		if (st && strcmp(st, "ok"))
			json_array_append_new(k->notes,
					      json_sprintf("%s in %s%s%s", st, c->reports[i].label,
							   why ? ": " : "", why ? why : ""));
	}
}

/* Give a case the parameters of its workload it lacks, at their defaults
 * (unscaled: a parameter added later is not one of a config's sizes). */
static void fill_defaults(json_t *cj)
{
	const struct mmr_workload *w = wl(cj) ? mmr_workload_find(wl(cj)) : NULL;
	json_t *params = json_object_get(cj, "params");
	void *scratch;

	if (!w || !json_is_object(params))
		return;
	scratch = calloc(1, w->params_size ? w->params_size : 1);
	if (!scratch)
		return;
	for (const struct mmr_param *p = w->params; p->name; p++) {
		json_t *def, *canon = NULL;
		char err[256];

		if (json_object_get(params, p->name))
			continue;
		def = json_string(p->def);
		if (def && !mmr_param_parse(p, def, scratch, &canon, err, sizeof(err)) && canon)
			json_object_set_new(params, p->name, canon);
		json_decref(def);
	}
	mmr_params_free(w->params, scratch);
	free(scratch);
}

int mmr_cmp_match(struct mmr_comparison *c)
{
	size_t i, common = 0;
	json_t *cj;

	for (size_t r = 0; r < c->nreports; r++)
		json_array_foreach (json_object_get(c->reports[r].doc, "cases"), i, cj)
			fill_defaults(cj);

	json_array_foreach (json_object_get(c->reports[0].doc, "cases"), i, cj)
		if (!add_case(c, 0, cj))
			return -1;
	for (size_t r = 1; r < c->nreports; r++) {
		json_t *rcases = json_object_get(c->reports[r].doc, "cases");
		bool *used = calloc(json_array_size(rcases) + 1, sizeof(bool));
		int ret;

		if (!used)
			return -1;
		ret = match_exact(c, r, rcases, used);
		if (!ret)
			ret = match_leftovers(c, r, rcases, used);
		free(used);
		if (ret)
			return ret;
	}
	for (size_t k = 0; k < c->ncases; k++) {
		size_t present = 0;

		json_array_foreach (c->cases[k].cases, i, cj) {
			present += !json_is_null(cj);
			if (json_is_null(cj))
				json_array_append_new(c->warnings, json_sprintf("not in %s: %s",
										c->reports[i].label,
										c->cases[k].id));
		}
		common += present > 1;
		case_notes(c, &c->cases[k]);
	}
	if (c->nreports > 1 && !common)
		json_array_append_new(c->errors, json_string("the reports have no case in common"));
	return 0;
}
