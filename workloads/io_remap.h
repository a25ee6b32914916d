/* SPDX-License-Identifier: GPL-2.0 */
/*
 * io_remap's state, shared by its two files: io_remap.c (the scenario:
 * parameters, planning, repetitions, metrics) and io_remap_io.c (the file,
 * the buffers and the units of work the threads repeat).
 */
#ifndef MMREPRO_WORKLOADS_IO_REMAP_H
#define MMREPRO_WORKLOADS_IO_REMAP_H

#include "mmrepro/fleet.h"
#include "mmrepro/hist.h"
#include "mmrepro/pattern.h"
#include "mmrepro/workload.h"

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>

struct io_remap_params {
	const char *io, *buffers, *fs, *dir, *churn;
	uint64_t file_size, io_size, fault_size;
	int64_t io_threads, churn_threads, fault_threads;
	double duration;
	int64_t inject_flip_at;
	bool inject_stall;
};

enum dir { WR, RD };

/* A mapping the churn threads change: `len` bytes at `addr`, mapping `fd`
 * from `fd_off`. */
struct buf {
	char *addr;
	size_t len;
	int fd;
	off_t fd_off;
	pthread_mutex_t churn_lock; /* held while its mapping changes */
};

struct io_thread {
	/* its own while the window is open; the main thread's while parked */
	struct mmr_hist lat[2]; /* per call that moved data, WR and RD */
	uint64_t bytes, verified, efault[2], shorts[2];
	_Atomic uint64_t cur; /* offset in the buffers of the block in flight */
	unsigned idx;
	uint64_t base, next, gen; /* its file range; next block in it; generation */
	struct buf src, dst;
	char *fill;  /* where the next generation is written: never churned */
	char *check; /* where what read() delivered is checked: never churned */
	size_t fill_len;
	int src_memfd, dst_memfd;
	struct io_uring ring;
	bool ring_ready, flipped;
	struct io_remap_state *s;
} __attribute__((aligned(64)));

struct side_thread { /* a churn or a fault thread */
	uint64_t ops, pages, rng;
	unsigned idx;
	char *region; /* a fault thread's own memory */
	struct io_remap_state *s;
} __attribute__((aligned(64)));

struct io_remap_state {
	const struct io_remap_params *p;
	bool uring, fixed, self;
	int fd;
	uint64_t span; /* bytes of the file each io thread owns */
	struct mmr_pattern pat;
	struct io_thread *io;
	struct side_thread *churn, *fault;
	struct mmr_fleet *fleet;
	int stall_pipe[2];
	bool lockstat_on;
	json_t *lock_top; /* summed over timed repetitions */
	struct mmr_hist lat_all[2];
};

extern const char *const io_remap_churn_modes[];

/* io_remap_io.c */
int io_remap_open_file(struct mmr_ctx *ctx, struct io_remap_state *s, const char *dir);
int io_remap_fill_file(struct mmr_ctx *ctx, struct io_remap_state *s);
int io_remap_setup_buffers(struct mmr_ctx *ctx, struct io_remap_state *s, struct io_thread *t);
int io_remap_setup_ring(struct mmr_ctx *ctx, struct io_remap_state *s, struct io_thread *t);
void io_remap_free_buffers(struct io_remap_state *s, struct io_thread *t);
/* units of work for the fleet */
int io_remap_io_unit(void *io_thread);
int io_remap_churn_unit(void *side_thread);
int io_remap_fault_unit(void *side_thread);

#endif
