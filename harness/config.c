// SPDX-License-Identifier: GPL-2.0
/* Strict config loading and matrix expansion (format in config.h). */
#include "mmrepro/config.h"
#include "mmrepro/params.h"
#include "mmrepro/registry.h"
#include "mmrepro/settings.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <fnmatch.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef MMREPRO_INSTALL_DATADIR
#define MMREPRO_INSTALL_DATADIR "/usr/local/share/mmrepro"
#endif
#ifndef MMREPRO_SOURCE_DIR
#define MMREPRO_SOURCE_DIR "."
#endif

#define MAX_INCLUDE_DEPTH 4
#define MAX_CASES	  4096

static const char *const top_keys[] = {
	"name", "description", "scale", "defaults", "cases", "claim"
};
/* Keys of a case object; `workload` and `include` exclude each other. */
static const char *const case_keys[] = { "workload",   "include",	   "params",
					 "matrix",     "settings",	   "repetitions",
					 "warmup",     "timeout",	   "stall_timeout",
					 "cpu",	       "layout_tolerance", "seed",
					 "description" };
/* Keys that --set and include overrides may name besides parameters. */
static const char *const harness_keys[] = { "repetitions",   "warmup", "timeout",
					    "stall_timeout", "cpu",    "layout_tolerance",
					    "seed" };
const char *const mmr_case_keys[] = { "workload",      "include",     "params",		  "matrix",
				      "settings",      "repetitions", "warmup",		  "timeout",
				      "stall_timeout", "cpu",	      "layout_tolerance", "seed",
				      "description",   NULL };

struct loader {
	enum mmr_scale scale;
	bool scale_given;
	const struct mmr_overrides *ov;
	bool *ov_used;
	struct mmr_config *cfg;
	char *err;
	size_t errlen;
};

int mmr_scale_parse(const char *s, enum mmr_scale *out)
{
	if (!strcmp(s, "ci"))
		*out = MMR_SCALE_CI;
	else if (!strcmp(s, "default"))
		*out = MMR_SCALE_DEFAULT;
	else if (!strcmp(s, "full"))
		*out = MMR_SCALE_FULL;
	else
		return -EINVAL;
	return 0;
}

const char *mmr_scale_name(enum mmr_scale s)
{
	return s == MMR_SCALE_CI ? "ci" : s == MMR_SCALE_FULL ? "full" : "default";
}

const char *mmr_datadir(void)
{
	static char found[PATH_MAX];
	const char *cands[3] = { getenv("MMREPRO_DATADIR"), MMREPRO_SOURCE_DIR,
				 MMREPRO_INSTALL_DATADIR };
	char probe[PATH_MAX];

	if (found[0])
		return found;
	for (size_t i = 0; i < 3; i++) {
		if (!cands[i] || !*cands[i])
			continue;
		snprintf(probe, sizeof(probe), "%s/configs", cands[i]);
		if (mmr_path_exists(probe)) {
			snprintf(found, sizeof(found), "%s", cands[i]);
			return found;
		}
	}
	snprintf(found, sizeof(found), "%s", MMREPRO_INSTALL_DATADIR);
	return found;
}

