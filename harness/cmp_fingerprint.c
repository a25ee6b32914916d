// SPDX-License-Identifier: GPL-2.0
/*
 * Comparability: every difference between the reports' fingerprints besides
 * the kernel itself (release, version), before any number is shown.
 */
#include "mmrepro/compare.h"
#include "mmrepro/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What differs by nature between two runs, or is the kernel under test. */
static const char *const ignored[] = {
	"kernel.release",
	"kernel.version",
	"memory.MemAvailable_bytes",
};

static char *scalar_text(json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_null(v))
		return strdup("(none)");
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* "a.b.c" -> text of every scalar (arrays as compact JSON) into flat. */
static void flatten(json_t *v, const char *prefix, json_t *flat)
{
	const char *k;
	json_t *sub;

	if (json_is_object(v)) {
		json_object_foreach (v, k, sub) {
			char *p = *prefix ? mmr_strdup_printf("%s.%s", prefix, k) : strdup(k);

			if (p)
				flatten(sub, p, flat);
			free(p);
		}
		return;
	}
	{
		char *t = scalar_text(v);

		if (t)
			json_object_set_new(flat, prefix, json_string(t));
		free(t);
	}
}

static bool is_ignored(const char *key)
{
	for (size_t i = 0; i < MMR_ARRAY_SIZE(ignored); i++)
		if (!strcmp(key, ignored[i]))
			return true;
	return false;
}

/* Memory sizes move by a few MiB between kernels (reservations): only a
 * difference above 1% is a different machine. */
static bool same_enough(const char *key, const char *a, const char *b)
{
	if (!strcmp(a, b))
		return true;
	if (!strncmp(key, "memory.", 7)) {
		double x = strtod(a, NULL), y = strtod(b, NULL);

		return x > 0 && y > 0 && fabs(x / y - 1) <= 0.01;
	}
	return false;
}

static const char *category(const char *key)
{
	static char buf[64];
	size_t n = strcspn(key, ".");

	if (!strcmp(key, "kernel.cmdline"))
		return "cmdline";
	snprintf(buf, sizeof(buf), "%.*s", (int)(n < 63 ? n : 63), key);
	return buf;
}

static void add_key_once(json_t *order, json_t *seen, const char *key)
{
	if (!json_object_get(seen, key)) {
		json_object_set_new(seen, key, json_true());
		json_array_append_new(order, json_string(key));
	}
}

json_t *mmr_cmp_differences(json_t *objs, const char *prefix)
{
	json_t *flat = json_array(), *order = json_array(), *seen = json_object(), *k, *o;
	json_t *out = json_array();
	size_t i, n = json_array_size(objs);

	json_array_foreach (objs, i, o) {
		json_t *f = json_object();
		const char *key;
		json_t *v;

		flatten(o, prefix, f);
		json_object_foreach (f, key, v)
			add_key_once(order, seen, key);
		json_array_append_new(flat, f);
	}
	json_array_foreach (order, i, k) {
		const char *key = json_string_value(k), *first = NULL;
		json_t *values = json_array();
		bool differs = false;

		for (size_t r = 0; r < n; r++) {
			const char *v =
				json_string_value(json_object_get(json_array_get(flat, r), key));

			v = v ? v : "(absent)";
			if (!first)
				first = v;
			else if (!same_enough(key, first, v))
				differs = true;
			json_array_append_new(values, json_string(v));
		}
		if (differs)
			json_array_append_new(out,
					      json_pack("{s:s,s:o}", "key", key, "values", values));
		else
			json_decref(values);
	}
	json_decref(flat);
	json_decref(order);
	json_decref(seen);
	return out;
}

void mmr_cmp_fingerprints(struct mmr_comparison *c)
{
	json_t *objs = json_array(), *diffs, *d;
	size_t i;

	for (size_t r = 0; r < c->nreports; r++) {
		json_t *doc = c->reports[r].doc,
		       *o = json_deep_copy(json_object_get(doc, "fingerprint"));

		/* the tool that measured is part of the set-up too */
		json_object_set(o, "tool", json_object_get(doc, "tool"));
		json_array_append_new(objs, o);
	}
	diffs = mmr_cmp_differences(objs, "");
	json_array_foreach (diffs, i, d) {
		const char *key = json_string_value(json_object_get(d, "key"));

		if (is_ignored(key))
			continue;
		json_array_append_new(c->differences,
				      json_pack("{s:s,s:s,s:O}", "category", category(key), "key",
						key, "values", json_object_get(d, "values")));
		if (!strcmp(key, "virtualization.accelerator")) {
			const char *msg = "the reports ran under different accelerators "
					  "(virtualization.accelerator): timings are not "
					  "comparable";

			json_array_append_new(c->o.force ? c->warnings : c->errors,
					      json_string(msg));
		}
	}
	json_decref(diffs);
	json_decref(objs);
}
