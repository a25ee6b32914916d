// SPDX-License-Identifier: GPL-2.0
/* The allocation churn of mthp_alloc; see mthp_alloc_churn.h. */
#include "mthp_alloc_churn.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define THP_DIR "/sys/kernel/mm/transparent_hugepage"

const char *const churn_lifetimes[] = { "fifo", "random", "phased", NULL };

/* One observation of the process's memory; plain data, so taking it during
 * the churn allocates nothing from the heap under test. */
struct point {
	uint64_t t_ns, allocated, live, objects;
	long long rss, anon, anon_huge; /* bytes; -1 when smaps_rollup is unreadable */
	long long nr_anon[CHURN_MAX_MTHP], partial[CHURN_MAX_MTHP]; /* -1: no such stat */
};

struct churn {
	struct churn_shape s;
	struct churn_heap h;
	double cum[CHURN_MAX_SIZES]; /* cumulative weights */
	uint64_t page;
	/* live objects: a ring for fifo, a dense array otherwise */
	void **ptr;
	uint8_t *idx; /* index into s.size */
	size_t cap, head, n;
	size_t survivors; /* phased: entries [0, survivors) outlived the last phase */
	void *table;
	size_t table_len;
	uint64_t live_bytes;
	/* the current step */
	uint64_t ops, allocated;
	struct point *points;
	unsigned npoints;
	uint64_t rng[4];
	char err[256];
};

int churn_lifetime_parse(const char *s, enum churn_lifetime *out)
{
	for (int i = 0; churn_lifetimes[i]; i++) {
		if (!strcmp(s, churn_lifetimes[i])) {
			*out = (enum churn_lifetime)i;
			return 0;
		}
	}
	return -EINVAL;
}

int churn_parse_mix(const char *text, struct churn_shape *s, char *err, size_t errlen)
{
	char buf[1024], *save = NULL, *tok;
	unsigned n = 0;

	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "longer than %zu characters", sizeof(buf) - 1);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), n++) {
		char *colon = strchr(tok, ':'), *end;
		uint64_t size;
		double w;

		if (n == CHURN_MAX_SIZES) {
			snprintf(err, errlen, "more than %d entries", CHURN_MAX_SIZES);
			return -EINVAL;
		}
		if (colon)
			*colon = '\0';
		w = colon ? strtod(colon + 1, &end) : NAN;
		if (!colon || end == colon + 1 || *end || !(w > 0) || !isfinite(w) ||
		    mmr_parse_size(tok, &size) || size == 0 || size > 64 * MMR_MiB) {
			snprintf(err, errlen,
				 "entry %u (\"%s%s%s\"): expected <size>:<weight> with a size in "
				 "1..64M and a weight > 0, e.g. 4K:10",
				 n + 1, tok, colon ? ":" : "", colon ? colon + 1 : "");
			return -EINVAL;
		}
		s->size[n] = size;
		s->weight[n] = w;
	}
	if (n == 0) {
		snprintf(err, errlen, "expected a list of <size>:<weight>, e.g. 64:50,4K:10,64K:2");
		return -EINVAL;
	}
	s->nsizes = n;
	return 0;
}

void churn_format_mix(const struct churn_shape *s, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < s->nsizes && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%llu:%.17g", i ? "," : "",
					(unsigned long long)s->size[i], s->weight[i]);
}

static double mean_size(const struct churn_shape *s)
{
	double sum = 0, w = 0;

	for (unsigned i = 0; i < s->nsizes; i++) {
		sum += (double)s->size[i] * s->weight[i];
		w += s->weight[i];
	}
	return w > 0 ? sum / w : 1;
}

static uint64_t min_size(const struct churn_shape *s)
{
	uint64_t m = UINT64_MAX;

	for (unsigned i = 0; i < s->nsizes; i++)
		m = s->size[i] < m ? s->size[i] : m;
	return m;
}

