/* SPDX-License-Identifier: GPL-2.0 */
/* The sorted list of workloads (workloads/workloads.def). */
#ifndef MMREPRO_REGISTRY_H
#define MMREPRO_REGISTRY_H

#include "mmrepro/workload.h"

size_t mmr_workload_count(void);
const struct mmr_workload *mmr_workload_at(size_t i);
const struct mmr_workload *mmr_workload_find(const char *name);
/* Check every registered workload once (ABI, callbacks, tables); prints what is
 * wrong and returns -EINVAL for a workload that would misbehave. */
int mmr_registry_check(void);
/* Harness-owned case keys that a workload parameter may not shadow. */
extern const char *const mmr_case_keys[];

#endif
