// SPDX-License-Identifier: GPL-2.0
/* Threads of a case that run beside its main thread; see crew.h. */
#include "ctx.h"
#include "mmrepro/crew.h"
#include "mmrepro/pin.h"
#include "mmrepro/util.h"
#include "mmrepro/workload.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How often a waiting main thread looks for members that are gone. */
#define POLL_NS (100 * 1000 * 1000ULL)

struct member {
	struct mmr_crew *crew;
	unsigned index, slot;
	pthread_t thread;
	bool created, joined; /* joined: by finish, or found gone */
	pid_t tid;
	int cpu;
	unsigned seen;	    /* the release generation this member last ran */
	bool ready;	    /* started, pinned, parked */
	bool running, done; /* in the current release */
};

struct mmr_crew {
	struct mmr_ctx *ctx;
	mmr_crew_fn fn;
	void *arg;
	char name[9];
	uint64_t deadline_ns;
	int main_cpu;
	unsigned n;
	pthread_mutex_t lock;
	pthread_cond_t go;  /* members wait here for a release, a stop, the end */
	pthread_cond_t ack; /* the main thread waits here for members */
	unsigned gen;
	bool quit;
	atomic_bool stopping;
	char err[320];
	struct member m[];
};

static void *member_main(void *p)
{
	struct member *me = p;
	struct mmr_crew *c = me->crew;
	char name[16];
	int cpu = -1;

	snprintf(name, sizeof(name), "%s-%u", c->name, me->index);
	pthread_setname_np(pthread_self(), name);
	if (c->ctx && mmr_ctx_pinner(c->ctx))
		cpu = mmr_pin_self(c->ctx, me->slot); /* sends the placement */
	pthread_mutex_lock(&c->lock);
	me->tid = gettid();
	me->cpu = cpu;
	me->ready = true;
	pthread_cond_signal(&c->ack);
	for (;;) {
		while (!c->quit && me->seen == c->gen)
			pthread_cond_wait(&c->go, &c->lock);
		if (c->quit)
			break;
		me->seen = c->gen;
		pthread_mutex_unlock(&c->lock);
		c->fn(c, me->index, c->arg);
		pthread_mutex_lock(&c->lock);
		me->done = true;
		pthread_cond_signal(&c->ack);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static struct timespec mono_ts(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000ULL),
				  .tv_nsec = (long)(ns % 1000000000ULL) };
}

static void describe(const struct mmr_crew *c, const struct member *me, char *buf, size_t len)
{
	snprintf(buf, len, "crew thread %s-%u (tid %d, CPU %d)", c->name, me->index, (int)me->tid,
		 me->cpu);
}

/*
 * Wait, lock held, until every created member satisfies `want`. A member that
 * is gone without being asked, or the deadline, ends the wait with an error
 * naming the first member concerned.
 */
static int wait_members(struct mmr_crew *c, bool (*want)(const struct member *), const char *doing)
{
	uint64_t deadline = mmr_now_ns() + c->deadline_ns;

	for (;;) {
		struct member *late = NULL;
		uint64_t now;
		char who[96];

		for (unsigned i = 0; i < c->n; i++) {
			struct member *me = &c->m[i];

			if (!me->created || want(me))
				continue;
			/* the kernel clears the tid glibc joins on even when it kills
			 * a thread, so a member that is gone is joinable at once */
			if (me->joined || pthread_tryjoin_np(me->thread, NULL) == 0) {
				me->joined = true;
				describe(c, me, who, sizeof(who));
				snprintf(c->err, sizeof(c->err),
					 "%s is gone while %s: only the kernel ends a member "
					 "this way (see the dmesg findings for an Oops)",
					 who, doing);
				return -ESRCH;
			}
			late = late ? late : me;
		}
		if (!late)
			return 0;
		now = mmr_now_ns();
		if (now >= deadline) {
			describe(c, late, who, sizeof(who));
			snprintf(c->err, sizeof(c->err), "%s did not finish %s within %.0f s", who,
				 doing, (double)c->deadline_ns / 1e9);
			return -ETIMEDOUT;
		}
		{
			struct timespec ts =
				mono_ts(now + POLL_NS < deadline ? now + POLL_NS : deadline);

			pthread_cond_timedwait(&c->ack, &c->lock, &ts);
		}
	}
}

static bool is_ready(const struct member *me)
{
	return me->ready;
}

static bool is_running(const struct member *me)
{
	return me->running || me->done;
}

static bool is_done(const struct member *me)
{
	return me->done;
}

