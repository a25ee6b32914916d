// SPDX-License-Identifier: GPL-2.0
/*
 * mmrepro run: plan, guard, change knobs under a journal, run every case in a
 * child process with a deadline, restore, report.
 */
#include "mmrepro/dmesg.h"
#include "mmrepro/env.h"
#include "mmrepro/memguard.h"
#include "mmrepro/report.h"
#include "mmrepro/resources.h"
#include "mmrepro/runner.h"
#include "mmrepro/settings.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TICK_MS 20
#define MAX_LOG 200
/* After SIGKILL, how long the case's processes get to die. A task stuck in
 * the kernel (uninterruptible sleep, e.g. a deadlocked folio lock) never
 * does; mmrepro reports that and moves on instead of hanging with it. */
#define KILL_GRACE_NS (10 * 1000000000ULL)

static volatile sig_atomic_t interrupted;

static void on_stop_signal(int sig)
{
	if (interrupted) {
		/* a second signal: no more patience, but still leave the system clean */
		mmr_txn_emergency_restore();
		_exit(128 + sig);
	}
	interrupted = sig;
}

static void on_fatal_signal(int sig)
{
	mmr_txn_emergency_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void install_signals(void)
{
	static const int stop[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	/* Under ASan its own handler reports the crash; the journal then restores
	 * on the next start. */
	static const int fatal[] = {
#ifndef __SANITIZE_ADDRESS__
		SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
#endif
		0
	};
	struct sigaction sa = { 0 };

	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;
	for (size_t i = 0; i < MMR_ARRAY_SIZE(stop); i++)
		sigaction(stop[i], &sa, NULL);
	sa.sa_handler = on_fatal_signal;
	for (size_t i = 0; fatal[i]; i++)
		sigaction(fatal[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void reset_signals_in_child(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV,
				    SIGBUS, SIGFPE,  SIGILL, SIGABRT, SIGPIPE };

	for (size_t i = 0; i < MMR_ARRAY_SIZE(sigs); i++)
		signal(sigs[i], SIG_DFL);
}

/* ---- one case ---- */

struct case_run {
	const struct mmr_case *c;
	json_t *cj;
	char *line;
	size_t len, cap;
	bool done, reported, timed_out, stalled, stopped;
	bool unkillable; /* tasks outlived KILL_GRACE_NS after SIGKILL */
	char phase[32];
	int rep;
	unsigned layouts;
};

static void handle_msg(struct case_run *r, json_t *m)
{
	const char *t = json_string_value(json_object_get(m, "t"));
	json_t *cj = r->cj;

	if (!t)
		return;
	if (!strcmp(t, "phase")) {
		snprintf(r->phase, sizeof(r->phase), "%s",
			 json_string_value(json_object_get(m, "phase")));
		r->rep = (int)json_integer_value(json_object_get(m, "rep"));
	} else if (!strcmp(t, "sample")) {
		mmr_report_add_sample(cj, r->c->w, json_string_value(json_object_get(m, "m")),
				      json_number_value(json_object_get(m, "v")));
	} else if (!strcmp(t, "op")) {
		mmr_report_add_op(cj, json_string_value(json_object_get(m, "op")),
				  json_object_get(m, "d"));
	} else if (!strcmp(t, "layout")) {
		json_t *l = json_object_get(cj, "layout");
		json_int_t bad = json_integer_value(json_object_get(m, "mismatch_pages"));

		if (!json_is_object(l)) {
			l = json_deep_copy(m);
			json_object_del(l, "t");
			json_object_del(l, "rep");
			json_object_set_new(l, "max_mismatch_pages", json_integer(0));
			json_object_set_new(cj, "layout", l);
		}
		if (bad > json_integer_value(json_object_get(l, "max_mismatch_pages")))
			json_object_set_new(l, "max_mismatch_pages", json_integer(bad));
		json_object_set_new(l, "checks", json_integer(++r->layouts));
		if (bad) /* the report shows the worst observation, not only the first */
			json_object_set(l, "worst_observed", json_object_get(m, "observed"));
	} else if (!strcmp(t, "extra")) {
		json_object_set(json_object_get(cj, "extra"),
				json_string_value(json_object_get(m, "k")),
				json_object_get(m, "v"));
	} else if (!strcmp(t, "log")) {
		json_t *log = json_object_get(cj, "log");

		if (json_array_size(log) < MAX_LOG)
			json_array_append(log, json_object_get(m, "msg"));
		if (mmr_verbose)
			mmr_info("  %s", json_string_value(json_object_get(m, "msg")));
	} else if (!strcmp(t, "placement")) {
		json_t *p = json_deep_copy(m);

		json_object_del(p, "t");
		json_array_append_new(json_object_get(cj, "placement"), p);
	} else if (!strcmp(t, "status")) {
		json_object_set(cj, "status", json_object_get(m, "status"));
		json_object_set(cj, "reason", json_object_get(m, "reason"));
		json_object_set(cj, "phase", json_object_get(m, "phase"));
		r->reported = true;
	} else if (!strcmp(t, "done")) {
		r->done = true;
	}
}

/* Read what the pipe holds; hand over complete lines. Returns false at EOF. */
static bool drain(struct case_run *r, int fd)
{
	char buf[65536];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return false;
		for (ssize_t i = 0; i < n; i++) {
			if (r->len + 1 >= r->cap) {
				size_t cap = r->cap ? r->cap * 2 : 65536;
				char *nl = realloc(r->line, cap);

				if (!nl)
					return false;
				r->line = nl;
				r->cap = cap;
			}
			if (buf[i] != '\n') {
				r->line[r->len++] = buf[i];
				continue;
			}
			r->line[r->len] = '\0';
			json_t *m = json_loads(r->line, 0, NULL);

			if (m)
				handle_msg(r, m);
			json_decref(m);
			r->len = 0;
		}
	}
}

static pid_t spawn_case(const struct mmr_case *c, int *rd, uint64_t *progress)
{
	int fds[2];
	pid_t parent = getpid(), pid;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		close(fds[0]);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		reset_signals_in_child();
		mmr_settings_forget_in_child();
		/* a crash of a multi-GiB workload must not write a multi-GiB core */
		setrlimit(RLIMIT_CORE, &no_core);
		_exit(mmr_child_main(c, fds[1], progress));
	}
	setpgid(pid, pid); /* also here: whichever runs first wins the race */
	close(fds[1]);
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	*rd = fds[0];
	return pid;
}

static const char *signame(int sig)
{
	const char *s = sigabbrev_np(sig);

	return s ? s : "?";
}

static void finish_status(struct case_run *r, int wstatus)
{
	json_t *cj = r->cj;
	char why[768], stuck[160] = "";

	if (r->unkillable)
		snprintf(stuck, sizeof(stuck),
			 "; its tasks did not die within %llu s of SIGKILL (stuck in the kernel) "
			 "and were left behind",
			 KILL_GRACE_NS / 1000000000ULL);

	if (r->stopped) {
		snprintf(why, sizeof(why), "stopped by a signal to mmrepro%s", stuck);
		json_object_set_new(cj, "status", json_string("interrupted"));
		json_object_set_new(cj, "reason", json_string(why));
		return;
	}
	if (r->timed_out || r->stalled) {
		if (r->stalled)
			snprintf(why, sizeof(why),
				 "stalled: no progress for %g s, in %s (rep %d); kernel stacks are "
				 "in \"hang\"%s",
				 r->c->stall_timeout_s, r->phase, r->rep, stuck);
		else
			snprintf(
				why, sizeof(why),
				"timeout: no result after %.0f s, in %s (rep %d); kernel stacks are "
				"in \"hang\"%s",
				r->c->timeout_s, r->phase, r->rep, stuck);
		json_object_set_new(cj, "status", json_string("failed"));
		json_object_set_new(cj, "reason", json_string(why));
		json_object_set_new(cj, "phase", json_string(r->phase));
		return;
	}
	if (WIFSIGNALED(wstatus)) {
		snprintf(why, sizeof(why), "case child killed by SIG%s (signal %d) in %s (rep %d)",
			 signame(WTERMSIG(wstatus)), WTERMSIG(wstatus), r->phase, r->rep);
		json_object_set_new(cj, "status", json_string("failed"));
		json_object_set_new(cj, "reason", json_string(why));
		json_object_set_new(cj, "phase", json_string(r->phase));
		return;
	}
	if (r->unkillable) {
		snprintf(why, sizeof(why), "the case finished, but%s", stuck + 1);
		json_object_set_new(cj, "status", json_string("failed"));
		json_object_set_new(cj, "reason", json_string(why));
		return;
	}
	if (r->reported)
		return;
	if (!r->done || WEXITSTATUS(wstatus)) {
		snprintf(why, sizeof(why),
			 "case child exited with status %d before finishing, in %s",
			 WEXITSTATUS(wstatus), r->phase);
		json_object_set_new(cj, "status", json_string("failed"));
		json_object_set_new(cj, "reason", json_string(why));
		return;
	}
	json_object_set_new(cj, "status", json_string("ok"));
}

/* Reap the case's processes until none is left; false if some are still
 * there at `until` (stuck in the kernel after SIGKILL). */
static bool reap_group(pid_t pid, int *wstatus, uint64_t until)
{
	for (;;) {
		int st;
		pid_t got = waitpid(-pid, &st, WNOHANG);

		if (got == pid)
			*wstatus = st;
		if (got > 0)
			continue;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) /* ECHILD: all reaped */
			return true;
		if (mmr_now_ns() >= until)
			return false;
		usleep(TICK_MS * 1000);
	}
}

/* Kill the case now, recording the kernel stacks of its tasks first. */
static void kill_hung(struct case_run *r, pid_t pid, uint64_t *killed_at)
{
	json_object_set_new(r->cj, "hang", mmr_capture_stacks(pid));
	kill(-pid, SIGKILL);
	*killed_at = mmr_now_ns();
}

static void run_child(const struct mmr_case *c, json_t *cj, struct mmr_txn *txn)
{
	struct case_run r = { .c = c, .cj = cj, .rep = 0 };
	uint64_t now = mmr_now_ns(), deadline = now + (uint64_t)(c->timeout_s * 1e9);
	uint64_t stall_ns = (uint64_t)(c->stall_timeout_s * 1e9), last_progress = now;
	uint64_t seen = 0, killed_at = 0;
	int rd = -1, wstatus = 0;
	bool open = true;
	/* the child bumps this with every message and mmr_progress() */
	uint64_t *progress = mmap(NULL, sizeof(*progress), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;

	if (progress == MAP_FAILED) {
		json_object_set_new(cj, "status", json_string("failed"));
		json_object_set_new(cj, "reason", json_string(strerror(errno)));
		return;
	}
	snprintf(r.phase, sizeof(r.phase), "start");
	pid = spawn_case(c, &rd, progress);
	if (pid < 0) {
		json_object_set_new(cj, "status", json_string("failed"));
		json_object_set_new(cj, "reason", json_string(strerror(errno)));
		munmap(progress, sizeof(*progress));
		return;
	}
	if (txn)
		mmr_txn_set_pgid(txn, pid);
	for (;;) {
		struct pollfd pfd = { .fd = rd, .events = POLLIN };
		siginfo_t si = { 0 };

		if (open && poll(&pfd, 1, TICK_MS) > 0)
			open = drain(&r, rd);
		else if (!open)
			usleep(TICK_MS * 1000);
		/* WNOWAIT: the leader stays a zombie, so its process group id
		 * cannot be reused before the stragglers are killed below. */
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si.si_pid == pid)
			break;
		now = mmr_now_ns();
		if (__atomic_load_n(progress, __ATOMIC_RELAXED) != seen) {
			seen = __atomic_load_n(progress, __ATOMIC_RELAXED);
			last_progress = now;
		}
		if (killed_at) {
			if (now - killed_at < KILL_GRACE_NS)
				continue;
			r.unkillable = true;
			break;
		}
		if (interrupted) {
			r.stopped = true;
			kill(-pid, SIGKILL);
			killed_at = now;
		} else if (now > deadline) {
			r.timed_out = true;
			kill_hung(&r, pid, &killed_at);
		} else if (stall_ns && now - last_progress > stall_ns) {
			r.stalled = true;
			kill_hung(&r, pid, &killed_at);
		}
	}
	kill(-pid, SIGKILL); /* nothing of the case outlives it */
	/* orphans come to us too: we are a subreaper */
	if (!reap_group(pid, &wstatus, r.unkillable ? 0 : mmr_now_ns() + KILL_GRACE_NS))
		r.unkillable = true;
	/* nor do the SysV segments and files it recorded and did not remove */
	mmr_resources_reclaim(json_object_get(cj, "log"));
	if (open)
		drain(&r, rd);
	close(rd);
	munmap(progress, sizeof(*progress));
	if (txn)
		mmr_txn_set_pgid(txn, 0);
	finish_status(&r, wstatus);
	free(r.line);
}

/* ---- the run ---- */

static uint64_t hugetlb_growth(json_t *settings)
{
	const char *name;
	json_t *v;
	uint64_t total = 0;

	json_object_foreach (settings, name, v) {
		struct mmr_knob k;
		char err[256], now[64];
		uint64_t want;

		if (mmr_knob_resolve(name, &k, err, sizeof(err)) || !k.hugetlb_kb ||
		    mmr_knob_read(&k, now, sizeof(now)))
			continue;
		want = strtoull(json_string_value(v), NULL, 10);
		if (want > strtoull(now, NULL, 10))
			total += (want - strtoull(now, NULL, 10)) * k.hugetlb_kb * 1024;
	}
	return total;
}

/* "needs about X, but only Y fits (MemAvailable Z minus a margin of W)" */
static void shortfall_text(const struct mmr_memguard *g, uint64_t fp, char *buf, size_t len)
{
	char need[32], budget[32], avail[32], margin[32];

	mmr_format_value((double)fp, "bytes", need, sizeof(need));
	mmr_format_value((double)g->budget, "bytes", budget, sizeof(budget));
	mmr_format_value((double)g->mem_available, "bytes", avail, sizeof(avail));
	mmr_format_value((double)g->margin, "bytes", margin, sizeof(margin));
	snprintf(buf, len,
		 "needs about %s, but only %s fits (MemAvailable %s minus a margin of %s)", need,
		 budget, avail, margin);
}

/*
 * Right before a case: MemAvailable again, since what ran before it (a case
 * stuck in the kernel that could not be killed, anything else on the
 * machine) may have taken memory since the run was planned.
 */
static bool fits_now(const struct mmr_plan *p, char *why, size_t len)
{
	struct mmr_memguard g;
	uint64_t fp = p->footprint + hugetlb_growth(p->settings);
	char text[256];

	if (mmr_memguard_read(&g) || mmr_memguard_fits(&g, fp))
		return true;
	shortfall_text(&g, fp, text, sizeof(text));
	snprintf(why, len, "memory guard: the case %s now; not run", text);
	return false;
}

int mmr_plan_all(struct mmr_config *cfg, struct mmr_plan *plans, json_t **guard_json)
{
	struct mmr_memguard g;
	char text[256];

	if (mmr_memguard_read(&g)) {
		mmr_err("cannot read /proc/meminfo for the memory guard");
		return -EIO;
	}
	for (size_t i = 0; i < cfg->ncases; i++)
		if (mmr_plan_case(&cfg->cases[i], &plans[i]))
			return -ENOMEM;
	*guard_json = json_pack("{s:I,s:I,s:I,s:I}", "mem_total_bytes", (json_int_t)g.mem_total,
				"mem_available_bytes", (json_int_t)g.mem_available, "margin_bytes",
				(json_int_t)g.margin, "budget_bytes", (json_int_t)g.budget);
	for (size_t i = 0; i < cfg->ncases; i++) {
		uint64_t fp;

		if (plans[i].skip || plans[i].invalid)
			continue;
		fp = plans[i].footprint + hugetlb_growth(plans[i].settings);
		/* --scale ci|full fits scaled sizes to this machine: halve until they fit */
		while (!mmr_memguard_fits(&g, fp) && mmr_case_shrink(&cfg->cases[i]) == 0) {
			mmr_plan_free(&plans[i]);
			if (mmr_plan_case(&cfg->cases[i], &plans[i]))
				return -ENOMEM;
			fp = plans[i].footprint + hugetlb_growth(plans[i].settings);
			if (mmr_memguard_fits(&g, fp))
				mmr_info("%s: scaled down to fit this machine's memory",
					 cfg->cases[i].id);
		}
		if (mmr_memguard_fits(&g, fp))
			continue;
		shortfall_text(&g, fp, text, sizeof(text));
		mmr_err("%s: case \"%s\" %s; nothing was changed. Use smaller sizes or --scale ci.",
			cfg->cases[i].origin, cfg->cases[i].id, text);
		return -ENOMEM;
	}
	return 0;
}

/* Run-level results of workloads that derive them from all their cases. */
static void analyze(const struct mmr_config *cfg, json_t *report)
{
	json_t *all = json_object();

	for (size_t i = 0; i < cfg->ncases; i++) {
		const struct mmr_workload *w = cfg->cases[i].w;
		json_t *mine, *cases, *c, *res;
		size_t k;

		if (!w->analyze || json_object_get(all, w->name))
			continue;
		mine = json_array();
		cases = json_object_get(report, "cases");
		json_array_foreach (cases, k, c)
			if (!strcmp(json_string_value(json_object_get(c, "workload")), w->name))
				json_array_append(mine, c);
		res = w->analyze(mine);
		json_decref(mine);
		if (res)
			json_object_set_new(all, w->name, res);
	}
	json_object_set_new(report, "analysis", all);
}

static char *default_output(const struct mmr_config *cfg)
{
	struct utsname u;
	char stamp[32], name[128];
	time_t t = time(NULL);
	struct tm tm;
	const char *src =
		cfg->name ? cfg->name : json_string_value(json_object_get(cfg->resolved, "target"));
	size_t i;

	uname(&u);
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(name, sizeof(name), "%s", src ? src : "run");
	for (i = 0; name[i]; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '-' || name[i] == '_' ||
		      name[i] == '.'))
			name[i] = '_';
	return mmr_strdup_printf("reports/runs/%s-%s-%s.json", name, u.release, stamp);
}

