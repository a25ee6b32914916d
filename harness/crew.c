// SPDX-License-Identifier: GPL-2.0
/* Threads of a case that work beside its main thread; see crew.h. */
#include "ctx.h"
#include "mmrepro/crew.h"
#include "mmrepro/pin.h"
#include "mmrepro/util.h"
#include "mmrepro/workload.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How often a waiting main thread looks for members that are gone. */
#define POLL_NS (100 * 1000 * 1000ULL)
/* How often mmr_crew_run_for() looks at the members' unit counters. */
#define WATCH_NS (20 * 1000 * 1000ULL)
/* "<name>-<index>" within the 15 characters of a thread name. */
#define GROUP_NAME_MAX 10

struct member {
	/* written by the member alone; on a cache line of its own, since the
	 * member stores to it after every unit */
	_Alignas(64) _Atomic uint64_t units;
	struct mmr_crew *crew;
	mmr_crew_unit unit;
	void *arg;
	unsigned i; /* in its group */
	unsigned slot;
	char name[16];
	pthread_t thread;
	bool created, joined; /* joined: by finish, or found gone */
	pid_t tid;
	int cpu;
	unsigned seen;	    /* the release generation this member last ran */
	bool ready;	    /* started, pinned, parked */
	bool running, done; /* in the current release */
	bool unanswered;    /* a wait for it timed out, and it has not answered since */
	uint64_t watched;   /* main thread: units at the last progress report */
};

struct mmr_crew {
	struct mmr_ctx *ctx;
	uint64_t deadline_ns;
	int main_cpu;
	unsigned n;
	pthread_mutex_t lock;
	pthread_cond_t go;  /* members wait here for a release, a stop, the end */
	pthread_cond_t ack; /* the main thread waits here for members */
	unsigned gen;
	bool quit;
	atomic_bool stopping, failed;
	uint64_t rounds;
	char err[512];
	struct member m[];
};

/* The first error wins; every member stops after the unit in hand. Lock held. */
static void set_error(struct mmr_crew *c, const char *fmt, va_list ap)
{
	if (!atomic_load(&c->failed)) {
		vsnprintf(c->err, sizeof(c->err), fmt, ap);
		atomic_store(&c->failed, true);
	}
}

static void __attribute__((format(printf, 2, 3)))
set_errorf(struct mmr_crew *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error(c, fmt, ap);
	va_end(ap);
}

void mmr_crew_fail(struct mmr_crew *c, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&c->lock);
	va_start(ap, fmt);
	set_error(c, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&c->lock);
}

bool mmr_crew_failed(const struct mmr_crew *c)
{
	return atomic_load_explicit(&c->failed, memory_order_relaxed);
}

bool mmr_crew_stopping(const struct mmr_crew *c)
{
	return atomic_load_explicit(&c->stopping, memory_order_relaxed) || mmr_crew_failed(c);
}

/* One release of a member: its unit, again and again, at least once. */
static void work(struct member *me)
{
	struct mmr_crew *c = me->crew;
	uint64_t units = atomic_load_explicit(&me->units, memory_order_relaxed);

	while (!mmr_crew_failed(c)) {
		int ret = me->unit(c, me->i, me->arg);

		if (ret) {
			mmr_crew_fail(c, "%s: %s", me->name, strerror(ret < 0 ? -ret : ret));
			break;
		}
		/* one writer: a store, not a locked add */
		atomic_store_explicit(&me->units, ++units, memory_order_relaxed);
		if (atomic_load_explicit(&c->stopping, memory_order_relaxed))
			break;
	}
}