static int fail(struct loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct loader *L, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(L->err, L->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *in_list(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(key, list[i]))
			return list[i];
	return NULL;
}

/* "file: cases[0]" + "params" -> "file: cases[0].params"; a bare file name
 * (the top level) -> "file: params". */
static void join_key(char *buf, size_t len, const char *where, const char *key)
{
	bool top = !strchr(where, ':');

	snprintf(buf, len, "%s%s%s", where, top ? ": " : ".", key);
}

static int unknown_key(struct loader *L, const char *where, const char *key,
		       const char *const *allowed, size_t n)
{
	const char *near = mmr_did_you_mean(key, allowed, n);
	char path[PATH_MAX + 256];

	join_key(path, sizeof(path), where, key);
	if (near)
		return fail(L, "%s: unknown key (did you mean \"%s\"?)", path, near);
	return fail(L, "%s: unknown key", path);
}

static int check_keys(struct loader *L, json_t *obj, const char *where, const char *const *allowed,
		      size_t n)
{
	const char *key;
	json_t *v;

	json_object_foreach (obj, key, v) {
		if (!in_list(key, allowed, n))
			return unknown_key(L, where, key, allowed, n);
	}
	return 0;
}

/* ---- the case being built ---- */

struct proto {
	const struct mmr_workload *w;
	json_t *params;	  /* name -> value (config text or JSON) */
	json_t *from_set; /* names whose value came from --set (never scaled) */
	json_t *pinned;	  /* names an override fixed: their matrix axis collapses */
	json_t *matrix;	  /* name -> [values] */
	json_t *settings; /* knob -> value */
	json_t *harness;  /* repetitions, warmup, ... */
};

static void proto_free(struct proto *p)
{
	json_decref(p->params);
	json_decref(p->from_set);
	json_decref(p->pinned);
	json_decref(p->matrix);
	json_decref(p->settings);
	json_decref(p->harness);
}

static const char **param_names(const struct mmr_workload *w, size_t *n)
{
	size_t cnt = mmr_param_count(w->params);
	const char **names = calloc(cnt + 1, sizeof(*names));

	for (size_t i = 0; names && i < cnt; i++)
		names[i] = w->params[i].name;
	*n = cnt;
	return names;
}

static int bad_param_key(struct loader *L, const struct mmr_workload *w, const char *where,
			 const char *key)
{
	size_t n;
	const char **names = param_names(w, &n);
	int ret;

	if (!names)
		return -ENOMEM;
	ret = unknown_key(L, where, key, names, n);
	if (!mmr_did_you_mean(key, names, n)) {
		size_t l = strlen(L->err);

		snprintf(L->err + l, L->errlen - l, "; %s has parameters:", w->name);
		for (size_t i = 0; i < n; i++) {
			l = strlen(L->err);
			snprintf(L->err + l, L->errlen - l, " %s", names[i]);
		}
	}
	free(names);
	return ret;
}

/* Check knob names and, where the knob exists here, values. */
static int check_settings(struct loader *L, json_t *settings, const char *where)
{
	const char *name;
	json_t *v;
	char kerr[512];
	struct mmr_knob k;

	if (!json_is_object(settings))
		return fail(L, "%s: expected an object of knob: value", where);
	json_object_foreach (settings, name, v) {
		char text[128];

		if (mmr_knob_resolve(name, &k, kerr, sizeof(kerr)))
			return fail(L, "%s.%s: %s", where, name, kerr);
		if (json_is_integer(v))
			snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
		else if (json_is_string(v))
			snprintf(text, sizeof(text), "%s", json_string_value(v));
		else
			return fail(L, "%s.%s: expected a string or an integer", where, name);
		if (mmr_knob_exists(&k) && mmr_knob_check_value(&k, text, kerr, sizeof(kerr)))
			return fail(L, "%s.%s: %s", where, name, kerr);
	}
	return 0;
}

static json_t *settings_as_strings(json_t *settings)
{
	json_t *out = json_object(), *v;
	const char *name;
	struct mmr_knob k;
	char kerr[256];

	json_object_foreach (settings, name, v) {
		char text[128];

		if (json_is_integer(v))
			snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
		else
			snprintf(text, sizeof(text), "%s", json_string_value(v));
		mmr_knob_resolve(name, &k, kerr, sizeof(kerr));
		json_object_set_new(out, k.name, json_string(text));
	}
	return out;
}

/* Merge the keys of `src` case object into proto (later wins). */
static int merge_case_object(struct loader *L, struct proto *p, json_t *src, const char *where)
{
	json_t *v;
	const char *key;
	char sub[512];

	if (!src)
		return 0;
	json_object_foreach (src, key, v) {
		if (!strcmp(key, "params") || !strcmp(key, "matrix") || !strcmp(key, "settings")) {
			json_t *dst = !strcmp(key, "params")   ? p->params
				      : !strcmp(key, "matrix") ? p->matrix
							       : p->settings;

			snprintf(sub, sizeof(sub), "%s.%s", where, key);
			if (!json_is_object(v))
				return fail(L, "%s: expected an object", sub);
			if (!strcmp(key, "settings") && check_settings(L, v, sub))
				return -EINVAL;
			json_object_update(dst, v);
		} else if (in_list(key, harness_keys, MMR_ARRAY_SIZE(harness_keys))) {
			json_object_set(p->harness, key, v);
		}
	}
	return 0;
}

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	case JSON_NULL:
		return "null";
	default:
		return "value";
	}
}

