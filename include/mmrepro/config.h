/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Configs: strict JSON, read with jansson, expanded into a flat list of cases.
 *
 *   { "name": "...", "description": "...", "scale": "default",
 *     "defaults": { <case keys> },          applied to every case
 *     "cases": [ { "workload": "fork_anon",
 *                  "params":   { "size": "1G" },
 *                  "matrix":   { "backing": ["4k", "thp-pte", "mthp-*"] },
 *                  "settings": { "thp.khugepaged.scan_sleep_millisecs": "600000" },
 *                  "repetitions": 10, "warmup": 1, "timeout": "10m", "stall_timeout": "30s",
 *                  "cpu": -1, "layout_tolerance": 0, "seed": 1 },
 *                { "include": "../fork-anon.json", "params": { ... } } ],
 *     "claim": { free-form: the published figures this config reproduces } }
 *
 * A file holding a single case may put the case keys at the top level.
 * Every error is one line: "<file>: <key path>: expected ..., got ...", and is
 * raised before anything on the system changes.
 */
#ifndef MMREPRO_CONFIG_H
#define MMREPRO_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "mmrepro/workload.h"

enum mmr_scale { MMR_SCALE_CI, MMR_SCALE_DEFAULT, MMR_SCALE_FULL };

struct mmr_case {
	const struct mmr_workload *w;
	char *id;	  /* "fork_anon size=1G backing=thp-pte" */
	char *origin;	  /* "configs/fork-anon.json: cases[0]" */
	json_t *params;	  /* name -> canonical typed value (every parameter) */
	void *pvals;	  /* the workload's params struct, filled */
	json_t *settings; /* explicit settings from the config: knob -> value */
	unsigned reps, warmup;
	double timeout_s;
	double stall_timeout_s; /* no progress for this long is a hang; 0: off */
	int cpu;		/* -1: let the harness choose */
	double layout_tolerance;
	uint64_t seed;
	json_t *shown;	    /* names of the params the id shows (set by config, not default) */
	json_t *shrinkable; /* names of scaled sizes --scale may shrink to fit the machine */
};

/* Halve every shrinkable size of a case that is still >= twice its minimum
 * (used by --scale ci|full to fit the memory guard). Returns 0 when something
 * shrank, -ERANGE when nothing can. The id follows the new values. */
int mmr_case_shrink(struct mmr_case *c);
/* The harness keys of a case (repetitions, warmup, timeout_s,
 * stall_timeout_s, cpu, layout_tolerance, seed) as the report shows them. */
json_t *mmr_case_harness_json(const struct mmr_case *c);

struct mmr_overrides {
	size_t n;
	char **keys;   /* "size", "repetitions", "settings.thp.enabled" */
	char **values; /* text, parsed like any config value */
};

struct mmr_config {
	char *path; /* NULL when built from a workload name */
	char *name;
	enum mmr_scale scale;
	json_t *claim;	  /* borrowed from the file, may be NULL */
	json_t *resolved; /* what ran: file path, scale, overrides, cases */
	struct mmr_case *cases;
	size_t ncases;
};

int mmr_scale_parse(const char *s, enum mmr_scale *out);
const char *mmr_scale_name(enum mmr_scale s);

/* Build the case list from a config file, or from a workload's defaults when
 * `target` names a workload. On error, err holds the one line to print. */
int mmr_config_load(const char *target, const struct mmr_overrides *ov, enum mmr_scale scale,
		    bool scale_given, struct mmr_config *cfg, char *err, size_t errlen);
void mmr_config_free(struct mmr_config *cfg);
/* Parse "key=value" for --set. */
int mmr_overrides_add(struct mmr_overrides *ov, const char *kv, char *err, size_t errlen);
void mmr_overrides_free(struct mmr_overrides *ov);
/* Where configs/ and reports/ live: $MMREPRO_DATADIR, the install prefix or
 * the source tree, whichever has configs/. */
const char *mmr_datadir(void);

#endif
