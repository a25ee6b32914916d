// SPDX-License-Identifier: GPL-2.0
/* JSON Schema validation for the keyword subset mmrepro's schemas use. */
#include "mmrepro/jschema.h"
#include "mmrepro/config.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Annotations and structure: accepted, not checked against an instance. */
static const char *const annotations[] = { "$schema", "$id",	  "title",   "description",
					   "$defs",   "$comment", "default", "examples" };
static const char *const assertions[] = {
	"type",
	"required",
	"properties",
	"additionalProperties",
	"const",
	"enum",
	"items",
	"$ref",
	"oneOf",
	"anyOf",
	"allOf",
	"if",
	"then",
	"else",
	"minimum",
	"maximum",
	"minLength",
	"pattern",
	"minProperties",
	"minItems",
	"exclusiveMinimum",
};

static bool in(const char *k, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(k, list[i]))
			return true;
	return false;
}

static int check_node(json_t *s, const char *where, char *err, size_t errlen);

static int check_map(json_t *m, const char *where, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	json_object_foreach (m, k, v) {
		char sub[512];

		snprintf(sub, sizeof(sub), "%s/%s", where, k);
		if (check_node(v, sub, err, errlen))
			return -ENOTSUP;
	}
	return 0;
}

static int check_node(json_t *s, const char *where, char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_boolean(s))
		return 0;
	if (!json_is_object(s)) {
		snprintf(err, errlen, "schema %s: expected an object or a boolean", where);
		return -ENOTSUP;
	}
	json_object_foreach (s, k, v) {
		char sub[512];

		snprintf(sub, sizeof(sub), "%s/%s", where, k);
		if (in(k, annotations, MMR_ARRAY_SIZE(annotations))) {
			if (!strcmp(k, "$defs") && check_map(v, sub, err, errlen))
				return -ENOTSUP;
			continue;
		}
		if (!in(k, assertions, MMR_ARRAY_SIZE(assertions))) {
			snprintf(err, errlen, "schema %s: keyword \"%s\" is not supported", where,
				 k);
			return -ENOTSUP;
		}
		if (!strcmp(k, "properties")) {
			if (check_map(v, sub, err, errlen))
				return -ENOTSUP;
		} else if (!strcmp(k, "oneOf") || !strcmp(k, "anyOf") || !strcmp(k, "allOf")) {
			json_t *alt;

			json_array_foreach (v, i, alt)
				if (check_node(alt, sub, err, errlen))
					return -ENOTSUP;
		} else if (!strcmp(k, "items") || !strcmp(k, "if") || !strcmp(k, "then") ||
			   !strcmp(k, "else") || !strcmp(k, "additionalProperties")) {
			if (check_node(v, sub, err, errlen))
				return -ENOTSUP;
		} else if (!strcmp(k, "$ref")) {
			const char *ref = json_string_value(v);

			if (!ref || strncmp(ref, "#", 1)) {
				snprintf(err, errlen, "schema %s: only local references (#/...)",
					 sub);
				return -ENOTSUP;
			}
		}
	}
	return 0;
}

int mmr_jschema_check(json_t *schema, char *err, size_t errlen)
{
	return check_node(schema, "#", err, errlen);
}

struct vctx {
	json_t *root;
	char *err;
	size_t errlen;
	int quiet; /* inside oneOf/anyOf/if: try without reporting */
	int depth;
};

