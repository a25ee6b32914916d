// SPDX-License-Identifier: GPL-2.0
/*
 * Planning a case: the workload states its footprint and the knobs it needs,
 * or says why it cannot run here. Runs in mmrepro before anything changes.
 */
#include "mmrepro/env.h"
#include "mmrepro/runner.h"
#include "mmrepro/pin.h"
#include "mmrepro/settings.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int set_reason(char **slot, const char *fmt, va_list ap)
{
	if (!*slot && vasprintf(slot, fmt, ap) < 0)
		*slot = NULL;
	return 0;
}

int mmr_plan_skip(struct mmr_plan *plan, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_reason(&plan->skip, fmt, ap);
	va_end(ap);
	return MMR_SKIP;
}

int mmr_plan_invalid(struct mmr_plan *plan, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_reason(&plan->invalid, fmt, ap);
	va_end(ap);
	return MMR_INVALID;
}

void mmr_plan_footprint(struct mmr_plan *plan, uint64_t bytes)
{
	plan->footprint = bytes;
}

unsigned mmr_plan_cpus(const struct mmr_plan *plan)
{
	(void)plan;
	return mmr_allowed_cpus();
}

int mmr_plan_setting(struct mmr_plan *plan, const char *knob, const char *value)
{
	struct mmr_knob k;
	char err[512];

	if (mmr_knob_resolve(knob, &k, err, sizeof(err)))
		return mmr_plan_invalid(plan, "workload asked for %s", err);
	if (!mmr_knob_exists(&k))
		return mmr_plan_skip(plan, "this kernel has no %s (knob %s)", k.path, k.name);
	/* What the config says explicitly wins over what the workload derives. */
	if (json_object_get(plan->c->settings, k.name))
		return 0;
	if (mmr_knob_check_value(&k, value, err, sizeof(err)))
		return mmr_plan_invalid(plan, "%s: %s", k.name, err);
	json_object_set_new(plan->settings, k.name, json_string(value));
	return 0;
}

/* The value this case will see for a knob: planned, else current. */
static void effective(struct mmr_plan *plan, const char *name, char *val, size_t len)
{
	const char *planned = json_string_value(json_object_get(plan->settings, name));
	struct mmr_knob k;
	char err[256];

	val[0] = '\0';
	if (planned) {
		snprintf(val, len, "%s", planned);
		return;
	}
	if (!mmr_knob_resolve(name, &k, err, sizeof(err)) && mmr_knob_exists(&k))
		mmr_knob_read(&k, val, len);
}

int mmr_plan_knob(struct mmr_plan *plan, const char *knob, char *val, size_t len)
{
	effective(plan, knob, val, len);
	return val[0] ? 0 : -ENOENT;
}

/* Does a MADV_HUGEPAGE region get folios of this per-size knob's order? */
static bool size_allows_madvised(struct mmr_plan *plan, uint64_t kb)
{
	char name[64], val[64], top[64], sz[16];

	mmr_format_size(kb * 1024, sz, sizeof(sz));
	snprintf(name, sizeof(name), "thp.%s.enabled", sz);
	effective(plan, name, val, sizeof(val));
	if (!strcmp(val, "inherit")) {
		effective(plan, "thp.enabled", top, sizeof(top));
		return !strcmp(top, "always") || !strcmp(top, "madvise");
	}
	return !strcmp(val, "always") || !strcmp(val, "madvise");
}

/*
 * Anonymous MADV_HUGEPAGE memory gets the largest enabled order that fits:
 * the wanted size must be enabled (madvise is enough, and leaves the rest of
 * the system alone) and every larger size must be off for madvised memory.
 */