static uint64_t max_size(const struct churn_shape *s)
{
	uint64_t m = 0;

	for (unsigned i = 0; i < s->nsizes; i++)
		m = s->size[i] > m ? s->size[i] : m;
	return m;
}

/* Entries the table can ever need: every live byte in the smallest size, the
 * survivors of a phase on top of a full phase. */
static size_t table_cap(const struct churn_shape *s)
{
	double bytes = (double)s->live * (1 + s->keep) + 2.0 * (double)max_size(s);

	return (size_t)(bytes / (double)min_size(s)) + 2;
}

/* Entries it is expected to hold; these are touched before the baseline. */
static size_t table_expected(const struct churn_shape *s)
{
	double n = (double)s->live * (1 + s->keep) / mean_size(s) * 1.25 + 1024;
	size_t cap = table_cap(s);

	return n < (double)cap ? (size_t)n : cap;
}

#define ENTRY_BYTES (sizeof(void *) + 1)

uint64_t churn_table_bytes(const struct churn_shape *s)
{
	return (uint64_t)table_expected(s) * ENTRY_BYTES * 2;
}

const char *churn_error(const struct churn *c)
{
	return c->err;
}

static int fail(struct churn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct churn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

static double uniform(struct churn *c)
{
	return (double)(mmr_rng_next(c->rng) >> 11) * 0x1.0p-53;
}

/* Memory the churn itself needs lives outside the heap under test and out of
 * large folios, so it neither feeds that heap nor the per-size counters. */
static void *private_map(size_t len, bool reserve_only)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | (reserve_only ? MAP_NORESERVE : 0), -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

struct churn *churn_new(const struct churn_shape *s, const struct churn_heap *h, char *err,
			size_t errlen)
{
	struct churn *c = calloc(1, sizeof(*c));
	double w = 0;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->s = *s;
	c->h = *h;
	c->page = (uint64_t)sysconf(_SC_PAGESIZE);
	for (unsigned i = 0; i < s->nsizes; i++)
		c->cum[i] = (w += s->weight[i]);
	mmr_rng_seed(c->rng, s->seed);
	c->cap = table_cap(s);
	c->table_len = c->cap * ENTRY_BYTES;
	c->table = private_map(c->table_len, true);
	c->points = private_map((s->points + 2) * sizeof(struct point), false);
	if (!c->table || !c->points) {
		snprintf(err, errlen, "cannot map the object table (%zu entries): %s", c->cap,
			 strerror(errno));
		churn_destroy(c);
		return NULL;
	}
	c->ptr = c->table;
	c->idx = (uint8_t *)(c->ptr + c->cap);
	/* touch what the table is expected to use, so it is in the baseline */
	memset(c->ptr, 0, table_expected(s) * sizeof(void *));
	memset(c->idx, 0, table_expected(s));
	memset(c->points, 0, (s->points + 2) * sizeof(struct point));
	return c;
}

void churn_destroy(struct churn *c)
{
	if (!c)
		return;
	if (c->table)
		munmap(c->table, c->table_len);
	if (c->points)
		munmap(c->points, (c->s.points + 2) * sizeof(struct point));
	free(c);
}

static long long rollup_bytes(const char *buf, const char *key)
{
	const char *p = buf;
	size_t klen = strlen(key);

	while ((p = strstr(p, key))) {
		if ((p == buf || p[-1] == '\n') && p[klen] == ':')
			return strtoll(p + klen + 1, NULL, 10) * 1024;
		p += klen;
	}
	return -1;
}

static long long read_stat(uint64_t kb, const char *stat)
{
	char path[160];
	uint64_t v;

	snprintf(path, sizeof(path), THP_DIR "/hugepages-%llukB/stats/%s", (unsigned long long)kb,
		 stat);
	return mmr_read_u64(path, &v) ? -1 : (long long)v;
}

static void observe(const struct churn *c, uint64_t t_ns, struct point *pt)
{
	char buf[4096];

	pt->t_ns = t_ns;
	pt->allocated = c->allocated;
	pt->live = c->live_bytes;
	pt->objects = c->n;
	pt->rss = pt->anon = pt->anon_huge = -1;
	if (mmr_read_file("/proc/self/smaps_rollup", buf, sizeof(buf)) > 0) {
		pt->rss = rollup_bytes(buf, "Rss");
		pt->anon = rollup_bytes(buf, "Anonymous");
		pt->anon_huge = rollup_bytes(buf, "AnonHugePages");
	}
	for (unsigned i = 0; i < c->s.nmthp; i++) {
		pt->nr_anon[i] = read_stat(c->s.mthp_kb[i], "nr_anon");
		pt->partial[i] = read_stat(c->s.mthp_kb[i], "nr_anon_partially_mapped");
	}
}

static json_t *point_json(const struct churn *c, const struct point *pt)
{
	json_t *o = json_pack("{s:f,s:I,s:I,s:I}", "t_ms", (double)pt->t_ns / 1e6,
			      "allocated_bytes", (json_int_t)pt->allocated, "live_bytes",
			      (json_int_t)pt->live, "objects", (json_int_t)pt->objects);
	json_t *m = json_object();
	char sz[16];

	if (pt->rss >= 0)
		json_object_set_new(o, "rss_bytes", json_integer(pt->rss));
	if (pt->anon >= 0)
		json_object_set_new(o, "anon_bytes", json_integer(pt->anon));
	if (pt->anon_huge >= 0)
		json_object_set_new(o, "anon_huge_bytes", json_integer(pt->anon_huge));
	for (unsigned i = 0; i < c->s.nmthp; i++) {
		json_t *g = json_object();

		if (pt->nr_anon[i] >= 0)
			json_object_set_new(g, "nr_anon", json_integer(pt->nr_anon[i]));
		if (pt->partial[i] >= 0)
			json_object_set_new(g, "nr_anon_partially_mapped",
					    json_integer(pt->partial[i]));
		mmr_format_size(c->s.mthp_kb[i] * 1024, sz, sizeof(sz));
		json_object_set_new(m, sz, g);
	}
	json_object_set_new(o, "mthp", m);
	return o;
}

json_t *churn_sample(const struct churn *c)
{
	struct point pt;

	observe(c, 0, &pt);
	return point_json(c, &pt);
}

static uint64_t faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_minflt + (uint64_t)ru.ru_majflt;
}