static int parse_harness_keys(struct loader *L, struct proto *p, struct mmr_case *c,
			      const char *where)
{
	json_t *v;
	const char *key;

	c->reps = p->w->default_reps ? p->w->default_reps : 10;
	c->warmup = 1;
	c->timeout_s = 600;
	c->stall_timeout_s = p->w->stall_timeout_s;
	c->cpu = -1;
	c->layout_tolerance = 0;
	c->seed = 1;
	json_object_foreach (p->harness, key, v) {
		double d;
		const char *s = json_is_string(v) ? json_string_value(v) : NULL;
		char at[1200], got[128];
		char *end;

		/* a --set value is named as such, with what was given */
		if (json_object_get(p->from_set, key))
			snprintf(at, sizeof(at), "--set %s", key);
		else
			snprintf(at, sizeof(at), "%s.%s", where, key);
		if (s)
			snprintf(got, sizeof(got), ", got \"%.100s\"", s);
		else if (json_is_number(v))
			snprintf(got, sizeof(got), ", got %g", json_number_value(v));
		else
			snprintf(got, sizeof(got), ", got a JSON %s", json_kind(v));

		if (!strcmp(key, "timeout")) {
			if (json_is_number(v))
				d = json_number_value(v);
			else if (!s || mmr_parse_duration(s, &d))
				return fail(L, "%s: expected a duration like 90s, 10m or 1h%s", at,
					    got);
			if (d <= 0)
				return fail(L, "%s: expected a duration > 0%s", at, got);
			c->timeout_s = d;
			continue;
		}
		if (!strcmp(key, "stall_timeout")) {
			/* 0 or "off": no stall deadline, only the total one */
			if (json_is_number(v))
				d = json_number_value(v);
			else if (s && !strcmp(s, "off"))
				d = 0;
			else if (!s || mmr_parse_duration(s, &d))
				d = -1;
			if (d < 0)
				return fail(
					L, "%s: expected a duration like 30s or 2m, or 0/\"off\"%s",
					at, got);
			c->stall_timeout_s = d;
			continue;
		}
		if (json_is_number(v)) {
			d = json_number_value(v);
		} else if (s && json_object_get(p->from_set, key)) {
			/* --set gives text; a config file must give a JSON number */
			d = strtod(s, &end);
			if (end == s || *end)
				d = NAN;
		} else {
			d = NAN;
		}
		if (!strcmp(key, "repetitions")) {
			if (!(d >= 1 && d <= 100000 && d == floor(d)))
				return fail(L, "%s: expected an integer in 1..100000%s", at, got);
			c->reps = (unsigned)d;
		} else if (!strcmp(key, "warmup")) {
			if (!(d >= 0 && d <= 1000 && d == floor(d)))
				return fail(L, "%s: expected an integer in 0..1000%s", at, got);
			c->warmup = (unsigned)d;
		} else if (!strcmp(key, "cpu")) {
			if (!(d >= -1 && d < 65536 && d == floor(d)))
				return fail(L, "%s: expected -1 (auto) or a CPU number%s", at, got);
			c->cpu = (int)d;
		} else if (!strcmp(key, "layout_tolerance")) {
			if (!(d >= 0 && d <= 1))
				return fail(L, "%s: expected a fraction in 0..1%s", at, got);
			c->layout_tolerance = d;
		} else if (!strcmp(key, "seed")) {
			if (!(d >= 0 && d == floor(d)))
				return fail(L, "%s: expected a non-negative integer%s", at, got);
			c->seed = (uint64_t)d;
		}
	}
	return 0;
}

static uint64_t scale_size(uint64_t v, enum mmr_scale s, const struct mmr_param *p)
{
	uint64_t min = 0, out = v;

	if (s == MMR_SCALE_CI)
		out = v / 16;
	else if (s == MMR_SCALE_FULL)
		out = v * 4;
	if (p->min)
		mmr_parse_size(p->min, &min);
	return out < min ? min : out;
}

/* "fork_anon size=1G backing=thp-pte": the workload and the params the config chose. */
static int set_case_id(struct mmr_case *c)
{
	char idbuf[2048], text[128];
	size_t off = (size_t)snprintf(idbuf, sizeof(idbuf), "%s", c->w->name), i;
	json_t *name;

	json_array_foreach (c->shown, i, name) {
		const char *n = json_string_value(name);

		mmr_param_format(mmr_param_find(c->w->params, n), json_object_get(c->params, n),
				 text, sizeof(text));
		if (off < sizeof(idbuf))
			off += (size_t)snprintf(idbuf + off, sizeof(idbuf) - off, " %s=%s", n,
						text);
	}
	free(c->id);
	c->id = strdup(idbuf);
	return c->id ? 0 : -ENOMEM;
}

int mmr_case_shrink(struct mmr_case *c)
{
	bool shrunk = false;
	json_t *name;
	size_t i;

	json_array_foreach (c->shrinkable, i, name) {
		const struct mmr_param *prm = mmr_param_find(c->w->params, json_string_value(name));
		uint64_t *f = (uint64_t *)((char *)c->pvals + prm->offset), min = 0;

		if (prm->min)
			mmr_parse_size(prm->min, &min);
		if (*f / 2 < min || *f / 2 == 0)
			continue;
		*f /= 2;
		json_object_set_new(c->params, prm->name, json_integer((json_int_t)*f));
		shrunk = true;
	}
	if (!shrunk)
		return -ERANGE;
	return set_case_id(c);
}

