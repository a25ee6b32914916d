// SPDX-License-Identifier: GPL-2.0
/*
 * The case child: the workload's callbacks run here, in a process of their
 * own, so a crash or a hang is something mmrepro reports rather than suffers.
 * Everything the parent needs travels as one JSON object per line on a pipe.
 */
#include "ctx.h"
#include "mmrepro/counters.h"
#include "mmrepro/pin.h"
#include "mmrepro/runner.h"
#include "mmrepro/util.h"
#include "mmrepro/workload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct mmr_ctx {
	const struct mmr_case *c;
	int fd;
	void *state;
	int rep;
	const char *phase;
	struct mmr_counters *ctr;
	int64_t *snap_a, *snap_b;
	char op[64];
	uint64_t op_t0;
	bool op_open;
	struct mmr_pinner *pinner;
	uint64_t rng[4];
	bool reported;	    /* a status (skip/invalid/fail) was already sent */
	uint64_t *progress; /* shared with mmrepro, which watches it for stalls */
};

void mmr_progress(struct mmr_ctx *ctx)
{
	if (ctx->progress)
		__atomic_fetch_add(ctx->progress, 1, __ATOMIC_RELAXED);
}

/* One line per message; the parent reassembles lines of any length. */
void mmr_ctx_send(struct mmr_ctx *ctx, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	size_t len, off = 0;

	json_decref(msg);
	mmr_progress(ctx);
	if (!text)
		return;
	len = strlen(text);
	text[len++] = '\n'; /* overwrite the NUL: json_dumps' buffer has room for it */
	while (off < len) {
		ssize_t n = write(ctx->fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	free(text);
}

void *mmr_params(struct mmr_ctx *ctx)
{
	return ctx->c->pvals;
}

void *mmr_state(struct mmr_ctx *ctx)
{
	return ctx->state;
}

int mmr_rep(const struct mmr_ctx *ctx)
{
	return ctx->rep;
}

const struct mmr_case *mmr_ctx_case(const struct mmr_ctx *ctx)
{
	return ctx->c;
}

struct mmr_pinner *mmr_ctx_pinner(const struct mmr_ctx *ctx)
{
	return ctx->pinner;
}

int mmr_ctx_cpuset(const struct mmr_ctx *ctx, cpu_set_t *set)
{
	CPU_ZERO(set);
	if (!ctx->pinner)
		return -ENODEV;
	for (unsigned i = 0; i < mmr_pinner_npus(ctx->pinner); i++)
		CPU_SET(mmr_pinner_cpu(ctx->pinner, i), set);
	return 0;
}

static bool warming(const struct mmr_ctx *ctx)
{
	return ctx->rep < 0;
}

void mmr_op_begin(struct mmr_ctx *ctx, const char *op)
{
	snprintf(ctx->op, sizeof(ctx->op), "%s", op);
	if (ctx->ctr)
		mmr_counters_read(ctx->ctr, ctx->snap_a, MMR_SNAP_OPEN);
	ctx->op_open = true;
	ctx->op_t0 = mmr_now_ns(); /* last: the snapshot stays outside the window */
}

uint64_t mmr_op_end(struct mmr_ctx *ctx)
{
	uint64_t ns = mmr_now_ns() - ctx->op_t0; /* first */

	if (!ctx->op_open)
		return ns;
	ctx->op_open = false;
	if (ctx->ctr)
		mmr_counters_read(ctx->ctr, ctx->snap_b, MMR_SNAP_CLOSE);
	if (!warming(ctx)) {
		json_t *m = json_pack("{s:s,s:s,s:i,s:I}", "t", "op", "op", ctx->op, "rep",
				      ctx->rep, "ns", (json_int_t)ns);

		if (ctx->ctr)
			json_object_set_new(
				m, "d",
				mmr_counters_delta_json(ctx->ctr, ctx->snap_a, ctx->snap_b));
		mmr_ctx_send(ctx, m);
	}
	return ns;
}

int64_t mmr_op_delta(const struct mmr_ctx *ctx, const char *counter)
{
	ssize_t i = ctx->ctr ? mmr_counters_index(ctx->ctr, counter) : -1;

	return i < 0 ? 0 : ctx->snap_b[i] - ctx->snap_a[i];
}

static const struct mmr_metric *find_metric(const struct mmr_ctx *ctx, const char *name)
{
	for (const struct mmr_metric *m = ctx->c->w->metrics; m->name; m++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

void mmr_sample(struct mmr_ctx *ctx, const char *metric, double value)
{
	if (!find_metric(ctx, metric)) {
		mmr_fail(ctx, "internal: workload %s sampled undeclared metric %s", ctx->c->w->name,
			 metric);
		return;
	}
	if (warming(ctx))
		return;
	mmr_ctx_send(ctx, json_pack("{s:s,s:s,s:f,s:i}", "t", "sample", "m", metric, "v", value,
				    "rep", ctx->rep));
}

void mmr_extra_u64(struct mmr_ctx *ctx, const char *key, uint64_t v)
{
	mmr_ctx_send(ctx, json_pack("{s:s,s:s,s:I}", "t", "extra", "k", key, "v", (json_int_t)v));
}

void mmr_extra_str(struct mmr_ctx *ctx, const char *key, const char *v)
{
	mmr_ctx_send(ctx, json_pack("{s:s,s:s,s:s}", "t", "extra", "k", key, "v", v));
}

void mmr_extra_json(struct mmr_ctx *ctx, const char *key, json_t *v)
{
	mmr_ctx_send(ctx,
		     json_pack("{s:s,s:s,s:o}", "t", "extra", "k", key, "v", v ? v : json_null()));
}

void mmr_log(struct mmr_ctx *ctx, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	mmr_ctx_send(ctx, json_pack("{s:s,s:s}", "t", "log", "msg", buf));
}

static int report(struct mmr_ctx *ctx, const char *status, int code, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (!ctx->reported)
		mmr_ctx_send(ctx,
			     json_pack("{s:s,s:s,s:s,s:s,s:i}", "t", "status", "status", status,
				       "reason", buf, "phase", ctx->phase, "rep", ctx->rep));
	ctx->reported = true;
	return code;
}

int mmr_skip(struct mmr_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = report(ctx, "skipped", MMR_SKIP, fmt, ap);
	va_end(ap);
	return r;
}

int mmr_invalid(struct mmr_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = report(ctx, "invalid", MMR_INVALID, fmt, ap);
	va_end(ap);
	return r;
}

int mmr_fail(struct mmr_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = report(ctx, "failed", MMR_FAILED, fmt, ap);
	va_end(ap);
	return r;
}

int mmr_pin_self(struct mmr_ctx *ctx, unsigned slot)
{
	int cpu;

	if (!ctx->pinner)
		return -ENODEV;
	cpu = mmr_pinner_bind(ctx->pinner, slot);
	if (cpu >= 0)
		mmr_ctx_send(ctx, json_pack("{s:s,s:i,s:i,s:i}", "t", "placement", "slot",
					    (int)slot, "cpu", cpu, "tid", (int)gettid()));
	return cpu;
}

uint64_t mmr_random(struct mmr_ctx *ctx)
{
	return mmr_rng_next(ctx->rng);
}

/* Report a callback's failure that did not go through mmr_skip/invalid/fail. */
static int settle(struct mmr_ctx *ctx, int rc)
{
	if (rc == 0 || ctx->reported)
		return rc;
	if (rc == MMR_SKIP)
		return mmr_skip(ctx, "skipped in %s", ctx->phase);
	if (rc == MMR_INVALID)
		return mmr_invalid(ctx, "invalid in %s", ctx->phase);
	if (rc < 0 && rc > -4096)
		return mmr_fail(ctx, "%s: %s", ctx->phase, strerror(-rc));
	return mmr_fail(ctx, "%s returned %d", ctx->phase, rc);
}

static void phase(struct mmr_ctx *ctx, const char *name)
{
	ctx->phase = name;
	mmr_ctx_send(ctx, json_pack("{s:s,s:s,s:i}", "t", "phase", "phase", name, "rep", ctx->rep));
}

int mmr_child_main(const struct mmr_case *c, int fd, uint64_t *progress)
{
	const struct mmr_workload *w = c->w;
	struct mmr_ctx ctx = { .c = c, .fd = fd, .phase = "start", .progress = progress };
	size_t n;
	int rc = 0;

	ctx.state = calloc(1, w->state_size ? w->state_size : 1);
	ctx.ctr = mmr_counters_open();
	n = ctx.ctr ? mmr_counters_n(ctx.ctr) : 0;
	ctx.snap_a = calloc(n + 1, sizeof(int64_t));
	ctx.snap_b = calloc(n + 1, sizeof(int64_t));
	mmr_rng_seed(ctx.rng, c->seed);
	if (!ctx.state || !ctx.snap_a || !ctx.snap_b)
		return settle(&ctx, -ENOMEM), 1;
	if (!ctx.ctr)
		mmr_log(&ctx, "counters unavailable: %s", strerror(errno));
	ctx.pinner = mmr_pinner_new(c->cpu);
	if (!ctx.pinner && c->cpu >= 0)
		return settle(&ctx, mmr_fail(&ctx,
					     "cannot pin to CPU %d: not in this process's "
					     "affinity mask or hwloc failed",
					     c->cpu)),
		       1;
	if (ctx.pinner)
		mmr_pin_self(&ctx, 0);

	ctx.rep = -(int)c->warmup;
	phase(&ctx, "setup");
	rc = w->setup ? settle(&ctx, w->setup(&ctx)) : 0;
	for (; !rc && ctx.rep < (int)c->reps; ctx.rep++) {
		if (w->prepare) {
			phase(&ctx, "prepare");
			rc = settle(&ctx, w->prepare(&ctx));
		}
		if (!rc) {
			phase(&ctx, "run");
			rc = settle(&ctx, w->run(&ctx));
		}
		if (w->cleanup) {
			const char *was = ctx.phase;

			phase(&ctx, "cleanup");
			w->cleanup(&ctx);
			if (rc)
				ctx.phase = was;
		}
	}
	if (w->teardown) {
		const char *was = ctx.phase;

		phase(&ctx, "teardown");
		w->teardown(&ctx);
		ctx.phase = was;
	}
	if (!rc)
		mmr_ctx_send(&ctx, json_pack("{s:s}", "t", "done"));
	mmr_pinner_free(ctx.pinner);
	mmr_counters_close(ctx.ctr);
	free(ctx.snap_a);
	free(ctx.snap_b);
	free(ctx.state);
	return 0;
}
