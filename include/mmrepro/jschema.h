/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A JSON Schema (2020-12) validator for the keywords mmrepro's own schemas use,
 * so that the C tools check reports against the very file the tests use
 * (reports/report.schema.json) instead of a hand-written copy of its rules.
 * Debian ships no C validator. A schema with any other keyword is refused by
 * mmr_jschema_check() rather than half-checked.
 */
#ifndef MMREPRO_JSCHEMA_H
#define MMREPRO_JSCHEMA_H

#include <stddef.h>

#include <jansson.h>

/* 0 when every keyword of the schema is supported; else -ENOTSUP and err
 * names the keyword and where it is. */
int mmr_jschema_check(json_t *schema, char *err, size_t errlen);
/*
 * 0 when doc is valid against schema; else -EINVAL and err holds the first
 * violation as "where: what was expected, what was found", where is a path
 * like cases[0].metrics.fork_ns.samples[2] ("(top level)" for the root).
 */
int mmr_jschema_validate(json_t *schema, json_t *doc, char *err, size_t errlen);
/* The schema reports/<name> from the data directory (source tree or install). */
json_t *mmr_jschema_load(const char *name, char *err, size_t errlen);

#endif