/* Fill one case from proto + one matrix combination (combo: name -> value). */
static int build_case(struct loader *L, struct proto *p, json_t *combo, const char *origin)
{
	struct mmr_config *cfg = L->cfg;
	struct mmr_case *c;
	const struct mmr_param *prm;
	char perr[512];

	if (cfg->ncases >= MAX_CASES)
		return fail(L, "%s: more than %d cases; split the config", origin, MAX_CASES);
	c = &cfg->cases[cfg->ncases];
	memset(c, 0, sizeof(*c));
	c->w = p->w;
	c->origin = strdup(origin);
	c->params = json_object();
	c->shown = json_array();
	c->shrinkable = json_array();
	c->pvals = calloc(1, p->w->params_size ? p->w->params_size : 1);
	c->settings = settings_as_strings(p->settings);
	cfg->ncases++; /* counted now so mmr_config_free releases it on error */
	if (!c->origin || !c->pvals)
		return -ENOMEM;
	for (prm = p->w->params; prm->name; prm++) {
		json_t *v = json_object_get(combo, prm->name), *canon = NULL, *input;
		bool explicit = true, from_set = json_object_get(p->from_set, prm->name) != NULL;

		if (!v)
			v = json_object_get(p->params, prm->name);
		if (!v) {
			explicit = false;
			input = json_string(prm->def);
		} else {
			input = json_incref(v);
		}
		/* a config file says numbers and booleans in JSON; text is --set's */
		if (explicit && !from_set && json_is_string(v) &&
		    (prm->type == MMR_T_INT || prm->type == MMR_T_DOUBLE ||
		     prm->type == MMR_T_BOOL)) {
			json_decref(input);
			return fail(L, "%s.params.%s: expected a JSON %s, got the string \"%s\"",
				    origin, prm->name,
				    prm->type == MMR_T_BOOL ? "true or false" : "number",
				    json_string_value(v));
		}
		if (mmr_param_parse(prm, input, c->pvals, &canon, perr, sizeof(perr))) {
			json_decref(input);
			if (!explicit)
				return fail(L, "%s: workload %s: bad default for %s (%s)", origin,
					    p->w->name, prm->name, perr);
			if (from_set)
				return fail(L, "--set %s: %s", prm->name, perr);
			return fail(L, "%s.params.%s: %s", origin, prm->name, perr);
		}
		json_decref(input);
		if (prm->type == MMR_T_SIZE && (prm->flags & MMR_P_SCALED) && !from_set &&
		    L->scale != MMR_SCALE_DEFAULT) {
			uint64_t *f = (uint64_t *)((char *)c->pvals + prm->offset);

			*f = scale_size(*f, L->scale, prm);
			json_decref(canon);
			canon = json_integer((json_int_t)*f);
			json_array_append_new(c->shrinkable, json_string(prm->name));
		}
		json_object_set_new(c->params, prm->name, canon);
		if (explicit)
			json_array_append_new(c->shown, json_string(prm->name));
	}
	if (set_case_id(c))
		return -ENOMEM;
	return parse_harness_keys(L, p, c, origin);
}

/* Matrix values, with "*" patterns of enum parameters expanded. */
static int matrix_values(struct loader *L, struct proto *p, const char *name, json_t *vals,
			 json_t **out, const char *where)
{
	const struct mmr_param *prm = mmr_param_find(p->w->params, name);
	size_t i;
	json_t *v;

	if (!prm)
		return bad_param_key(L, p->w, where, name);
	if (!json_is_array(vals) || json_array_size(vals) == 0)
		return fail(L, "%s.%s: expected a non-empty array of values", where, name);
	*out = json_array();
	json_array_foreach (vals, i, v) {
		const char *s = json_string_value(v);
		bool matched = false;

		if (prm->type == MMR_T_ENUM && s && strchr(s, '*')) {
			for (size_t c = 0; prm->choices[c]; c++) {
				if (!fnmatch(s, prm->choices[c], FNM_CASEFOLD)) {
					json_array_append_new(*out, json_string(prm->choices[c]));
					matched = true;
				}
			}
			if (!matched) {
				json_decref(*out);
				return fail(L, "%s.%s[%zu]: pattern \"%s\" matches no choice of %s",
					    where, name, i, s, name);
			}
			continue;
		}
		json_array_append(*out, v);
	}
	return 0;
}

