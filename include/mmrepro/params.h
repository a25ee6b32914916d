/* SPDX-License-Identifier: GPL-2.0 */
/* Typed parameter tables: parse user input (config values or --set text) into
 * a workload's params struct, and render canonical values for the report. */
#ifndef MMREPRO_PARAMS_H
#define MMREPRO_PARAMS_H

#include <jansson.h>

#include "mmrepro/workload.h"

const char *mmr_type_name(enum mmr_type t);
/* What a value of this parameter must look like, for error messages and --help. */
void mmr_param_expected(const struct mmr_param *p, char *buf, size_t len);

/*
 * Parse one value (a JSON string is parsed like command-line text; numbers and
 * booleans are taken where the type allows) into dst (the params struct) and
 * return its canonical JSON form in *canon (new reference). On error, err gets
 * "expected ..., got ..." and -EINVAL is returned.
 */
int mmr_param_parse(const struct mmr_param *p, json_t *value, void *dst, json_t **canon, char *err,
		    size_t errlen);
const struct mmr_param *mmr_param_find(const struct mmr_param *table, const char *name);
size_t mmr_param_count(const struct mmr_param *table);
/* Human form of a canonical value: sizes as "1G", others as typed. */
void mmr_param_format(const struct mmr_param *p, json_t *canon, char *buf, size_t len);
/* Free MMR_T_STRING values held by a params struct. */
void mmr_params_free(const struct mmr_param *table, void *dst);

#endif