int mmr_plan_backing(struct mmr_plan *plan, const struct mmr_backing *b)
{
	const struct mmr_probes *p = mmr_probes();
	uint64_t want_kb = b->folio_size / 1024;
	char sz[16], name[64], top[64];
	int ret;

	if (b->kind == MMR_B_4K)
		return 0; /* MADV_NOHUGEPAGE: no knob involved */
	if (!p->thp)
		return mmr_plan_skip(plan, "this kernel has no transparent hugepages "
					   "(/sys/kernel/mm/transparent_hugepage)");
	if (!p->mthp) {
		if (b->kind == MMR_B_MTHP)
			return mmr_plan_skip(plan,
					     "%s needs per-size mTHP (hugepages-%llukB in sysfs, "
					     "Linux 6.8+); this kernel has none",
					     b->name, (unsigned long long)want_kb);
		effective(plan, "thp.enabled", top, sizeof(top));
		if (strcmp(top, "always") && strcmp(top, "madvise"))
			return mmr_plan_setting(plan, "thp.enabled", "madvise");
		return 0;
	}
	if (!mmr_mthp_size_exists(want_kb))
		return mmr_plan_skip(plan,
				     "this kernel offers no %lluK THP size (no hugepages-%llukB)",
				     (unsigned long long)want_kb, (unsigned long long)want_kb);
	{
		char path[128];

		/* sizes that exist for shmem only (order 1 on x86) have no anon knob */
		snprintf(path, sizeof(path),
			 "%s/sys/kernel/mm/transparent_hugepage/hugepages-%llukB/enabled",
			 mmr_sys_root(), (unsigned long long)want_kb);
		if (!mmr_path_exists(path))
			return mmr_plan_skip(plan,
					     "this kernel has no anonymous %lluK THP "
					     "(hugepages-%llukB has no 'enabled' knob)",
					     (unsigned long long)want_kb,
					     (unsigned long long)want_kb);
	}
	if (!size_allows_madvised(plan, want_kb)) {
		mmr_format_size(want_kb * 1024, sz, sizeof(sz));
		snprintf(name, sizeof(name), "thp.%s.enabled", sz);
		ret = mmr_plan_setting(plan, name, "madvise");
		if (ret)
			return ret;
	}
	for (unsigned i = 0; i < p->n_mthp; i++) {
		if (p->mthp_kb[i] <= want_kb || !size_allows_madvised(plan, p->mthp_kb[i]))
			continue;
		mmr_format_size(p->mthp_kb[i] * 1024, sz, sizeof(sz));
		snprintf(name, sizeof(name), "thp.%s.enabled", sz);
		ret = mmr_plan_setting(plan, name, "never");
		if (ret)
			return ret;
	}
	return 0;
}

static int check_needs(struct mmr_plan *plan, unsigned needs)
{
	const struct mmr_probes *p = mmr_probes();

	if ((needs & MMR_NEED_ROOT) && !p->root)
		return mmr_plan_skip(plan, "needs root");
	if ((needs & MMR_NEED_THP) && !p->thp)
		return mmr_plan_skip(plan, "needs transparent hugepages");
	if ((needs & MMR_NEED_MTHP) && !p->mthp)
		return mmr_plan_skip(plan, "needs per-size mTHP sysfs (Linux 6.8+)");
	if ((needs & MMR_NEED_HUGETLB) && !p->n_hugetlb)
		return mmr_plan_skip(plan, "needs hugetlbfs support");
	if ((needs & MMR_NEED_IO_URING) && !p->io_uring)
		return mmr_plan_skip(plan, "needs io_uring: %s", p->io_uring_why);
	if ((needs & MMR_NEED_KPAGEFLAGS) && !p->kpageflags)
		return mmr_plan_skip(plan, "layout proof needs /proc/kpageflags and PFNs in "
					   "/proc/self/pagemap (run as root)");
	return 0;
}

/* Knob changes need root; say which change, instead of failing mid-run. */
static void check_root_for_settings(struct mmr_plan *plan)
{
	const char *name;
	json_t *v;

	if (mmr_probes()->root)
		return;
	json_object_foreach (plan->settings, name, v) {
		struct mmr_knob k;
		char err[256], now[128];

		if (mmr_knob_resolve(name, &k, err, sizeof(err)) ||
		    mmr_knob_read(&k, now, sizeof(now)))
			continue;
		if (strcmp(now, json_string_value(v))) {
			mmr_plan_skip(plan, "needs root to set %s=%s (now %s)", name,
				      json_string_value(v), now);
			return;
		}
	}
}

int mmr_plan_case(const struct mmr_case *c, struct mmr_plan *plan)
{
	const char *name;
	json_t *v;

	memset(plan, 0, sizeof(*plan));
	plan->c = c;
	plan->settings = json_deep_copy(c->settings);
	if (!plan->settings)
		return -ENOMEM;
	/* explicit settings for knobs this kernel lacks: the case cannot run as asked */
	json_object_foreach (c->settings, name, v) {
		struct mmr_knob k;
		char err[256];

		if (!mmr_knob_resolve(name, &k, err, sizeof(err)) && !mmr_knob_exists(&k))
			return mmr_plan_skip(plan, "this kernel has no %s (setting %s)", k.path,
					     name),
			       0;
	}
	if (check_needs(plan, c->w->needs))
		return 0;
	if (c->w->plan)
		c->w->plan(plan, c->pvals);
	if (!plan->skip && !plan->invalid)
		check_root_for_settings(plan);
	return 0;
}

void mmr_plan_free(struct mmr_plan *plan)
{
	json_decref(plan->settings);
	free(plan->skip);
	free(plan->invalid);
	memset(plan, 0, sizeof(*plan));
}