static int expand(struct loader *L, struct proto *p, const char *origin)
{
	const char *names[64];
	json_t *lists[64], *v;
	size_t idx[64] = { 0 }, n = 0;
	const char *key;
	char where[1100];
	int ret = 0;

	snprintf(where, sizeof(where), "%s.matrix", origin);
	json_object_foreach (p->matrix, key, v) {
		if (n == 64)
			return fail(L, "%s: at most 64 matrix keys", where);
		if (json_object_get(p->pinned, key))
			continue; /* an override pins this parameter: the axis collapses */
		ret = matrix_values(L, p, key, v, &lists[n], where);
		if (ret)
			goto out;
		names[n++] = key;
	}
	for (;;) {
		json_t *combo = json_object();

		for (size_t i = 0; i < n; i++)
			json_object_set(combo, names[i], json_array_get(lists[i], idx[i]));
		ret = build_case(L, p, combo, origin);
		json_decref(combo);
		if (ret)
			goto out;
		/* odometer: the last key varies fastest */
		size_t i = n;

		while (i > 0) {
			i--;
			if (++idx[i] < json_array_size(lists[i]))
				break;
			idx[i] = 0;
			if (i == 0)
				goto out;
		}
		if (n == 0)
			goto out;
	}
out:
	for (size_t i = 0; i < n; i++)
		json_decref(lists[i]);
	return ret;
}

/* --set and include overrides: params, harness keys, settings.<knob>. */
static int apply_override(struct loader *L, struct proto *p, const char *key, json_t *val,
			  bool *used, const char *origin)
{
	if (!strncmp(key, "settings.", 9)) {
		json_t *one = json_object();
		char sub[1200];
		int ret;

		/* check_settings names "<where>.<knob>": --set settings.thp.enabled,
		 * or <include origin>.settings.thp.enabled */
		if (strncmp(origin, "--set ", 6))
			snprintf(sub, sizeof(sub), "%s.settings", origin);
		else
			snprintf(sub, sizeof(sub), "--set settings");
		json_object_set(one, key + 9, val);
		ret = check_settings(L, one, sub);
		if (!ret)
			json_object_update(p->settings, one);
		json_decref(one);
		if (!ret)
			*used = true;
		return ret;
	}
	if (in_list(key, harness_keys, MMR_ARRAY_SIZE(harness_keys))) {
		json_object_set(p->harness, key, val);
		*used = true;
		return 0;
	}
	if (mmr_param_find(p->w->params, key)) {
		json_object_set(p->params, key, val);
		json_object_set_new(p->pinned, key, json_true());
		*used = true;
	}
	return 0;
}

static int load_file(struct loader *L, const char *path, int depth, json_t *outer,
		     const char *outer_origin);

