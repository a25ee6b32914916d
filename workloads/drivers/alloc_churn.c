// SPDX-License-Identifier: GPL-2.0
/*
 * mmrepro-alloc-churn — the allocation churn of mthp_alloc against whatever
 * malloc() this process has: glibc's, or jemalloc, tcmalloc or mimalloc by
 * LD_PRELOAD. mthp_alloc runs it with --step in the case's process group and
 * memory cgroup; alone it runs the fill and the churn and prints both.
 *
 * It is never built with sanitizers: the malloc under test must be the
 * allocator's own, and ASan refuses an LD_PRELOADed one.
 */
#include "mthp_alloc_churn.h"
#include "mmrepro/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <gnu/libc-version.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool stepping;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mmrepro-alloc-churn [options]\n\n"
		"Allocate a live set of a size mix with malloc(), then churn it (free and\n"
		"allocate) with a lifetime model; print what it took and the process's memory\n"
		"(smaps_rollup, per-size mTHP gauges) as JSON. Choose the allocator with\n"
		"LD_PRELOAD. This is the real-allocator half of `mmrepro run mthp_alloc`.\n\n"
		"Options:\n"
		"  --mix LIST        size:weight list (default 64:50,4K:10,64K:2)\n"
		"  --lifetime L      fifo | random | phased (default random)\n"
		"  --live SIZE       live bytes to keep (default 64M)\n"
		"  --turnover X      bytes the churn allocates, as a multiple of --live (default 4)\n"
		"  --keep F          phased: share of a phase's objects that outlive it (default 0.1)\n"
		"  --touch-pages     write one byte per page of a new object, not all of it\n"
		"  --points N        timeline points over the churn (default 16)\n"
		"  --seed N          the sequence of sizes and frees (default 1)\n"
		"  --mthp KB,...     THP sizes (kB) whose nr_anon gauges the timeline reads\n"
		"  --step            wait for commands on stdin: fill, churn, sample, exit\n"
		"  -h, --help        this text\n");
}

static void emit(json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	size_t len, off = 0;

	json_decref(msg);
	if (!text)
		exit(1);
	len = strlen(text);
	text[len++] = '\n'; /* overwrites the NUL: json_dumps leaves room for it */
	while (off < len) {
		ssize_t n = write(STDOUT_FILENO, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			exit(1);
		off += (size_t)n;
	}
	free(text);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (stepping)
		emit(json_pack("{s:s,s:s}", "t", "error", "msg", msg));
	fprintf(stderr, "mmrepro-alloc-churn: %s\n", msg);
	exit(stepping ? 1 : 2);
}

/* Which malloc() this process got, and its version where it says. */
static void identify(json_t *o)
{
	const char *(*tc_version)(int *, int *, const char **);
	int (*mallctl)(const char *, void *, size_t *, void *, size_t);
	int (*mi_version)(void);
	void *m = dlsym(RTLD_DEFAULT, "malloc");
	char ver[128];
	Dl_info info;

	if (m && dladdr(m, &info) && info.dli_fname)
		json_object_set_new(o, "malloc_from", json_string(info.dli_fname));
	*(void **)&mallctl = dlsym(RTLD_DEFAULT, "mallctl");
	*(void **)&tc_version = dlsym(RTLD_DEFAULT, "tc_version");
	*(void **)&mi_version = dlsym(RTLD_DEFAULT, "mi_version");
	if (mallctl) {
		const char *v = NULL;
		size_t sz = sizeof(v);

		snprintf(ver, sizeof(ver), "jemalloc %s",
			 mallctl("version", &v, &sz, NULL, 0) == 0 && v ? v : "?");
	} else if (tc_version) {
		snprintf(ver, sizeof(ver), "%s", tc_version(NULL, NULL, NULL));
	} else if (mi_version) {
		int v = mi_version();

		snprintf(ver, sizeof(ver), "mimalloc %d.%d.%d", v / 100, v / 10 % 10, v % 10);
	} else {
		snprintf(ver, sizeof(ver), "glibc %s", gnu_get_libc_version());
	}
	json_object_set_new(o, "allocator_version", json_string(ver));
}

static void *heap_malloc(void *heap, size_t size)
{
	(void)heap;
	return malloc(size);
}

static void heap_free(void *heap, void *p, size_t size)
{
	(void)heap;
	(void)size;
	free(p);
}

static json_t *tagged(json_t *o, const char *t)
{
	json_object_set_new(o, "t", json_string(t));
	return o;
}

static void parse_mthp(const char *text, struct churn_shape *s)
{
	char buf[512], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", text);
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long long kb = strtoull(tok, &end, 10);

		if (*end || !kb || s->nmthp == CHURN_MAX_MTHP)
			die("--mthp: expected up to %d sizes in kB separated by commas, got \"%s\"",
			    CHURN_MAX_MTHP, text);
		s->mthp_kb[s->nmthp++] = kb;
	}
}

