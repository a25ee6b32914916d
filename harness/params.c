// SPDX-License-Identifier: GPL-2.0
/* Parameter tables: one parser for config values and --set text alike. */
#include "mmrepro/params.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *mmr_type_name(enum mmr_type t)
{
	switch (t) {
	case MMR_T_SIZE:
		return "size";
	case MMR_T_INT:
		return "int";
	case MMR_T_DOUBLE:
		return "number";
	case MMR_T_BOOL:
		return "bool";
	case MMR_T_ENUM:
		return "enum";
	case MMR_T_STRING:
		return "string";
	}
	return "?";
}

static void range_text(const struct mmr_param *p, char *buf, size_t len)
{
	if (p->min && p->max)
		snprintf(buf, len, " in %s..%s", p->min, p->max);
	else if (p->min)
		snprintf(buf, len, " >= %s", p->min);
	else if (p->max)
		snprintf(buf, len, " <= %s", p->max);
	else
		buf[0] = '\0';
}

void mmr_param_expected(const struct mmr_param *p, char *buf, size_t len)
{
	char range[64];
	size_t off;

	range_text(p, range, sizeof(range));
	switch (p->type) {
	case MMR_T_SIZE:
		snprintf(buf, len, "a size like 512M or 1G%s", range);
		break;
	case MMR_T_INT:
		snprintf(buf, len, "an integer%s", range);
		break;
	case MMR_T_DOUBLE:
		snprintf(buf, len, "a number%s", range);
		break;
	case MMR_T_BOOL:
		snprintf(buf, len, "true or false");
		break;
	case MMR_T_STRING:
		snprintf(buf, len, "a string");
		break;
	case MMR_T_ENUM:
		off = snprintf(buf, len, "one of ");
		for (size_t i = 0; p->choices[i] && off < len; i++)
			off += snprintf(buf + off, len - off, "%s%s", i ? "|" : "", p->choices[i]);
		break;
	}
}

/* The text form of any JSON scalar, so "got ..." shows what the user wrote. */
static void value_text(json_t *v, char *buf, size_t len)
{
	char *s;

	if (json_is_string(v)) {
		snprintf(buf, len, "\"%s\"", json_string_value(v));
		return;
	}
	s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	snprintf(buf, len, "%s", s ? s : "?");
	free(s);
}

static int bad(const struct mmr_param *p, json_t *v, char *err, size_t errlen)
{
	char exp[512], got[128];

	mmr_param_expected(p, exp, sizeof(exp));
	value_text(v, got, sizeof(got));
	snprintf(err, errlen, "expected %s, got %s", exp, got);
	return -EINVAL;
}

static int bad_choice(const struct mmr_param *p, json_t *v, char *err, size_t errlen)
{
	size_t n = 0, l;
	const char *near;
	int r = bad(p, v, err, errlen);

	while (p->choices[n])
		n++;
	near = mmr_did_you_mean(json_string_value(v), p->choices, n);
	if (near) {
		l = strlen(err);
		snprintf(err + l, errlen - l, " (did you mean \"%s\"?)", near);
	}
	return r;
}

static int parse_number(const struct mmr_param *p, const char *text, double *out)
{
	uint64_t sz;
	char *end;

	if (p->type == MMR_T_SIZE) {
		if (mmr_parse_size(text, &sz))
			return -EINVAL;
		*out = (double)sz;
		return 0;
	}
	errno = 0;
	*out = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(*out))
		return -EINVAL;
	if (p->type == MMR_T_INT && *out != floor(*out))
		return -EINVAL;
	return 0;
}

static int check_range(const struct mmr_param *p, double v)
{
	double lim;

	if (p->min && (parse_number(p, p->min, &lim) || v < lim))
		return -ERANGE;
	if (p->max && (parse_number(p, p->max, &lim) || v > lim))
		return -ERANGE;
	return 0;
}