static unsigned pick_size(struct churn *c)
{
	double r = uniform(c) * c->cum[c->s.nsizes - 1];
	unsigned i = 0;

	while (i + 1 < c->s.nsizes && r >= c->cum[i])
		i++;
	return i;
}

/* A program writes what it allocates: all of it, or one byte per page. */
static void touch(const struct churn *c, char *p, size_t size)
{
	if (!c->s.touch_pages) {
		memset(p, 0xa5, size);
		return;
	}
	for (char *q = p; q < p + size; q = (char *)(((uintptr_t)q | (c->page - 1)) + 1))
		*(volatile char *)q = (char)0xa5;
}

static size_t slot(const struct churn *c, size_t i)
{
	size_t k = c->head + i;

	return k < c->cap ? k : k - c->cap;
}

static int alloc_one(struct churn *c)
{
	unsigned k = pick_size(c);
	size_t size = c->s.size[k], at;
	char *p;

	if (c->n == c->cap)
		return fail(c, "internal: object table full (%zu entries)", c->cap);
	p = c->h.alloc(c->h.heap, size);
	if (!p)
		return fail(c, "allocating %zu bytes failed with %llu bytes live: %s", size,
			    (unsigned long long)c->live_bytes, strerror(errno));
	touch(c, p, size);
	at = slot(c, c->n);
	c->ptr[at] = p;
	c->idx[at] = (uint8_t)k;
	c->n++;
	c->live_bytes += size;
	c->allocated += size;
	c->ops++;
	return 0;
}

