// SPDX-License-Identifier: GPL-2.0
/*
 * mthp_alloc's arena and churn on real memory: the free policy gives back
 * exactly the granules no live object overlaps (and they read back as zero
 * pages), a coarser granule holds memory a finer one returns, size mixes
 * parse or say which entry is wrong, and a seed fixes the whole sequence.
 * Needs no knob: THP sizes play no part in what is checked here.
 */
#include "check.h"
#include "mthp_alloc_arena.h"
#include "mthp_alloc_churn.h"
#include "mmrepro/util.h"

#include <errno.h>

static struct arena *make(uint64_t granule, enum arena_advice advice, uint64_t limit)
{
	struct arena_opts o = { .limit = limit, .granule = granule, .advice = advice };
	char err[256];
	struct arena *a = arena_new(&o, err, sizeof(err));

	if (!a)
		fprintf(stderr, "arena_new: %s\n", err);
	return a;
}

static void test_mix(void)
{
	struct churn_shape s = { 0 };
	char err[256], buf[256];

	CHECK(churn_parse_mix("32:30,4K:10,200K:2.5", &s, err, sizeof(err)) == 0);
	CHECK(s.nsizes == 3 && s.size[1] == 4096 && s.size[2] == 200 * 1024 && s.weight[2] == 2.5);
	churn_format_mix(&s, buf, sizeof(buf));
	CHECK_STR(buf, "32:30,4096:10,204800:2.5");
	CHECK(churn_parse_mix("32:1,4Q:1", &s, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "entry 2 (\"4Q:1\")") != NULL);
	CHECK(churn_parse_mix("4K", &s, err, sizeof(err)) == -EINVAL);
	CHECK(strstr(err, "entry 1") && strstr(err, "<size>:<weight>"));
	CHECK(churn_parse_mix("4K:0", &s, err, sizeof(err)) == -EINVAL);
	CHECK(churn_parse_mix("128M:1", &s, err, sizeof(err)) == -EINVAL);
	CHECK(churn_parse_mix("", &s, err, sizeof(err)) == -EINVAL);
}

/* Whole pages freed go back at once, and come back as zero pages. */
static void test_page_granule(void)
{
	struct arena *a = make(4096, ARENA_DONTNEED, 64 * MMR_MiB);
	char *x, *y, *z;

	if (!a)
		return check_failures++, (void)0;
	x = arena_alloc(a, 16384);
	y = arena_alloc(a, 16384);
	CHECK(x && y && ((uintptr_t)x & 4095) == 0);
	memset(x, 0xa5, 16384);
	memset(y, 0xa5, 16384);
	arena_free(a, x, 16384);
	CHECK(arena_returned_bytes(a) == 16384);
	z = arena_alloc(a, 16384); /* the same extent, reused */
	CHECK(z == x && z[0] == 0 && z[16383] == 0);
	CHECK(y[0] == (char)0xa5);
	arena_destroy(a);
}

/* Small objects share a run: nothing goes back until a page is empty. */
static void test_small_run(void)
{
	struct arena *a = make(4096, ARENA_DONTNEED, 64 * MMR_MiB);
	char *p[64];

	if (!a)
		return check_failures++, (void)0;
	for (int i = 0; i < 64; i++) {
		p[i] = arena_alloc(a, 1024);
		memset(p[i], 1, 1024);
	}
	CHECK(p[1] == p[0] + 1024 && p[63] == p[0] + 63 * 1024); /* one 64K run */
	for (int i = 0; i < 64; i += 2)
		arena_free(a, p[i], 1024);
	CHECK(arena_returned_bytes(a) == 0); /* every page still holds a live object */
	for (int i = 1; i < 64; i += 2)
		arena_free(a, p[i], 1024);
	CHECK(arena_returned_bytes(a) == 64 * 1024);
	arena_destroy(a);
}

/* A granule larger than the object keeps it until its neighbours go too;
 * ARENA_KEEP never gives anything back. */