static double number(const char *opt, const char *text, double lo, double hi)
{
	char *end;
	double v = strtod(text, &end);

	if (end == text || *end || !(v >= lo && v <= hi))
		die("%s: expected a number in %g..%g, got \"%s\"", opt, lo, hi, text);
	return v;
}

static void parse_args(int argc, char **argv, struct churn_shape *s)
{
	static const struct option opts[] = {
		{ "mix", required_argument, NULL, 'm' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "live", required_argument, NULL, 'L' },
		{ "turnover", required_argument, NULL, 't' },
		{ "keep", required_argument, NULL, 'k' },
		{ "touch-pages", no_argument, NULL, 'p' },
		{ "points", required_argument, NULL, 'P' },
		{ "seed", required_argument, NULL, 's' },
		{ "mthp", required_argument, NULL, 'M' },
		{ "step", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char err[256];
	int c;

	*s = (struct churn_shape){ .lifetime = CHURN_RANDOM,
				   .live = 64 * MMR_MiB,
				   .turnover = 4,
				   .keep = 0.1,
				   .points = 16,
				   .seed = 1 };
	churn_parse_mix("64:50,4K:10,64K:2", s, err, sizeof(err));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (churn_parse_mix(optarg, s, err, sizeof(err)))
				die("--mix: %s", err);
			break;
		case 'l':
			if (churn_lifetime_parse(optarg, &s->lifetime))
				die("--lifetime: expected fifo, random or phased, got \"%s\"",
				    optarg);
			break;
		case 'L':
			if (mmr_parse_size(optarg, &s->live) || !s->live)
				die("--live: expected a size like 64M, got \"%s\"", optarg);
			break;
		case 't':
			s->turnover = number("--turnover", optarg, 0, 1e6);
			break;
		case 'k':
			s->keep = number("--keep", optarg, 0, 0.9);
			break;
		case 'p':
			s->touch_pages = true;
			break;
		case 'P':
			s->points = (unsigned)number("--points", optarg, 0, 100000);
			break;
		case 's': {
			char *end;

			errno = 0;
			s->seed = strtoull(optarg, &end, 0);
			if (errno || end == optarg || *end)
				die("--seed: expected an unsigned 64-bit integer, got \"%s\"",
				    optarg);
			break;
		}
		case 'M':
			parse_mthp(optarg, s);
			break;
		case 'S':
			stepping = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind < argc)
		die("unexpected argument \"%s\"", argv[optind]);
}

static json_t *run_step(struct churn *c, const char *what)
{
	json_t *r = !strcmp(what, "fill") ? churn_fill(c) : churn_run(c);

	if (!r)
		die("%s: %s", what, churn_error(c));
	return tagged(r, what);
}

int main(int argc, char **argv)
{
	const struct churn_heap heap = { heap_malloc, heap_free, NULL };
	struct churn_shape shape;
	struct churn *c;
	char err[256], line[64];
	json_t *ready;

	parse_args(argc, argv, &shape);
	c = churn_new(&shape, &heap, err, sizeof(err));
	if (!c)
		die("%s", err);
	ready = json_pack("{s:s,s:o}", "t", "ready", "base", churn_sample(c));
	identify(ready);
	emit(ready);
	if (!stepping) {
		emit(run_step(c, "fill"));
		emit(run_step(c, "churn"));
		churn_destroy(c);
		return 0;
	}
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strcmp(line, "fill") || !strcmp(line, "churn"))
			emit(run_step(c, line));
		else if (!strcmp(line, "sample"))
			emit(json_pack("{s:s,s:o}", "t", "sample", "point", churn_sample(c)));
		else if (!strcmp(line, "exit"))
			break;
		else
			die("unknown command \"%s\"", line);
	}
	churn_destroy(c);
	return 0;
}
