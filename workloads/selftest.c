// SPDX-License-Identifier: GPL-2.0
/*
 * selftest — a workload that misbehaves on request, so the harness's own
 * promises can be tested: a crash, a hang, a failure or a long sleep in any
 * phase must leave the knobs restored and a report that says what happened.
 * Hidden from `mmrepro list` unless --all.
 */
#include "mmrepro/workload.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct selftest_params {
	const char *action;
	const char *where;
	double seconds;
	uint64_t footprint;
};

static const char *const actions[] = { "ok",   "sleep", "busy",	   "hang", "crash",
				       "fail", "skip",	"invalid", "kmsg", NULL };
static const char *const phases[] = { "setup", "prepare", "run", NULL };

static const struct mmr_param selftest_params[] = {
	{ "action", MMR_T_ENUM, offsetof(struct selftest_params, action), "ok", .choices = actions,
	  .help = "what to do in `where`: ok, sleep `seconds` (no progress), busy `seconds` "
		  "(reporting progress every 10 ms), hang, crash (SIGSEGV), fail, skip, invalid, "
		  "kmsg (log a fake WARNING line for the dmesg scanner)" },
	{ "where", MMR_T_ENUM, offsetof(struct selftest_params, where), "run", .choices = phases,
	  .help = "the phase that misbehaves" },
	{ "seconds", MMR_T_DOUBLE, offsetof(struct selftest_params, seconds), "0.01", .min = "0",
	  .max = "3600", .help = "how long `sleep` sleeps" },
	{ "footprint", MMR_T_SIZE, offsetof(struct selftest_params, footprint), "16M", .min = "2M",
	  .max = "1T",
	  .help = "the memory the case declares to the memory guard (it allocates none of it)" },
	{ NULL },
};

static const struct mmr_metric selftest_metrics[] = {
	{ "elapsed_ns", "ns", MMR_LOWER_IS_BETTER, "time of one run() (a sleep when asked)" },
	{ NULL },
};

static int act(struct mmr_ctx *ctx, const char *phase)
{
	const struct selftest_params *p = mmr_params(ctx);
	struct timespec ts;

	if (strcmp(p->where, phase))
		return 0;
	if (!strcmp(p->action, "sleep")) {
		ts.tv_sec = (time_t)p->seconds;
		ts.tv_nsec = (long)((p->seconds - (double)ts.tv_sec) * 1e9);
		while (nanosleep(&ts, &ts))
			;
	} else if (!strcmp(p->action, "busy")) {
		uint64_t end = mmr_now_ns() + (uint64_t)(p->seconds * 1e9);

		while (mmr_now_ns() < end) {
			ts.tv_sec = 0;
			ts.tv_nsec = 10 * 1000 * 1000;
			nanosleep(&ts, NULL);
			mmr_progress(ctx);
		}
	} else if (!strcmp(p->action, "hang")) {
		for (;;)
			pause();
	} else if (!strcmp(p->action, "crash")) {
		signal(SIGSEGV, SIG_DFL); /* past any sanitizer's handler */
		raise(SIGSEGV);
	} else if (!strcmp(p->action, "fail")) {
		return mmr_fail(ctx, "selftest asked to fail in %s", phase);
	} else if (!strcmp(p->action, "skip")) {
		return mmr_skip(ctx, "selftest asked to skip in %s", phase);
	} else if (!strcmp(p->action, "invalid")) {
		return mmr_invalid(ctx, "selftest asked to be invalid in %s", phase);
	} else if (!strcmp(p->action, "kmsg")) {
		int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
		static const char line[] =
			"<4>mmrepro selftest: WARNING: a test line for the dmesg scanner, not a kernel problem\n";

		if (fd < 0)
			return mmr_skip(ctx, "/dev/kmsg not writable (needs root)");
		if (write(fd, line, sizeof(line) - 1) < 0) {
			close(fd);
			return mmr_fail(ctx, "write /dev/kmsg failed");
		}
		close(fd);
	}
	return 0;
}

static int selftest_plan(struct mmr_plan *plan, const void *params)
{
	const struct selftest_params *p = params;

	mmr_plan_footprint(plan, p->footprint);
	return 0;
}

static int selftest_setup(struct mmr_ctx *ctx)
{
	return act(ctx, "setup");
}

static int selftest_prepare(struct mmr_ctx *ctx)
{
	return act(ctx, "prepare");
}

static int selftest_run(struct mmr_ctx *ctx)
{
	int ret;

	mmr_op_begin(ctx, "run");
	ret = act(ctx, "run");
	mmr_sample(ctx, "elapsed_ns", (double)mmr_op_end(ctx));
	return ret;
}

const struct mmr_workload selftest_workload = {
	.abi = MMR_WORKLOAD_ABI,
	.name = "selftest",
	.summary = "harness self-test: misbehaves on request (crash, hang, fail, sleep)",
	.params = selftest_params,
	.metrics = selftest_metrics,
	.params_size = sizeof(struct selftest_params),
	.default_reps = 3,
	.hidden = true,
	.plan = selftest_plan,
	.setup = selftest_setup,
	.prepare = selftest_prepare,
	.run = selftest_run,
};