static int do_case(struct loader *L, json_t *entry, json_t *defaults, const char *file,
		   const char *where, json_t *outer, const char *outer_origin, int depth)
{
	struct proto p = { 0 };
	json_t *wl = json_object_get(entry, "workload"), *inc = json_object_get(entry, "include");
	char origin[1024];
	int ret;

	snprintf(origin, sizeof(origin), "%s: %s", file, where);
	if (!json_is_object(entry))
		return fail(L, "%s: expected an object with \"workload\" or \"include\"", origin);
	if (check_keys(L, entry, origin, case_keys, MMR_ARRAY_SIZE(case_keys)))
		return -EINVAL;
	if (inc) {
		char dir[PATH_MAX], incpath[PATH_MAX * 2], tmp[PATH_MAX];
		json_t *ovr;
		const char *k;
		json_t *v;

		if (wl)
			return fail(L, "%s: \"include\" and \"workload\" exclude each other",
				    origin);
		if (!json_is_string(inc) || !json_string_length(inc))
			return fail(
				L,
				"%s.include: expected a path (absolute, or relative to this file)",
				origin);
		snprintf(tmp, sizeof(tmp), "%s", file);
		snprintf(dir, sizeof(dir), "%s", dirname(tmp));
		if (json_string_value(inc)[0] == '/')
			snprintf(incpath, sizeof(incpath), "%s", json_string_value(inc));
		else
			snprintf(incpath, sizeof(incpath), "%s/%s", dir, json_string_value(inc));
		/* overrides an include applies to the included cases, like --set */
		ovr = json_object();
		json_object_foreach (entry, k, v) {
			if (!strcmp(k, "params") || !strcmp(k, "settings")) {
				const char *pk;
				json_t *pv;

				if (!json_is_object(v)) {
					json_decref(ovr);
					return fail(L, "%s.%s: expected an object", origin, k);
				}
				json_object_foreach (v, pk, pv) {
					char full[256];

					snprintf(full, sizeof(full), "%s%s",
						 !strcmp(k, "settings") ? "settings." : "", pk);
					json_object_set(ovr, full, pv);
				}
			} else if (in_list(k, harness_keys, MMR_ARRAY_SIZE(harness_keys))) {
				json_object_set(ovr, k, v);
			} else if (strcmp(k, "include") && strcmp(k, "description")) {
				json_decref(ovr);
				return fail(L, "%s.%s: not allowed beside \"include\"", origin, k);
			}
		}
		if (outer)
			json_object_update(ovr, outer); /* the including file's own outer wins */
		ret = load_file(L, incpath, depth + 1, ovr, origin);
		json_decref(ovr);
		return ret;
	}
	if (!json_is_string(wl))
		return fail(L, "%s: expected \"workload\": \"<name>\" or \"include\": \"<file>\"",
			    origin);
	p.w = mmr_workload_find(json_string_value(wl));
	if (!p.w) {
		const char *names[256];
		size_t n = 0;

		for (size_t i = 0; i < mmr_workload_count() && n < 256; i++)
			names[n++] = mmr_workload_at(i)->name;
		const char *near = mmr_did_you_mean(json_string_value(wl), names, n);

		return fail(L, "%s.workload: unknown workload \"%s\"%s%s%s", origin,
			    json_string_value(wl), near ? " (did you mean \"" : "",
			    near ? near : "", near ? "\"?)" : "");
	}
	p.params = json_object();
	p.from_set = json_object();
	p.pinned = json_object();
	p.matrix = json_object();
	p.settings = json_object();
	p.harness = json_object();
	{
		char dwhere[PATH_MAX + 16];

		snprintf(dwhere, sizeof(dwhere), "%s: defaults", file);
		ret = merge_case_object(L, &p, defaults, dwhere);
	}
	if (!ret)
		ret = merge_case_object(L, &p, entry, origin);
	if (!ret) {
		const char *k;
		json_t *v;
		char sub[1100];

		snprintf(sub, sizeof(sub), "%s.params", origin);
		json_object_foreach (p.params, k, v) {
			if (!mmr_param_find(p.w->params, k)) {
				ret = bad_param_key(L, p.w, sub, k);
				break;
			}
		}
		/* one case giving a parameter both ways would lose one silently */
		json_object_foreach (json_object_get(entry, "matrix"), k, v) {
			if (!ret && json_object_get(json_object_get(entry, "params"), k))
				ret = fail(
					L,
					"%s.matrix.%s: also given in params; give it in one place",
					origin, k);
		}
	}
	/* include overrides of an outer file, then --set (outermost wins) */
	if (!ret && outer) {
		const char *k;
		json_t *v;

		json_object_foreach (outer, k, v) {
			bool used = false;

			/* named where it was written: the including case */
			ret = apply_override(L, &p, k, v, &used,
					     outer_origin ? outer_origin : origin);
			if (ret)
				break;
		}
	}
	for (size_t i = 0; !ret && L->ov && i < L->ov->n; i++) {
		json_t *val = json_string(L->ov->values[i]);
		char o[128];

		snprintf(o, sizeof(o), "--set %s", L->ov->keys[i]);
		ret = apply_override(L, &p, L->ov->keys[i], val, &L->ov_used[i], o);
		if (mmr_param_find(p.w->params, L->ov->keys[i]) ||
		    in_list(L->ov->keys[i], harness_keys, MMR_ARRAY_SIZE(harness_keys)))
			json_object_set_new(p.from_set, L->ov->keys[i], json_true());
		json_decref(val);
	}
	if (!ret)
		ret = expand(L, &p, origin);
	proto_free(&p);
	return ret;
}

