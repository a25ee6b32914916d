/* SPDX-License-Identifier: GPL-2.0 */
/* Harness-internal access to a running case's context (case child only). */
#ifndef MMREPRO_HARNESS_CTX_H
#define MMREPRO_HARNESS_CTX_H

#include <jansson.h>
#include <sched.h>

#include "mmrepro/config.h"
#include "mmrepro/workload.h"

/* Send one message (consumes the reference) to mmrepro. */
void mmr_ctx_send(struct mmr_ctx *ctx, json_t *msg);
const struct mmr_case *mmr_ctx_case(const struct mmr_ctx *ctx);
/* The case's CPU placement (NULL when hwloc could not load the topology). */
struct mmr_pinner *mmr_ctx_pinner(const struct mmr_ctx *ctx);
/* Every CPU the case may use (its pinner's PUs), for helpers that spread
 * work over them. Returns 0, or -ENODEV when the case has no pinner. */
int mmr_ctx_cpuset(const struct mmr_ctx *ctx, cpu_set_t *set);

#endif
