/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The JSON report (schema: reports/report.schema.json) and its human table.
 * One document per run, written to a temp file and renamed.
 */
#ifndef MMREPRO_REPORT_H
#define MMREPRO_REPORT_H

#include <stdio.h>

#include <jansson.h>

#include "mmrepro/config.h"

#define MMR_SCHEMA_VERSION 1

/* Skeleton: schema_version, tool, command, run_id, started_at, fingerprint,
 * config (resolved), claim. */
json_t *mmr_report_new(const struct mmr_config *cfg, int argc, char **argv, const char *run_id);
/* The JSON object of one case before it runs (id, params, harness keys...). */
json_t *mmr_report_case_new(const struct mmr_case *c, size_t index);
/* Add a sample of a declared metric; creates the metric entry on first use. */
void mmr_report_add_sample(json_t *case_json, const struct mmr_workload *w, const char *metric,
			   double v);
/* Add one op's counter deltas (flat "group.key" names) to the case totals. */
void mmr_report_add_op(json_t *case_json, const char *op, json_t *delta);
/* Summaries of every metric of the case. */
void mmr_report_summarize_case(json_t *case_json);
int mmr_report_write(json_t *report, const char *path);
/* "lower", "higher" or "info", as reports spell a metric's direction. */
const char *mmr_direction_name(enum mmr_direction d);
/* ISO-8601 UTC time now. */
void mmr_iso_time(char *buf, size_t len);

/* Human output. */
void mmr_format_value(double v, const char *unit, char *buf, size_t len);
void mmr_print_case_result(FILE *f, json_t *case_json, size_t i, size_t n);
void mmr_print_table(FILE *f, json_t *report);

#endif
