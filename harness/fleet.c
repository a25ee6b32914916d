// SPDX-License-Identifier: GPL-2.0
/* Worker threads run in timed windows, watched for stalls (see fleet.h). */
#include "mmrepro/fleet.h"
#include "mmrepro/util.h"
#include "mmrepro/workload.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WATCH_NS (20 * 1000 * 1000L) /* how often the watching thread looks */

struct member {
	_Atomic unsigned long units; /* finished: this member's progress */
	struct mmr_fleet *f;
	mmr_fleet_work work;
	void *arg;
	unsigned slot;
	char name[16];
	pthread_t tid;
} __attribute__((aligned(64))); /* one member's counter per cache line */

struct mmr_fleet {
	struct mmr_ctx *ctx;
	struct member **m;
	unsigned n, cap;
	pthread_mutex_t lock;
	pthread_cond_t wake, parked_cv;
	unsigned round, parked;
	bool quit;
	atomic_bool open, failed;
	char err[512];
};

struct mmr_fleet *mmr_fleet_new(struct mmr_ctx *ctx)
{
	struct mmr_fleet *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->ctx = ctx;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->wake, NULL);
	pthread_cond_init(&f->parked_cv, NULL);
	return f;
}

void mmr_fleet_fail(struct mmr_fleet *f, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&f->lock);
	if (!atomic_load(&f->failed)) {
		va_start(ap, fmt);
		vsnprintf(f->err, sizeof(f->err), fmt, ap);
		va_end(ap);
		atomic_store(&f->failed, true);
	}
	pthread_mutex_unlock(&f->lock);
}

bool mmr_fleet_failed(struct mmr_fleet *f)
{
	return atomic_load_explicit(&f->failed, memory_order_relaxed);
}

const char *mmr_fleet_error(struct mmr_fleet *f)
{
	return f->err;
}

/* Park until the next window; false when it is time to quit. */
static bool park(struct mmr_fleet *f, unsigned *round)
{
	bool quit;

	pthread_mutex_lock(&f->lock);
	f->parked++;
	pthread_cond_broadcast(&f->parked_cv);
	while (f->round == *round && !f->quit)
		pthread_cond_wait(&f->wake, &f->lock);
	*round = f->round;
	quit = f->quit;
	pthread_mutex_unlock(&f->lock);
	return !quit;
}

static void *member_main(void *arg)
{
	struct member *m = arg;
	struct mmr_fleet *f = m->f;
	unsigned round = 0;
	int ret;

	mmr_pin_self(f->ctx, m->slot);
	pthread_setname_np(pthread_self(), m->name);
	while (park(f, &round)) {
		while (atomic_load_explicit(&f->open, memory_order_relaxed) &&
		       !mmr_fleet_failed(f)) {
			ret = m->work(m->arg);
			if (ret) {
				mmr_fleet_fail(f, "%s: %s", m->name,
					       strerror(ret < 0 ? -ret : ret));
				break;
			}
			atomic_fetch_add_explicit(&m->units, 1, memory_order_relaxed);
		}
	}
	return NULL;
}

static void wait_parked(struct mmr_fleet *f, unsigned n)
{
	pthread_mutex_lock(&f->lock);
	while (f->parked < n)
		pthread_cond_wait(&f->parked_cv, &f->lock);
	pthread_mutex_unlock(&f->lock);
}

int mmr_fleet_add(struct mmr_fleet *f, const char *name, mmr_fleet_work work, void *arg)
{
	struct member *m;
	int ret;

	if (f->n == f->cap) {
		unsigned cap = f->cap ? f->cap * 2 : 16;
		struct member **nm = realloc(f->m, cap * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		f->m = nm;
		f->cap = cap;
	}
	m = aligned_alloc(64, sizeof(*m));
	if (!m)
		return -ENOMEM;
	memset(m, 0, sizeof(*m));
	m->f = f;
	m->work = work;
	m->arg = arg;
	m->slot = f->n + 1;
	snprintf(m->name, sizeof(m->name), "%s", name);
	ret = pthread_create(&m->tid, NULL, member_main, m);
	if (ret) {
		free(m);
		return -ret;
	}
	f->m[f->n++] = m;
	/* one at a time: each pins itself and parks before the next starts */
	wait_parked(f, f->n);
	return 0;
}

/* Until `end`: report progress whenever every member has moved on. */
static void watch(struct mmr_fleet *f, uint64_t end)
{
	unsigned long *seen = calloc(f->n ? f->n : 1, sizeof(*seen));
	struct timespec tick = { 0, WATCH_NS };

	for (unsigned i = 0; seen && i < f->n; i++)
		seen[i] = atomic_load_explicit(&f->m[i]->units, memory_order_relaxed);
	while (mmr_now_ns() < end && !mmr_fleet_failed(f)) {
		bool all = true;

		nanosleep(&tick, NULL);
		for (unsigned i = 0; seen && i < f->n && all; i++)
			all = atomic_load_explicit(&f->m[i]->units, memory_order_relaxed) !=
			      seen[i];
		if (!all || !seen)
			continue;
		for (unsigned i = 0; i < f->n; i++)
			seen[i] = atomic_load_explicit(&f->m[i]->units, memory_order_relaxed);
		mmr_progress(f->ctx);
	}
	free(seen);
}

int mmr_fleet_run(struct mmr_fleet *f, double seconds)
{
	pthread_mutex_lock(&f->lock);
	f->parked = 0;
	f->round++;
	atomic_store(&f->open, true);
	pthread_cond_broadcast(&f->wake);
	pthread_mutex_unlock(&f->lock);
	watch(f, mmr_now_ns() + (uint64_t)(seconds * 1e9));
	atomic_store(&f->open, false);
	wait_parked(f, f->n);
	return mmr_fleet_failed(f) ? -ECANCELED : 0;
}

void mmr_fleet_free(struct mmr_fleet *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->quit = true;
	pthread_cond_broadcast(&f->wake);
	pthread_mutex_unlock(&f->lock);
	for (unsigned i = 0; i < f->n; i++) {
		pthread_join(f->m[i]->tid, NULL);
		free(f->m[i]);
	}
	free(f->m);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->wake);
	pthread_cond_destroy(&f->parked_cv);
	free(f);
}