static void free_at(struct churn *c, size_t at)
{
	uint64_t size = c->s.size[c->idx[at]];

	c->h.free(c->h.heap, c->ptr[at], size);
	c->live_bytes -= size;
	c->ops++;
}

/* fifo frees the oldest object, random any one. */
static void free_one(struct churn *c)
{
	size_t at;

	if (c->s.lifetime == CHURN_FIFO) {
		free_at(c, c->head);
		c->head = slot(c, 1);
		c->n--;
		return;
	}
	at = (size_t)(mmr_rng_next(c->rng) % c->n);
	free_at(c, at);
	c->n--;
	c->ptr[at] = c->ptr[c->n];
	c->idx[at] = c->idx[c->n];
}

/* phased: the survivors of the last phase die now, and of this phase's
 * objects a `keep` share survives into the next one. */
static void end_phase(struct churn *c)
{
	size_t w = 0;

	for (size_t i = 0; i < c->survivors; i++)
		free_at(c, i);
	for (size_t i = c->survivors; i < c->n; i++) {
		if (uniform(c) < c->s.keep) {
			c->ptr[w] = c->ptr[i];
			c->idx[w++] = c->idx[i];
		} else {
			free_at(c, i);
		}
	}
	c->n = c->survivors = w;
}

static json_t *step_json(const struct churn *c, uint64_t ns, uint64_t nfaults,
			 const struct point *end)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "ns", (json_int_t)ns, "ops",
			 (json_int_t)c->ops, "faults", (json_int_t)nfaults, "allocated_bytes",
			 (json_int_t)c->allocated, "live_bytes", (json_int_t)c->live_bytes,
			 "objects", (json_int_t)c->n, "end", point_json(c, end));
}

json_t *churn_fill(struct churn *c)
{
	uint64_t t0, ns, f0 = faults(), f;
	struct point end;

	c->ops = c->allocated = 0;
	t0 = mmr_now_ns();
	while (c->live_bytes < c->s.live) {
		if (alloc_one(c))
			return NULL;
	}
	ns = mmr_now_ns() - t0;
	f = faults() - f0;
	observe(c, ns, &end);
	return step_json(c, ns, f, &end);
}

json_t *churn_run(struct churn *c)
{
	uint64_t target = (uint64_t)(c->s.turnover * (double)c->s.live), next, elapsed = 0;
	uint64_t t0, f0, nfaults = 0;
	unsigned seg = 0;
	json_t *res, *tl;

	c->ops = c->allocated = 0;
	c->npoints = 0;
	observe(c, 0, &c->points[c->npoints++]);
	next = c->s.points ? target / c->s.points : UINT64_MAX;
	f0 = faults();
	t0 = mmr_now_ns();
	while (c->allocated < target) {
		bool grow = c->live_bytes < c->s.live;

		if (grow) {
			if (alloc_one(c))
				return NULL;
		} else if (c->s.lifetime == CHURN_PHASED) {
			end_phase(c);
		} else {
			free_one(c);
		}
		if (c->allocated >= next && seg + 1 < c->s.points) {
			/* stop the clock and the fault count while the sample is taken */
			elapsed += mmr_now_ns() - t0;
			nfaults += faults() - f0;
			observe(c, elapsed, &c->points[c->npoints++]);
			next = target / c->s.points * (++seg + 1);
			f0 = faults();
			t0 = mmr_now_ns();
		}
	}
	elapsed += mmr_now_ns() - t0;
	nfaults += faults() - f0;
	observe(c, elapsed, &c->points[c->npoints++]);
	res = step_json(c, elapsed, nfaults, &c->points[c->npoints - 1]);
	tl = json_array();
	for (unsigned i = 0; i < c->npoints; i++)
		json_array_append_new(tl, point_json(c, &c->points[i]));
	json_object_set_new(res, "timeline", tl);
	return res;
}
