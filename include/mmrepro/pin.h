/* SPDX-License-Identifier: GPL-2.0 */
/* CPU placement through hwloc: which PU each slot of a case runs on. */
#ifndef MMREPRO_PIN_H
#define MMREPRO_PIN_H

#include <jansson.h>

struct mmr_pinner;

/* main_cpu < 0 chooses one: the last PU this process may run on. */
struct mmr_pinner *mmr_pinner_new(int main_cpu);
void mmr_pinner_free(struct mmr_pinner *p);
unsigned mmr_pinner_npus(const struct mmr_pinner *p);
/* The OS index of the PU for a slot: slot 0 is the main CPU, the next slots
 * go to the other PUs first, and wrap around when there are more slots. */
int mmr_pinner_cpu(const struct mmr_pinner *p, unsigned slot);
/* Bind the calling thread to that PU. Returns the OS index or -errno. */
int mmr_pinner_bind(struct mmr_pinner *p, unsigned slot);
/* Summary of the topology for the fingerprint. */
json_t *mmr_topology_json(void);
/* PUs this process is allowed to run on. */
unsigned mmr_allowed_cpus(void);

#endif
