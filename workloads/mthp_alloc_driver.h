/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real allocators for mthp_alloc: where the mmrepro-alloc-churn program and
 * the allocator libraries are, and the conversation with one running driver
 * over a socket (a command line in, one JSON object per line back).
 */
#ifndef MMREPRO_MTHP_ALLOC_DRIVER_H
#define MMREPRO_MTHP_ALLOC_DRIVER_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#include "mmrepro/workload.h"

#define DRIVER_NAME "mmrepro-alloc-churn"

/* The allocator choices: "arena" (synthetic, in the case) and the real ones. */
extern const char *const mthp_allocators[];

/*
 * The library to LD_PRELOAD for a real allocator (empty for glibc), found
 * with `ldconfig -p` and checked to be built for this machine. Returns 0, or
 * -ENOENT with why naming the Debian package that provides it.
 */
int mthp_find_library(const char *allocator, char *path, size_t len, char *why, size_t wlen);
/* The driver program: $MMREPRO_LIBEXECDIR, next to mmrepro (build tree),
 * ../libexec/mmrepro from it, or the install prefix. */
int mthp_find_driver(char *path, size_t len, char *why, size_t wlen);
/* For `mmrepro vm`: the driver and the allocators this host has, each with
 * the path a guest's mmrepro looks for it at (mmr_workload.guest_files). */
int mthp_guest_files(mmr_guest_add_fn add, void *arg);

struct driver {
	pid_t pid;
	int sock;
	char *buf; /* what has been read and not consumed; a reply carries a timeline */
	size_t len, cap;
};

/* fork + exec the driver in the calling process's cgroup, with `preload` (or
 * nothing) as LD_PRELOAD, and wait for its "ready" message. */
int driver_start(struct driver *d, const char *prog, const char *preload, char *const argv[],
		 json_t **ready, char *err, size_t errlen);
/* Send one command ("fill", "churn", "sample") and wait for its answer. */
int driver_call(struct driver *d, const char *cmd, json_t **reply, char *err, size_t errlen);
/* Ask it to exit and reap it (SIGKILL after a grace period). Returns its
 * wait status, or -1 when there was none. */
int driver_stop(struct driver *d);

#endif
