/* SPDX-License-Identifier: GPL-2.0 */
/* munmap_threads: the run-level cost model lives in munmap_threads_model.c. */
#ifndef MMREPRO_MUNMAP_THREADS_H
#define MMREPRO_MUNMAP_THREADS_H

#include <jansson.h>

/* The workload's analyze() hook: see munmap_threads_model.c. */
json_t *munmap_threads_analyze(json_t *cases);

#endif