static void test_coarse_and_keep(void)
{
	struct arena *a = make(65536, ARENA_DONTNEED, 64 * MMR_MiB);
	struct arena *k = make(4096, ARENA_KEEP, 64 * MMR_MiB);
	char *x, *y;

	if (!a || !k)
		return check_failures++, (void)0;
	x = arena_alloc(a, 32768);
	y = arena_alloc(a, 32768);
	CHECK(y == x + 32768 && ((uintptr_t)x & 65535) == 0);
	arena_free(a, x, 32768);
	CHECK(arena_returned_bytes(a) == 0);
	arena_free(a, y, 32768);
	CHECK(arena_returned_bytes(a) == 65536);
	x = arena_alloc(k, 8192);
	arena_free(k, x, 8192);
	CHECK(arena_returned_bytes(k) == 0);
	arena_destroy(a);
	arena_destroy(k);
	/* MADV_FREE: given back lazily, counted the same */
	a = make(4096, ARENA_FREE, 64 * MMR_MiB);
	if (!a)
		return check_failures++, (void)0;
	x = arena_alloc(a, 8192);
	memset(x, 1, 8192);
	arena_free(a, x, 8192);
	CHECK(arena_returned_bytes(a) == 8192);
	arena_destroy(a);
}

static void test_limit(void)
{
	struct arena *a = make(4096, ARENA_DONTNEED, 4 * MMR_MiB);
	int n = 0;

	if (!a)
		return check_failures++, (void)0;
	errno = 0;
	while (arena_alloc(a, 1024 * 1024) && n < 100)
		n++;
	CHECK(n == 4 && errno == ENOMEM);
	arena_destroy(a);
}

static json_t *churn_once(enum churn_lifetime lt, uint64_t seed, json_t **fill)
{
	struct arena *a = make(4096, ARENA_DONTNEED, 64 * MMR_MiB);
	struct churn_shape s = { .lifetime = lt,
				 .live = 4 * MMR_MiB,
				 .turnover = 3,
				 .keep = 0.2,
				 .points = 4,
				 .seed = seed };
	struct churn_heap h = { arena_heap_alloc, arena_heap_free, a };
	char err[256];
	struct churn *c;
	json_t *r = NULL;

	churn_parse_mix("48:40,1K:20,6K:20,40K:10,100K:2", &s, err, sizeof(err));
	c = a ? churn_new(&s, &h, err, sizeof(err)) : NULL;
	if (c) {
		*fill = churn_fill(c);
		r = churn_run(c);
		if (!r)
			fprintf(stderr, "churn_run: %s\n", churn_error(c));
	}
	churn_destroy(c);
	arena_destroy(a);
	return r;
}

static long long geti(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static void test_churn(void)
{
	json_t *f1 = NULL, *f2 = NULL, *f3 = NULL, *r1, *r2, *r3;

	r1 = churn_once(CHURN_RANDOM, 7, &f1);
	r2 = churn_once(CHURN_RANDOM, 7, &f2);
	r3 = churn_once(CHURN_RANDOM, 8, &f3);
	CHECK(r1 && r2 && r3);
	if (r1 && r2 && r3) {
		CHECK(geti(f1, "live_bytes") >= 4 * (long long)MMR_MiB && geti(f1, "ops") > 0);
		CHECK(geti(r1, "allocated_bytes") >= 12 * (long long)MMR_MiB);
		CHECK(geti(r1, "ops") > 2 * geti(f1, "ops")); /* allocations and frees */
		CHECK(json_array_size(json_object_get(r1, "timeline")) == 5);
		/* a seed fixes the sequence; another seed gives another */
		CHECK(geti(r1, "ops") == geti(r2, "ops") &&
		      geti(r1, "live_bytes") == geti(r2, "live_bytes"));
		CHECK(geti(r1, "ops") != geti(r3, "ops") ||
		      geti(r1, "live_bytes") != geti(r3, "live_bytes"));
		CHECK(json_integer_value(
			      json_object_get(json_object_get(r1, "end"), "anon_bytes")) > 0);
	}
	for (int lt = CHURN_FIFO; lt <= CHURN_PHASED; lt++) {
		json_t *f = NULL, *r = churn_once((enum churn_lifetime)lt, 3, &f);

		CHECK(r != NULL);
		/* the live set never runs past the target by more than one phase's
		 * survivors and one object */
		CHECK(r && geti(r, "live_bytes") <= (long long)(4 * MMR_MiB * 1.2) + 100 * 1024);
		json_decref(f);
		json_decref(r);
	}
	json_decref(f1);
	json_decref(f2);
	json_decref(f3);
	json_decref(r1);
	json_decref(r2);
	json_decref(r3);
}

int main(void)
{
	test_mix();
	test_page_granule();
	test_small_run();
	test_coarse_and_keep();
	test_limit();
	test_churn();
	return check_done("test_mthp_churn");
}