static int fail(struct vctx *v, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct vctx *v, const char *path, const char *fmt, ...)
{
	va_list ap;
	int off;

	if (v->quiet)
		return -EINVAL;
	off = snprintf(v->err, v->errlen, "%s: ", *path ? path : "(top level)");
	if (off < 0 || (size_t)off >= v->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(v->err + off, v->errlen - off, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *type_name(json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static bool is_type(json_t *j, const char *t)
{
	if (!strcmp(t, "object"))
		return json_is_object(j);
	if (!strcmp(t, "array"))
		return json_is_array(j);
	if (!strcmp(t, "string"))
		return json_is_string(j);
	if (!strcmp(t, "number"))
		return json_is_number(j);
	if (!strcmp(t, "integer"))
		return json_is_integer(j) ||
		       (json_is_real(j) && json_real_value(j) == floor(json_real_value(j)));
	if (!strcmp(t, "boolean"))
		return json_is_boolean(j);
	if (!strcmp(t, "null"))
		return json_is_null(j);
	return false;
}

static json_t *resolve(json_t *root, const char *ref)
{
	char seg[256];
	json_t *cur = root;
	const char *p = ref + 1; /* after '#' */

	while (*p == '/') {
		size_t n = strcspn(p + 1, "/");

		if (n >= sizeof(seg))
			return NULL;
		memcpy(seg, p + 1, n);
		seg[n] = '\0';
		cur = json_object_get(cur, seg);
		if (!cur)
			return NULL;
		p += n + 1;
	}
	return *p ? NULL : cur;
}

static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void short_json(json_t *j, char *buf, size_t len)
{
	char *t = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);

	snprintf(buf, len, "%.60s%s", t ? t : "?", t && strlen(t) > 60 ? "..." : "");
	free(t);
}

static int validate(struct vctx *v, json_t *s, json_t *x, const char *path);

static int child(struct vctx *v, json_t *s, json_t *x, const char *path, const char *key,
		 size_t index)
{
	char sub[1024];

	if (key)
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
	else
		snprintf(sub, sizeof(sub), "%s[%zu]", path, index);
	return validate(v, s, x, sub);
}

static int try_quiet(struct vctx *v, json_t *s, json_t *x, const char *path)
{
	int ret;

	v->quiet++;
	ret = validate(v, s, x, path);
	v->quiet--;
	return ret;
}

static int check_type(struct vctx *v, json_t *t, json_t *x, const char *path)
{
	char want[128] = "";
	json_t *e;
	size_t i;

	if (json_is_string(t)) {
		if (is_type(x, json_string_value(t)))
			return 0;
		snprintf(want, sizeof(want), "%s", json_string_value(t));
	} else {
		json_array_foreach (t, i, e) {
			if (is_type(x, json_string_value(e)))
				return 0;
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s",
				 i ? " or " : "", json_string_value(e));
		}
	}
	return fail(v, path, "expected %s, got %s", want, type_name(x));
}

static int check_object(struct vctx *v, json_t *s, json_t *x, const char *path)
{
	json_t *props = json_object_get(s, "properties"), *addl, *req, *e, *val;
	const char *k;
	size_t i;

	req = json_object_get(s, "required");
	json_array_foreach (req, i, e)
		if (!json_object_get(x, json_string_value(e)))
			return fail(v, path, "the required key \"%s\" is missing",
				    json_string_value(e));
	if ((e = json_object_get(s, "minProperties")) &&
	    json_object_size(x) < (size_t)json_integer_value(e))
		return fail(v, path, "expected at least %lld keys, got %zu",
			    (long long)json_integer_value(e), json_object_size(x));
	addl = json_object_get(s, "additionalProperties");
	json_object_foreach (x, k, val) {
		json_t *ps = json_object_get(props, k);

		if (ps) {
			if (child(v, ps, val, path, k, 0))
				return -EINVAL;
		} else if (json_is_false(addl)) {
			return fail(v, path, "unexpected key \"%s\"", k);
		} else if (json_is_object(addl) && child(v, addl, val, path, k, 0)) {
			return -EINVAL;
		}
	}
	return 0;
}

static int check_scalar(struct vctx *v, json_t *s, json_t *x, const char *path)
{
	json_t *e;

	if (json_is_number(x)) {
		double d = json_number_value(x);

		if ((e = json_object_get(s, "minimum")) && d < json_number_value(e))
			return fail(v, path, "expected a value >= %g, got %g", json_number_value(e),
				    d);
		if ((e = json_object_get(s, "maximum")) && d > json_number_value(e))
			return fail(v, path, "expected a value <= %g, got %g", json_number_value(e),
				    d);
		if ((e = json_object_get(s, "exclusiveMinimum")) && d <= json_number_value(e))
			return fail(v, path, "expected a value > %g, got %g", json_number_value(e),
				    d);
	}
	if (json_is_string(x)) {
		const char *str = json_string_value(x);

		if ((e = json_object_get(s, "minLength")) &&
		    utf8_len(str) < (size_t)json_integer_value(e))
			return fail(v, path, "expected a string of at least %lld characters",
				    (long long)json_integer_value(e));
		if ((e = json_object_get(s, "pattern"))) {
			regex_t re;
			int nomatch;

			if (regcomp(&re, json_string_value(e), REG_EXTENDED | REG_NOSUB))
				return fail(v, path, "schema pattern %s does not compile",
					    json_string_value(e));
			nomatch = regexec(&re, str, 0, NULL, 0);
			regfree(&re);
			if (nomatch)
				return fail(v, path, "\"%.60s\" does not match %s", str,
					    json_string_value(e));
		}
	}
	return 0;
}

static bool is_null_form(json_t *s)
{
	const char *t = json_string_value(json_object_get(s, "type"));

	return t && !strcmp(t, "null");
}

static int check_combinators(struct vctx *v, json_t *s, json_t *x, const char *path)
{
	json_t *e, *alt;
	size_t i, matches = 0;

	if ((e = json_object_get(s, "allOf")))
		json_array_foreach (e, i, alt)
			if (validate(v, alt, x, path))
				return -EINVAL;
	if ((e = json_object_get(s, "anyOf"))) {
		json_array_foreach (e, i, alt)
			if (!try_quiet(v, alt, x, path))
				matches++;
		if (!matches)
			return fail(v, path, "matches none of the allowed forms");
	}
	if ((e = json_object_get(s, "oneOf"))) {
		matches = 0;
		json_array_foreach (e, i, alt)
			if (!try_quiet(v, alt, x, path))
				matches++;
		if (matches != 1) {
			/* report why the closest form failed: the first non-null one */
			json_array_foreach (e, i, alt)
				if (!is_null_form(alt))
					break;
			if (matches == 0 && i < json_array_size(e))
				return validate(v, json_array_get(e, i), x, path);
			return fail(v, path, "matches %zu of the allowed forms, expected one",
				    matches);
		}
	}
	if ((e = json_object_get(s, "if"))) {
		json_t *branch = try_quiet(v, e, x, path) ? json_object_get(s, "else")
							  : json_object_get(s, "then");

		if (branch && validate(v, branch, x, path))
			return -EINVAL;
	}
	return 0;
}

static int validate(struct vctx *v, json_t *s, json_t *x, const char *path)
{
	json_t *e;
	size_t i;
	char buf[128];
	int ret = -EINVAL;

	if (json_is_true(s))
		return 0;
	if (json_is_false(s))
		return fail(v, path, "no value is allowed here");
	if (++v->depth > 64) {
		fail(v, path, "schema nests too deeply (a reference loop?)");
		goto out;
	}
	if ((e = json_object_get(s, "$ref"))) {
		json_t *target = resolve(v->root, json_string_value(e));

		if (!target) {
			fail(v, path, "schema reference %s not found", json_string_value(e));
			goto out;
		}
		if (validate(v, target, x, path))
			goto out;
	}
	if ((e = json_object_get(s, "type")) && check_type(v, e, x, path))
		goto out;
	if ((e = json_object_get(s, "const")) && !json_equal(e, x)) {
		short_json(e, buf, sizeof(buf));
		fail(v, path, "expected %s", buf);
		goto out;
	}
	if ((e = json_object_get(s, "enum"))) {
		json_t *c;
		bool found = false;

		json_array_foreach (e, i, c)
			found |= json_equal(c, x);
		if (!found) {
			short_json(e, buf, sizeof(buf));
			fail(v, path, "expected one of %s", buf);
			goto out;
		}
	}
	if (json_is_object(x) && check_object(v, s, x, path))
		goto out;
	if (json_is_array(x)) {
		json_t *items = json_object_get(s, "items"), *it;

		if ((e = json_object_get(s, "minItems")) &&
		    json_array_size(x) < (size_t)json_integer_value(e)) {
			fail(v, path, "expected at least %lld items",
			     (long long)json_integer_value(e));
			goto out;
		}
		if (items)
			json_array_foreach (x, i, it)
				if (child(v, items, it, path, NULL, i))
					goto out;
	}
	if (check_scalar(v, s, x, path) || check_combinators(v, s, x, path))
		goto out;
	ret = 0;
out:
	v->depth--;
	return ret;
}

int mmr_jschema_validate(json_t *schema, json_t *doc, char *err, size_t errlen)
{
	struct vctx v = { .root = schema, .err = err, .errlen = errlen };

	return validate(&v, schema, doc, "");
}

json_t *mmr_jschema_load(const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	json_error_t je;
	json_t *s;

	snprintf(path, sizeof(path), "%s/reports/%s", mmr_datadir(), name);
	s = json_load_file(path, 0, &je);
	if (!s) {
		snprintf(err, errlen, "%s: cannot load the schema: %s (set MMREPRO_DATADIR)", path,
			 je.text);
		return NULL;
	}
	if (mmr_jschema_check(s, err, errlen)) {
		json_decref(s);
		return NULL;
	}
	return s;
}