static int load_doc(struct loader *L, json_t *root, const char *file, int depth, json_t *outer,
		    const char *outer_origin)
{
	json_t *cases = json_object_get(root, "cases"),
	       *defaults = json_object_get(root, "defaults");
	json_t *scale = json_object_get(root, "scale"), *v;
	char where[64];
	size_t i;
	int ret;

	if (!json_is_object(root))
		return fail(L, "%s: expected a JSON object at the top level", file);
	if (json_object_get(root, "workload") || json_object_get(root, "include")) {
		/* single-case form: case keys at the top level */
		const char *all[MMR_ARRAY_SIZE(top_keys) + MMR_ARRAY_SIZE(case_keys)];
		json_t *entry = json_object();
		const char *k;

		memcpy(all, top_keys, sizeof(top_keys));
		memcpy(all + MMR_ARRAY_SIZE(top_keys), case_keys, sizeof(case_keys));
		if (check_keys(L, root, file, all, MMR_ARRAY_SIZE(all))) {
			json_decref(entry);
			return -EINVAL;
		}
		if (cases) {
			json_decref(entry);
			return fail(L,
				    "%s: \"cases\" and a top-level \"workload\" exclude each other",
				    file);
		}
		json_object_foreach (root, k, v)
			if (in_list(k, case_keys, MMR_ARRAY_SIZE(case_keys)))
				json_object_set(entry, k, v);
		cases = json_array();
		json_array_append_new(cases, entry);
	} else {
		if (check_keys(L, root, file, top_keys, MMR_ARRAY_SIZE(top_keys)))
			return -EINVAL;
		if (!json_is_array(cases) || json_array_size(cases) == 0)
			return fail(L, "%s: cases: expected a non-empty array of case objects",
				    file);
		json_incref(cases);
	}
	ret = 0;
	if (scale && depth == 0) {
		enum mmr_scale s;

		if (!json_is_string(scale) || mmr_scale_parse(json_string_value(scale), &s))
			ret = fail(L, "%s: scale: expected one of ci|default|full", file);
		else if (!L->scale_given)
			L->scale = s;
	}
	if (!ret && defaults) {
		if (!json_is_object(defaults))
			ret = fail(L, "%s: defaults: expected an object of case keys", file);
		else if (json_object_get(defaults, "workload") ||
			 json_object_get(defaults, "include"))
			ret = fail(L, "%s: defaults: \"workload\"/\"include\" belong in each case",
				   file);
		else {
			char dw[PATH_MAX + 16];

			snprintf(dw, sizeof(dw), "%s: defaults", file);
			ret = check_keys(L, defaults, dw, case_keys, MMR_ARRAY_SIZE(case_keys));
		}
	}
	if (!ret && depth == 0) {
		json_t *name = json_object_get(root, "name");

		if (name && !json_is_string(name))
			ret = fail(L, "%s: name: expected a string", file);
		else if (name)
			L->cfg->name = strdup(json_string_value(name));
		L->cfg->claim = json_object_get(root, "claim");
		json_incref(L->cfg->claim);
	}
	json_array_foreach (cases, i, v) {
		if (ret)
			break;
		snprintf(where, sizeof(where), "cases[%zu]", i);
		ret = do_case(L, v, defaults, file, where, outer, outer_origin, depth);
	}
	json_decref(cases);
	return ret;
}

static int load_file(struct loader *L, const char *path, int depth, json_t *outer,
		     const char *outer_origin)
{
	json_error_t jerr;
	json_t *root;
	int ret;

	if (depth > MAX_INCLUDE_DEPTH)
		return fail(L, "%s: includes nested deeper than %d", path, MAX_INCLUDE_DEPTH);
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line < 1)
			return fail(L, "%s%s%s: %s", outer_origin ? outer_origin : "",
				    outer_origin ? ": include " : "", path, jerr.text);
		return fail(L, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column,
			    jerr.text);
	}
	ret = load_doc(L, root, path, depth, outer, outer_origin);
	json_decref(root);
	return ret;
}

json_t *mmr_case_harness_json(const struct mmr_case *c)
{
	return json_pack("{s:i,s:i,s:f,s:f,s:i,s:f,s:I}", "repetitions", (int)c->reps, "warmup",
			 (int)c->warmup, "timeout_s", c->timeout_s, "stall_timeout_s",
			 c->stall_timeout_s, "cpu", c->cpu, "layout_tolerance", c->layout_tolerance,
			 "seed", (json_int_t)c->seed);
}

static json_t *resolved_json(const struct mmr_config *cfg, const char *target,
			     const struct mmr_overrides *ov)
{
	json_t *r = json_object(), *cases = json_array(), *o = json_object();

	json_object_set_new(r, "target", json_string(target));
	json_object_set_new(r, "file", cfg->path ? json_string(cfg->path) : json_null());
	json_object_set_new(r, "name", json_string(cfg->name ? cfg->name : target));
	json_object_set_new(r, "scale", json_string(mmr_scale_name(cfg->scale)));
	for (size_t i = 0; ov && i < ov->n; i++)
		json_object_set_new(o, ov->keys[i], json_string(ov->values[i]));
	json_object_set_new(r, "overrides", o);
	for (size_t i = 0; i < cfg->ncases; i++) {
		const struct mmr_case *c = &cfg->cases[i];
		json_t *e = json_object(), *h;

		json_object_set_new(e, "workload", json_string(c->w->name));
		json_object_set(e, "params", c->params);
		json_object_set(e, "settings", c->settings);
		h = mmr_case_harness_json(c);
		json_object_update(e, h); /* flat here, as in a config file */
		json_decref(h);
		json_object_set_new(e, "origin", json_string(c->origin));
		json_array_append_new(cases, e);
	}
	json_object_set_new(r, "cases", cases);
	return r;
}