static int parse_bool(json_t *v, bool *out)
{
	const char *s;

	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	if (!strcasecmp(s, "true") || !strcmp(s, "1") || !strcasecmp(s, "yes") ||
	    !strcasecmp(s, "on"))
		*out = true;
	else if (!strcasecmp(s, "false") || !strcmp(s, "0") || !strcasecmp(s, "no") ||
		 !strcasecmp(s, "off"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

static int parse_numeric(const struct mmr_param *p, json_t *value, char *field, json_t **canon,
			 char *err, size_t errlen)
{
	double num;

	if (json_is_string(value)) {
		if (parse_number(p, json_string_value(value), &num))
			return bad(p, value, err, errlen);
	} else if (json_is_number(value)) {
		num = json_number_value(value);
		if (p->type != MMR_T_DOUBLE && num != floor(num))
			return bad(p, value, err, errlen);
	} else {
		return bad(p, value, err, errlen);
	}
	if (check_range(p, num) || (p->type == MMR_T_SIZE && num < 0))
		return bad(p, value, err, errlen);
	switch (p->type) {
	case MMR_T_SIZE:
		if (num >= 9223372036854775807.0) /* json_int_t is signed */
			return bad(p, value, err, errlen);
		*(uint64_t *)field = (uint64_t)num;
		*canon = json_integer((json_int_t)num);
		break;
	case MMR_T_INT:
		*(int64_t *)field = (int64_t)num;
		*canon = json_integer((json_int_t)num);
		break;
	default:
		*(double *)field = num;
		*canon = json_real(num);
		break;
	}
	return 0;
}

int mmr_param_parse(const struct mmr_param *p, json_t *value, void *dst, json_t **canon, char *err,
		    size_t errlen)
{
	char *field = (char *)dst + p->offset;
	char text[64];

	switch (p->type) {
	case MMR_T_SIZE:
	case MMR_T_INT:
	case MMR_T_DOUBLE:
		return parse_numeric(p, value, field, canon, err, errlen);
	case MMR_T_BOOL:
		if (parse_bool(value, (bool *)field))
			return bad(p, value, err, errlen);
		*canon = json_boolean(*(bool *)field);
		return 0;
	case MMR_T_ENUM:
		if (!json_is_string(value))
			return bad(p, value, err, errlen);
		for (size_t i = 0; p->choices[i]; i++) {
			if (!strcasecmp(p->choices[i], json_string_value(value))) {
				*(const char **)field = p->choices[i];
				*canon = json_string(p->choices[i]);
				return 0;
			}
		}
		return bad_choice(p, value, err, errlen);
	case MMR_T_STRING:
		if (json_is_number(value))
			value_text(value, text, sizeof(text));
		else if (!json_is_string(value))
			return bad(p, value, err, errlen);
		free(*(char **)field);
		*(char **)field = strdup(json_is_string(value) ? json_string_value(value) : text);
		*canon = json_string(*(char **)field);
		return 0;
	}
	return bad(p, value, err, errlen);
}

const struct mmr_param *mmr_param_find(const struct mmr_param *table, const char *name)
{
	for (; table && table->name; table++)
		if (!strcmp(table->name, name))
			return table;
	return NULL;
}

size_t mmr_param_count(const struct mmr_param *table)
{
	size_t n = 0;

	while (table && table[n].name)
		n++;
	return n;
}

void mmr_param_format(const struct mmr_param *p, json_t *canon, char *buf, size_t len)
{
	if (p && p->type == MMR_T_SIZE && json_is_integer(canon)) {
		mmr_format_size((uint64_t)json_integer_value(canon), buf, len);
		return;
	}
	if (json_is_string(canon)) {
		snprintf(buf, len, "%s", json_string_value(canon));
		return;
	}
	if (json_is_real(canon)) {
		snprintf(buf, len, "%g", json_real_value(canon));
		return;
	}
	value_text(canon, buf, len);
}

void mmr_params_free(const struct mmr_param *table, void *dst)
{
	for (; table && table->name; table++) {
		if (table->type == MMR_T_STRING) {
			char **f = (char **)((char *)dst + table->offset);

			free(*f);
			*f = NULL;
		}
	}
}