static const char **knob_union(const struct mmr_config *cfg, struct mmr_plan *plans, size_t *n)
{
	const char **names = calloc(1024, sizeof(*names));
	json_t *seen = json_object();

	*n = 0;
	for (size_t i = 0; names && i < cfg->ncases; i++) {
		const char *name;
		json_t *v;

		if (plans[i].skip || plans[i].invalid)
			continue;
		json_object_foreach (plans[i].settings, name, v) {
			if (json_object_get(seen, name) || *n >= 1024)
				continue;
			json_object_set_new(seen, name, json_true());
			names[(*n)++] = strdup(name);
		}
	}
	json_decref(seen);
	return names;
}

int mmr_run(struct mmr_config *cfg, const struct mmr_run_opts *o)
{
	struct mmr_plan *plans = calloc(cfg->ncases, sizeof(*plans));
	struct mmr_txn *txn = NULL;
	json_t *report = NULL, *guard_json = NULL, *cases;
	const char **knobs = NULL;
	char run_id[64], tag[128], err[1024], stamp[64];
	char *out = NULL;
	size_t nknobs = 0, nfail = 0;
	uint64_t t0 = mmr_now_ns();
	int ret = MMR_EXIT_OK, r;
	unsigned restored = 0;

	if (!plans)
		return MMR_EXIT_INTERNAL;
	/* 1. the lock; a leftover journal of an earlier run is undone first, so
	 * planning sees the machine's real settings */
	r = mmr_lock_and_recover(&restored);
	if (r == -EBUSY) {
		mmr_err("another mmrepro is running (lock in %s); wait for it, or set "
			"MMREPRO_LOCK_WAIT=<seconds> to queue behind it",
			mmr_state_dir());
		ret = MMR_EXIT_REFUSED;
		goto out_plans;
	} else if (r) {
		mmr_err("cannot take the run lock in %s: %s", mmr_state_dir(), strerror(-r));
		ret = r == -EIO ? MMR_EXIT_RESTORE : MMR_EXIT_REFUSED;
		goto out_plans;
	}
	/* 2. plan and guard: nothing changes until every case is planned and fits */
	r = mmr_plan_all(cfg, plans, &guard_json);
	if (r) {
		ret = r == -ENOMEM ? MMR_EXIT_REFUSED : MMR_EXIT_INTERNAL;
		goto out_unlock;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	install_signals();
	/* the fingerprint records the knobs as they were before this run */
	snprintf(run_id, sizeof(run_id), "%lld-%d", (long long)time(NULL), (int)getpid());
	report = mmr_report_new(cfg, o->argc, o->argv, run_id);
	json_object_set_new(report, "memory_guard", guard_json);
	guard_json = NULL;
	knobs = knob_union(cfg, plans, &nknobs);
	txn = mmr_txn_begin(knobs, nknobs, err, sizeof(err));
	if (!txn) {
		mmr_err("%s", err);
		ret = MMR_EXIT_REFUSED;
		goto out_report;
	}
	json_object_set_new(
		report, "settings",
		json_pack("{s:o,s:b}", "baseline", mmr_txn_baseline(txn), "restored", 0));
	snprintf(tag, sizeof(tag), "%s begin", run_id);
	mmr_dmesg_mark(tag);

	cases = json_object_get(report, "cases");
	for (size_t i = 0; i < cfg->ncases; i++) {
		const struct mmr_case *c = &cfg->cases[i];
		json_t *cj = mmr_report_case_new(c, i), *applied = NULL;
		uint64_t ct0 = mmr_now_ns();

		json_array_append_new(cases, cj);
		json_object_set_new(cj, "footprint_bytes",
				    json_integer((json_int_t)plans[i].footprint));
		if (interrupted)
			continue; /* stays "not-run" */
		if (plans[i].invalid || plans[i].skip) {
			json_object_set_new(cj, "status",
					    json_string(plans[i].invalid ? "invalid" : "skipped"));
			json_object_set_new(
				cj, "reason",
				json_string(plans[i].invalid ? plans[i].invalid : plans[i].skip));
		} else if (!fits_now(&plans[i], err, sizeof(err))) {
			json_object_set_new(cj, "status", json_string("skipped"));
			json_object_set_new(cj, "reason", json_string(err));
		} else if (mmr_txn_apply(txn, plans[i].settings, &applied, err, sizeof(err))) {
			json_object_set_new(cj, "status", json_string("failed"));
			json_object_set_new(cj, "reason", json_string(err));
		} else {
			snprintf(tag, sizeof(tag), "%s case %zu", run_id, i);
			mmr_dmesg_mark(tag);
			run_child(c, cj, txn);
		}
		json_object_set_new(cj, "settings",
				    json_pack("{s:O,s:o}", "requested", plans[i].settings,
					      "applied", applied ? applied : json_object()));
		json_object_set_new(cj, "duration_s",
				    json_real((double)(mmr_now_ns() - ct0) / 1e9));
		mmr_report_summarize_case(cj);
		if (!o->quiet)
			mmr_print_case_result(stderr, cj, i, cfg->ncases);
		{
			const char *st = json_string_value(json_object_get(cj, "status"));

			if (!strcmp(st, "failed") || !strcmp(st, "invalid"))
				nfail++;
		}
	}
	analyze(cfg, report);
	if (mmr_txn_end(txn)) {
		ret = MMR_EXIT_RESTORE;
	} else {
		json_object_set_new(json_object_get(report, "settings"), "restored", json_true());
	}
	txn = NULL;
	json_object_set_new(report, "dmesg", mmr_dmesg_scan(run_id));
	if (ret == MMR_EXIT_OK && nfail)
		ret = MMR_EXIT_CASE_FAILED;
	if (interrupted)
		ret = 128 + interrupted;
	mmr_iso_time(stamp, sizeof(stamp));
	json_object_set_new(report, "finished_at", json_string(stamp));
	json_object_set_new(report, "duration_s", json_real((double)(mmr_now_ns() - t0) / 1e9));
	json_object_set_new(report, "status",
			    json_string(interrupted ? "interrupted"
					: nfail	    ? "failed"
						    : "ok"));
	json_object_set_new(report, "exit_code", json_integer(ret));
	out = o->output ? strdup(o->output) : default_output(cfg);
	r = mmr_report_write(report, out);
	if (r) {
		mmr_err("cannot write the report to %s: %s", out, strerror(-r));
		if (ret == MMR_EXIT_OK || ret == MMR_EXIT_CASE_FAILED)
			ret = MMR_EXIT_INTERNAL;
	}
	if (o->json_stdout) {
		json_dumpf(report, stdout, JSON_INDENT(1));
		fputc('\n', stdout);
	} else if (!o->quiet) {
		mmr_print_table(stdout, report);
	}
	fflush(stdout);
	if (!r && !o->quiet)
		mmr_info("report: %s", out);
	if (interrupted)
		mmr_info("stopped by SIG%s; knobs restored, partial report written",
			 signame(interrupted));
out_report:
	if (txn)
		mmr_txn_end(txn);
	json_decref(report);
out_unlock:
	mmr_unlock();
out_plans:
	json_decref(guard_json);
	for (size_t i = 0; i < cfg->ncases; i++)
		mmr_plan_free(&plans[i]);
	for (size_t i = 0; knobs && i < nknobs; i++)
		free((char *)knobs[i]);
	free(knobs);
	free(plans);
	free(out);
	return ret;
}