static void *member_main(void *p)
{
	struct member *me = p;
	struct mmr_crew *c = me->crew;
	int cpu = -1;

	pthread_setname_np(pthread_self(), me->name);
	if (c->ctx && mmr_ctx_pinner(c->ctx))
		cpu = mmr_pin_self(c->ctx, me->slot); /* sends the placement */
	pthread_mutex_lock(&c->lock);
	me->tid = gettid();
	me->cpu = cpu;
	me->ready = true;
	me->unanswered = false;
	pthread_cond_signal(&c->ack);
	for (;;) {
		while (!c->quit && me->seen == c->gen)
			pthread_cond_wait(&c->go, &c->lock);
		if (c->quit)
			break;
		me->seen = c->gen;
		me->running = true;
		me->unanswered = false;
		if (me->cpu < 0) /* not pinned: where it runs now */
			me->cpu = sched_getcpu();
		pthread_cond_signal(&c->ack);
		pthread_mutex_unlock(&c->lock);
		work(me);
		pthread_mutex_lock(&c->lock);
		me->done = true;
		me->unanswered = false;
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

static void describe(const struct member *me, char *buf, size_t len)
{
	snprintf(buf, len, "crew thread %s (tid %d, CPU %d)", me->name, (int)me->tid, me->cpu);
}

/* Where a member that does not answer waits in the kernel, if it does:
 * " (in the kernel at pipe_read)", or "". */
static void kernel_wait(const struct member *me, char *buf, size_t len)
{
	char path[64], wchan[64];

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", (int)me->tid);
	if (me->tid > 0 && mmr_read_file(path, wchan, sizeof(wchan)) > 0 && strcmp(wchan, "0"))
		snprintf(buf, len, " (in the kernel at %s)", wchan);
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
		bool expired = mmr_now_ns() >= deadline;
		uint64_t now;
		char who[96], where[96];

		for (unsigned i = 0; i < c->n; i++) {
			struct member *me = &c->m[i];

			if (!me->created || want(me))
				continue;
			/* the kernel clears the tid glibc joins on even when it kills
			 * a thread, so a member that is gone is joinable at once */
			if (me->joined || pthread_tryjoin_np(me->thread, NULL) == 0) {
				me->joined = true;
				describe(me, who, sizeof(who));
				set_errorf(c,
					   "%s is gone while %s: only the kernel ends a member "
					   "this way (see the dmesg findings for an Oops)",
					   who, doing);
				return -ESRCH;
			}
			late = late ? late : me;
			me->unanswered |= expired;
		}
		if (!late)
			return 0;
		if (expired) {
			describe(late, who, sizeof(who));
			kernel_wait(late, where, sizeof(where));
			set_errorf(c, "%s did not finish %s within %g s%s", who, doing,
				   (double)c->deadline_ns / 1e9, where);
			return -ETIMEDOUT;
		}
		now = mmr_now_ns();
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
	return me->running; /* set on waking, before the first unit */
}

static bool is_done(const struct member *me)
{
	return me->done;
}

static unsigned slot_of(enum mmr_crew_placement where, unsigned k, unsigned npus)
{
	if (where == MMR_CREW_ALL_CPUS)
		return k + 1; /* the pinner wraps around after the last PU */
	return npus > 1 ? 1 + k % (npus - 1) : 0;
}

/* Fill in the members of every group; false if a group name is too long. */
static bool lay_out(struct mmr_crew *c, const struct mmr_crew_group *groups, unsigned ngroups,
		    enum mmr_crew_placement where, unsigned npus)
{
	unsigned k = 0;

	for (unsigned g = 0; g < ngroups; g++) {
		if (strlen(groups[g].name) > GROUP_NAME_MAX) {
			snprintf(c->err, sizeof(c->err),
				 "crew group name \"%s\" is longer than %d characters",
				 groups[g].name, GROUP_NAME_MAX);
			return false;
		}
		for (unsigned i = 0; i < groups[g].n; i++, k++) {
			struct member *me = &c->m[k];

			me->crew = c;
			me->unit = groups[g].unit;
			me->arg = groups[g].arg;
			me->i = i;
			me->cpu = -1;
			me->slot = slot_of(where, k, npus);
			snprintf(me->name, sizeof(me->name), "%s-%u", groups[g].name, i);
		}
	}
	return true;
}

int mmr_crew_start(struct mmr_ctx *ctx, const struct mmr_crew_group *groups, unsigned ngroups,
		   enum mmr_crew_placement where, double deadline_s, struct mmr_crew **out)
{
	struct mmr_pinner *pin = ctx ? mmr_ctx_pinner(ctx) : NULL;
	unsigned npus = pin ? mmr_pinner_npus(pin) : 1, n = 0;
	size_t size;
	struct mmr_crew *c;
	pthread_condattr_t ca;
	int ret = 0;

	*out = NULL;
	for (unsigned g = 0; g < ngroups; g++)
		n += groups[g].n;
	size = sizeof(*c) + n * sizeof(c->m[0]);
	c = aligned_alloc(_Alignof(struct mmr_crew), size);
	if (!c)
		return -ENOMEM;
	memset(c, 0, size);
	c->ctx = ctx;
	c->n = n;
	c->deadline_ns = (uint64_t)(deadline_s * 1e9);
	c->main_cpu = pin ? mmr_pinner_cpu(pin, 0) : sched_getcpu();
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->go, NULL);
	pthread_cond_init(&c->ack, &ca);
	pthread_condattr_destroy(&ca);
	*out = c;
	if (!lay_out(c, groups, ngroups, where, npus)) {
		c->n = 0; /* nothing started: finish frees it */
		return -EINVAL;
	}
	/* One at a time: each member's placement message goes out alone, and
	 * members take their slots in order. */
	pthread_mutex_lock(&c->lock);
	for (unsigned k = 0; k < n && !ret; k++) {
		struct member *me = &c->m[k];

		ret = -pthread_create(&me->thread, NULL, member_main, me);
		if (ret) {
			set_errorf(c, "pthread_create of crew thread %s: %s", me->name,
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
	if (mmr_crew_failed(c)) {
		pthread_mutex_unlock(&c->lock);
		return -ECANCELED;
	}
	for (unsigned i = 0; i < c->n; i++)
		c->m[i].running = c->m[i].done = false;
	atomic_store(&c->stopping, false);
	c->gen++;
	pthread_cond_broadcast(&c->go);
	ret = wait_members(c, is_running, "starting to run");
	pthread_mutex_unlock(&c->lock);
	/* a member that failed already ended its release */
	return ret ? ret : mmr_crew_failed(c) ? -ECANCELED : 0;
}

int mmr_crew_park(struct mmr_crew *c)
{
	int ret;

	pthread_mutex_lock(&c->lock);
	atomic_store(&c->stopping, true);
	pthread_cond_broadcast(&c->go); /* members in mmr_crew_wait_stop() */
	ret = wait_members(c, is_done, "stopping");
	pthread_mutex_unlock(&c->lock);
	return ret ? ret : mmr_crew_failed(c) ? -ECANCELED : 0;
}

/* Progress, if every member finished a unit since the last time. Main thread. */
static void look(struct mmr_crew *c)
{
	for (unsigned i = 0; i < c->n; i++)
		if (atomic_load_explicit(&c->m[i].units, memory_order_relaxed) == c->m[i].watched)
			return;
	for (unsigned i = 0; i < c->n; i++)
		c->m[i].watched = atomic_load_explicit(&c->m[i].units, memory_order_relaxed);
	c->rounds++;
	if (c->ctx)
		mmr_progress(c->ctx);
}

int mmr_crew_run_for(struct mmr_crew *c, double seconds)
{
	int ret = mmr_crew_release(c), parked;

	if (!ret) {
		uint64_t end = mmr_now_ns() + (uint64_t)(seconds * 1e9);

		for (unsigned i = 0; i < c->n; i++)
			c->m[i].watched =
				atomic_load_explicit(&c->m[i].units, memory_order_relaxed);
		for (uint64_t now = mmr_now_ns(); now < end && !mmr_crew_failed(c);
		     now = mmr_now_ns()) {
			struct timespec tick = mono_ts(end - now < WATCH_NS ? end - now : WATCH_NS);

			nanosleep(&tick, NULL);
			look(c);
		}
	}
	parked = mmr_crew_park(c);
	if (!ret && !parked)
		look(c); /* the units finished while parking count too */
	return ret ? ret : parked;
}

int mmr_crew_finish(struct mmr_crew *c)
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
		char who[96], where[96];
		struct timespec ts;
		bool unanswered;
		int r;

		if (!me->created || me->joined)
			continue;
		pthread_mutex_lock(&c->lock);
		unanswered = me->unanswered;
		pthread_mutex_unlock(&c->lock);
		/* one that already let a wait time out is not waited for twice */
		ts = mono_ts(unanswered ? mmr_now_ns() : deadline);
		r = pthread_clockjoin_np(me->thread, NULL, CLOCK_MONOTONIC, &ts);
		if (r == 0) {
			me->joined = true;
			continue;
		}
		describe(me, who, sizeof(who));
		kernel_wait(me, where, sizeof(where));
		pthread_mutex_lock(&c->lock);
		if (unanswered)
			set_errorf(c,
				   "%s could not be joined: it has not answered since a wait "
				   "for it timed out%s",
				   who, where);
		else
			set_errorf(c, "%s could not be joined within %g s: %s%s", who,
				   (double)c->deadline_ns / 1e9, strerror(r), where);
		pthread_mutex_unlock(&c->lock);
		ret = ret ? ret : -r;
	}
	if (ret)
		return ret; /* a member still runs and may touch the crew: keep it */
	pthread_cond_destroy(&c->go);
	pthread_cond_destroy(&c->ack);
	pthread_mutex_destroy(&c->lock);
	free(c);
	return 0;
}

void mmr_crew_wait_stop(struct mmr_crew *c)
{
	pthread_mutex_lock(&c->lock);
	while (!mmr_crew_stopping(c))
		pthread_cond_wait(&c->go, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

const char *mmr_crew_error(const struct mmr_crew *c)
{
	return c->err;
}

uint64_t mmr_crew_units(const struct mmr_crew *c, unsigned member)
{
	return member < c->n ? atomic_load_explicit(&c->m[member].units, memory_order_relaxed) : 0;
}

uint64_t mmr_crew_rounds(const struct mmr_crew *c)
{
	return c->rounds;
}

int mmr_crew_cpu(const struct mmr_crew *c, unsigned member)
{
	return member < c->n ? c->m[member].cpu : -1;
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