static char *find_named_config(const char *name)
{
	static const char *const dirs[] = { "configs/suites", "configs", "configs/claims" };
	char path[PATH_MAX];

	for (size_t i = 0; i < MMR_ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s/%s.json", mmr_datadir(), dirs[i], name);
		if (mmr_path_exists(path))
			return strdup(path);
	}
	return NULL;
}

int mmr_config_load(const char *target, const struct mmr_overrides *ov, enum mmr_scale scale,
		    bool scale_given, struct mmr_config *cfg, char *err, size_t errlen)
{
	struct loader L = { .scale = scale,
			    .scale_given = scale_given,
			    .ov = ov,
			    .cfg = cfg,
			    .err = err,
			    .errlen = errlen };
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	cfg->cases = calloc(MAX_CASES, sizeof(*cfg->cases));
	L.ov_used = calloc(ov && ov->n ? ov->n : 1, sizeof(bool));
	if (!cfg->cases || !L.ov_used) {
		free(L.ov_used);
		return -ENOMEM;
	}
	if (mmr_path_exists(target) || strchr(target, '/') || strstr(target, ".json")) {
		cfg->path = strdup(target);
		ret = load_file(&L, target, 0, NULL, NULL);
	} else if (mmr_workload_find(target)) {
		json_t *doc = json_pack("{s:s}", "workload", target);

		ret = load_doc(&L, doc, "(defaults)", 0, NULL, NULL);
		json_decref(doc);
	} else if ((cfg->path = find_named_config(target))) {
		ret = load_file(&L, cfg->path, 0, NULL, NULL);
	} else {
		const char *names[256];
		size_t n = 0;

		for (size_t i = 0; i < mmr_workload_count() && n < 256; i++)
			names[n++] = mmr_workload_at(i)->name;
		const char *near = mmr_did_you_mean(target, names, n);

		ret = fail(&L, "%s: not a config file, a workload or a suite in %s/configs%s%s%s",
			   target, mmr_datadir(), near ? " (did you mean \"" : "", near ? near : "",
			   near ? "\"?)" : "");
	}
	for (size_t i = 0; !ret && ov && i < ov->n; i++) {
		if (!L.ov_used[i]) {
			ret = fail(
				&L,
				"--set %s=%s: no case has a parameter \"%s\" (see `mmrepro list`)",
				ov->keys[i], ov->values[i], ov->keys[i]);
		}
	}
	free(L.ov_used);
	cfg->scale = L.scale;
	if (ret) {
		mmr_config_free(cfg);
		return ret;
	}
	cfg->resolved = resolved_json(cfg, target, ov);
	return 0;
}

void mmr_config_free(struct mmr_config *cfg)
{
	for (size_t i = 0; cfg->cases && i < cfg->ncases; i++) {
		struct mmr_case *c = &cfg->cases[i];

		if (c->pvals)
			mmr_params_free(c->w->params, c->pvals);
		free(c->pvals);
		free(c->id);
		free(c->origin);
		json_decref(c->params);
		json_decref(c->settings);
		json_decref(c->shown);
		json_decref(c->shrinkable);
	}
	free(cfg->cases);
	free(cfg->path);
	free(cfg->name);
	json_decref(cfg->claim);
	json_decref(cfg->resolved);
	memset(cfg, 0, sizeof(*cfg));
}

int mmr_overrides_add(struct mmr_overrides *ov, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	char **k, **v;

	if (!eq || eq == kv) {
		snprintf(err, errlen, "--set %s: expected key=value", kv);
		return -EINVAL;
	}
	k = realloc(ov->keys, (ov->n + 1) * sizeof(*k));
	if (!k)
		return -ENOMEM;
	ov->keys = k;
	v = realloc(ov->values, (ov->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ov->values = v;
	ov->keys[ov->n] = strndup(kv, (size_t)(eq - kv));
	ov->values[ov->n] = strdup(eq + 1);
	ov->n++;
	return 0;
}

void mmr_overrides_free(struct mmr_overrides *ov)
{
	for (size_t i = 0; i < ov->n; i++) {
		free(ov->keys[i]);
		free(ov->values[i]);
	}
	free(ov->keys);
	free(ov->values);
	memset(ov, 0, sizeof(*ov));
}