int mmr_crew_start(struct mmr_ctx *ctx, unsigned n, const char *name, mmr_crew_fn fn, void *arg,
		   double deadline_s, struct mmr_crew **out)
{
	struct mmr_pinner *pin = ctx ? mmr_ctx_pinner(ctx) : NULL;
	unsigned npus = pin ? mmr_pinner_npus(pin) : 1;
	struct mmr_crew *c = calloc(1, sizeof(*c) + n * sizeof(c->m[0]));
	pthread_condattr_t ca;
	int ret = 0;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->ctx = ctx;
	c->fn = fn;
	c->arg = arg;
	c->n = n;
	c->deadline_ns = (uint64_t)(deadline_s * 1e9);
	c->main_cpu = pin ? mmr_pinner_cpu(pin, 0) : sched_getcpu();
	snprintf(c->name, sizeof(c->name), "%s", name);
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->go, NULL);
	pthread_cond_init(&c->ack, &ca);
	pthread_condattr_destroy(&ca);
	*out = c;
	/* One at a time: each member's placement message goes out alone, and
	 * the main thread's CPU gets a member only when there is no other. */
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < n && !ret; i++) {
		struct member *me = &c->m[i];

		me->crew = c;
		me->index = i;
		me->cpu = -1;
		me->slot = npus > 1 ? 1 + i % (npus - 1) : 0;
		ret = -pthread_create(&me->thread, NULL, member_main, me);
		if (ret) {
			snprintf(c->err, sizeof(c->err), "pthread_create of crew thread %u: %s", i,
				 strerror(-ret));
			break;
		}
		me->created = true;
		ret = wait_members(c, is_ready, "starting");
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int mmr_crew_release(struct mmr_crew *c)
{
	int ret;

	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < c->n; i++)
		c->m[i].running = c->m[i].done = false;
	atomic_store(&c->stopping, false);
	c->gen++;
	pthread_cond_broadcast(&c->go);
	ret = wait_members(c, is_running, "starting to run");
	for (unsigned i = 0; !ret && i < c->n; i++) {
		if (c->m[i].done) {
			snprintf(c->err, sizeof(c->err),
				 "crew thread %s-%u returned before it was told to stop", c->name,
				 i);
			ret = -EPROTO;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int mmr_crew_park(struct mmr_crew *c)
{
	int ret;

	pthread_mutex_lock(&c->lock);
	atomic_store(&c->stopping, true);
	pthread_cond_broadcast(&c->go); /* members in mmr_crew_wait_stop() */
	ret = wait_members(c, is_done, "stopping");
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int mmr_crew_finish(struct mmr_crew *c, char *err, size_t errlen)
{
	uint64_t deadline;
	int ret = 0;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	c->quit = true;
	atomic_store(&c->stopping, true);
	pthread_cond_broadcast(&c->go);
	pthread_mutex_unlock(&c->lock);
	deadline = mmr_now_ns() + c->deadline_ns;
	for (unsigned i = 0; i < c->n; i++) {
		struct member *me = &c->m[i];
		struct timespec ts = mono_ts(deadline);
		int r;

		if (!me->created || me->joined)
			continue;
		r = pthread_clockjoin_np(me->thread, NULL, CLOCK_MONOTONIC, &ts);
		if (r == 0) {
			me->joined = true;
			continue;
		}
		if (!ret) {
			char who[96];

			describe(c, me, who, sizeof(who));
			snprintf(err, errlen, "%s could not be joined within %.0f s: %s", who,
				 (double)c->deadline_ns / 1e9, strerror(r));
		}
		ret = -r;
	}
	if (ret)
		return ret; /* a member still runs and may touch the crew: keep it */
	pthread_cond_destroy(&c->go);
	pthread_cond_destroy(&c->ack);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return 0;
}

void mmr_crew_running(struct mmr_crew *c, unsigned index)
{
	pthread_mutex_lock(&c->lock);
	c->m[index].running = true;
	if (c->m[index].cpu < 0)
		c->m[index].cpu = sched_getcpu();
	pthread_cond_signal(&c->ack);
	pthread_mutex_unlock(&c->lock);
}

bool mmr_crew_stopping(const struct mmr_crew *c)
{
	return atomic_load_explicit(&c->stopping, memory_order_relaxed);
}

void mmr_crew_wait_stop(struct mmr_crew *c)
{
	pthread_mutex_lock(&c->lock);
	while (!atomic_load(&c->stopping))
		pthread_cond_wait(&c->go, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

const char *mmr_crew_error(const struct mmr_crew *c)
{
	return c->err;
}

int mmr_crew_cpu(const struct mmr_crew *c, unsigned index)
{
	return index < c->n ? c->m[index].cpu : -1;
}

unsigned mmr_crew_other_cpus(const struct mmr_crew *c)
{
	unsigned count = 0;

	for (unsigned i = 0; i < c->n; i++) {
		bool seen = false;

		if (c->m[i].cpu < 0 || c->m[i].cpu == c->main_cpu)
			continue;
		for (unsigned j = 0; j < i && !seen; j++)
			seen = c->m[j].cpu == c->m[i].cpu;
		count += !seen;
	}
	return count;
}

unsigned mmr_crew_on_main_cpu(const struct mmr_crew *c)
{
	unsigned count = 0;

	for (unsigned i = 0; i < c->n; i++)
		count += c->m[i].cpu >= 0 && c->m[i].cpu == c->main_cpu;
	return count;
}
