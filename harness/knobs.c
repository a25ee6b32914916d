// SPDX-License-Identifier: GPL-2.0
/*
 * The allow-list of kernel knobs a config may set, and how to read, check and
 * name them. Writing happens only through the transaction in settings.c.
 */
#include "mmrepro/settings.h"
#include "mmrepro/env.h"
#include "mmrepro/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THP_DIR	    "/sys/kernel/mm/transparent_hugepage"
#define HUGETLB_DIR "/sys/kernel/mm/hugepages"

const char *const mmr_knob_patterns[] = {
	"thp.{enabled,defrag,shmem_enabled,use_zero_page}",
	"thp.<size>.{enabled,shmem_enabled}   (per-size mTHP, e.g. thp.64K.enabled)",
	"thp.khugepaged.{defrag,pages_to_scan,scan_sleep_millisecs,alloc_sleep_millisecs,"
	"max_ptes_none,max_ptes_swap,max_ptes_shared}",
	"hugetlb.<size>.{nr_hugepages,nr_overcommit_hugepages}   (e.g. hugetlb.2M.nr_hugepages)",
	"vm.{overcommit_memory,overcommit_ratio,max_map_count}",
	"kernel.{shmmax,shmall,shmmni}",
	NULL,
};

static const char *const thp_top[] = { "enabled", "defrag", "shmem_enabled", "use_zero_page" };
static const char *const thp_size[] = { "enabled", "shmem_enabled" };
static const char *const khugepaged[] = {
	"defrag",	 "pages_to_scan", "scan_sleep_millisecs", "alloc_sleep_millisecs",
	"max_ptes_none", "max_ptes_swap", "max_ptes_shared"
};
static const char *const hugetlb[] = { "nr_hugepages", "nr_overcommit_hugepages" };
static const char *const vm[] = { "overcommit_memory", "overcommit_ratio", "max_map_count" };
static const char *const kernel[] = { "shmmax", "shmall", "shmmni" };

static int pick(const char *word, const char *const *list, size_t n, char *err, size_t errlen,
		const char *name)
{
	const char *near;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(word, list[i]))
			return (int)i;
	near = mmr_did_you_mean(word, list, n);
	if (near)
		snprintf(err, errlen, "unknown knob \"%s\" (did you mean \"%.*s%s\"?)", name,
			 (int)(strlen(name) - strlen(word)), name, near);
	else
		snprintf(err, errlen, "unknown knob \"%s\"", name);
	return -1;
}

/* "64K" -> 64 (kB) and the canonical spelling. */
static int size_part(const char *text, size_t len, uint64_t *kb, char *canon, size_t clen)
{
	char buf[32];
	uint64_t bytes;

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (mmr_parse_size(buf, &bytes) || bytes < 4096 || bytes % 1024)
		return -EINVAL;
	*kb = bytes / 1024;
	mmr_format_size(bytes, canon, clen);
	return 0;
}

static void set_path(struct mmr_knob *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_path(struct mmr_knob *k, const char *fmt, ...)
{
	char rel[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(k->path, sizeof(k->path), "%s%s", mmr_sys_root(), rel);
}

int mmr_knob_resolve(const char *name, struct mmr_knob *k, char *err, size_t errlen)
{
	const char *dot = strchr(name, '.'), *last = strrchr(name, '.');
	char canon[32];
	uint64_t kb;
	int i;

	memset(k, 0, sizeof(*k));
	snprintf(err, errlen,
		 "unknown knob \"%s\"; allowed: thp.*, hugetlb.<size>.*, vm.*, kernel.*", name);
	if (!dot || strlen(name) >= sizeof(k->name))
		return -EINVAL;
	if (!strncmp(name, "thp.khugepaged.", 15)) {
		i = pick(name + 15, khugepaged, MMR_ARRAY_SIZE(khugepaged), err, errlen, name);
		if (i < 0)
			return -EINVAL;
		set_path(k, THP_DIR "/khugepaged/%s", khugepaged[i]);
		snprintf(k->name, sizeof(k->name), "thp.khugepaged.%s", khugepaged[i]);
		return 0;
	}
	if (!strncmp(name, "thp.", 4) && dot == last) {
		i = pick(name + 4, thp_top, MMR_ARRAY_SIZE(thp_top), err, errlen, name);
		if (i < 0)
			return -EINVAL;
		set_path(k, THP_DIR "/%s", thp_top[i]);
		k->bracketed = i != 3;
		snprintf(k->name, sizeof(k->name), "thp.%s", thp_top[i]);
		return 0;
	}
	if (!strncmp(name, "thp.", 4) || !strncmp(name, "hugetlb.", 8)) {
		bool thp = name[0] == 't';
		const char *sz = dot + 1;

		if (size_part(sz, last - sz, &kb, canon, sizeof(canon))) {
			snprintf(err, errlen,
				 "knob \"%s\": expected a page size like 64K or 2M after \"%s.\"",
				 name, thp ? "thp" : "hugetlb");
			return -EINVAL;
		}
		if (thp) {
			i = pick(last + 1, thp_size, MMR_ARRAY_SIZE(thp_size), err, errlen, name);
			if (i < 0)
				return -EINVAL;
			set_path(k, THP_DIR "/hugepages-%llukB/%s", (unsigned long long)kb,
				 thp_size[i]);
			k->bracketed = true;
			snprintf(k->name, sizeof(k->name), "thp.%s.%s", canon, thp_size[i]);
		} else {
			i = pick(last + 1, hugetlb, MMR_ARRAY_SIZE(hugetlb), err, errlen, name);
			if (i < 0)
				return -EINVAL;
			set_path(k, HUGETLB_DIR "/hugepages-%llukB/%s", (unsigned long long)kb,
				 hugetlb[i]);
			k->hugetlb_kb = i == 0 ? kb : 0;
			snprintf(k->name, sizeof(k->name), "hugetlb.%s.%s", canon, hugetlb[i]);
		}
		return 0;
	}
	if (!strncmp(name, "vm.", 3) && dot == last) {
		i = pick(name + 3, vm, MMR_ARRAY_SIZE(vm), err, errlen, name);
		if (i < 0)
			return -EINVAL;
		set_path(k, "/proc/sys/vm/%s", vm[i]);
		snprintf(k->name, sizeof(k->name), "vm.%s", vm[i]);
		return 0;
	}
	if (!strncmp(name, "kernel.", 7) && dot == last) {
		i = pick(name + 7, kernel, MMR_ARRAY_SIZE(kernel), err, errlen, name);
		if (i < 0)
			return -EINVAL;
		set_path(k, "/proc/sys/kernel/%s", kernel[i]);
		snprintf(k->name, sizeof(k->name), "kernel.%s", kernel[i]);
		return 0;
	}
	return -EINVAL;
}

bool mmr_knob_exists(const struct mmr_knob *k)
{
	return mmr_path_exists(k->path);
}

int mmr_knob_read(const struct mmr_knob *k, char *val, size_t len)
{
	char buf[512], *open, *close;
	ssize_t n = mmr_read_file(k->path, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	open = strchr(buf, '[');
	close = open ? strchr(open, ']') : NULL;
	if (k->bracketed && open && close) {
		*close = '\0';
		snprintf(val, len, "%s", open + 1);
	} else {
		char *s = buf;

		while (isspace((unsigned char)*s))
			s++;
		snprintf(val, len, "%s", s);
	}
	return 0;
}

int mmr_knob_check_value(const struct mmr_knob *k, const char *value, char *err, size_t errlen)
{
	char buf[512], *save = NULL, choices[512] = "";

	if (!k->bracketed) {
		const char *s = value;

		if (!*s)
			goto bad_number;
		for (; *s; s++)
			if (!isdigit((unsigned char)*s))
				goto bad_number;
		return 0;
	}
	if (mmr_read_file(k->path, buf, sizeof(buf)) < 0) {
		snprintf(err, errlen, "knob %s: %s is not readable on this kernel", k->name,
			 k->path);
		return -ENOENT;
	}
	for (char *w = strtok_r(buf, " []", &save); w; w = strtok_r(NULL, " []", &save)) {
		if (!strcmp(w, value))
			return 0;
		size_t l = strlen(choices);

		snprintf(choices + l, sizeof(choices) - l, "%s%s", l ? "|" : "", w);
	}
	snprintf(err, errlen, "expected one of %s, got \"%s\"", choices, value);
	return -EINVAL;
bad_number:
	snprintf(err, errlen, "expected a non-negative integer, got \"%s\"", value);
	return -EINVAL;
}

static void add_knob(json_t *out, const char *name)
{
	struct mmr_knob k;
	char err[256], val[128];

	if (mmr_knob_resolve(name, &k, err, sizeof(err)) || !mmr_knob_exists(&k))
		return;
	if (mmr_knob_read(&k, val, sizeof(val)) == 0)
		json_object_set_new(out, k.name, json_string(val));
}

/* hugepages-<N>kB entries of a directory, ascending. */
unsigned mmr_list_hugepage_dirs(const char *dir, uint64_t *kb, unsigned max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		unsigned long long v;

		if (sscanf(e->d_name, "hugepages-%llukB", &v) == 1)
			kb[n++] = v;
	}
	closedir(d);
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && kb[j - 1] > kb[j]; j--) {
			uint64_t t = kb[j];

			kb[j] = kb[j - 1];
			kb[j - 1] = t;
		}
	return n;
}

json_t *mmr_knobs_json(void)
{
	json_t *out = json_object();
	uint64_t kb[MMR_MAX_SIZES];
	char dir[512], name[96], sz[16];
	unsigned n;

	for (size_t i = 0; i < MMR_ARRAY_SIZE(thp_top); i++) {
		snprintf(name, sizeof(name), "thp.%s", thp_top[i]);
		add_knob(out, name);
	}
	snprintf(dir, sizeof(dir), "%s" THP_DIR, mmr_sys_root());
	n = mmr_list_hugepage_dirs(dir, kb, MMR_MAX_SIZES);
	for (unsigned s = 0; s < n; s++) {
		mmr_format_size(kb[s] * 1024, sz, sizeof(sz));
		for (size_t i = 0; i < MMR_ARRAY_SIZE(thp_size); i++) {
			snprintf(name, sizeof(name), "thp.%s.%s", sz, thp_size[i]);
			add_knob(out, name);
		}
	}
	for (size_t i = 0; i < MMR_ARRAY_SIZE(khugepaged); i++) {
		snprintf(name, sizeof(name), "thp.khugepaged.%s", khugepaged[i]);
		add_knob(out, name);
	}
	snprintf(dir, sizeof(dir), "%s" HUGETLB_DIR, mmr_sys_root());
	n = mmr_list_hugepage_dirs(dir, kb, MMR_MAX_SIZES);
	for (unsigned s = 0; s < n; s++) {
		mmr_format_size(kb[s] * 1024, sz, sizeof(sz));
		for (size_t i = 0; i < MMR_ARRAY_SIZE(hugetlb); i++) {
			snprintf(name, sizeof(name), "hugetlb.%s.%s", sz, hugetlb[i]);
			add_knob(out, name);
		}
	}
	for (size_t i = 0; i < MMR_ARRAY_SIZE(vm); i++) {
		snprintf(name, sizeof(name), "vm.%s", vm[i]);
		add_knob(out, name);
	}
	for (size_t i = 0; i < MMR_ARRAY_SIZE(kernel); i++) {
		snprintf(name, sizeof(name), "kernel.%s", kernel[i]);
		add_knob(out, name);
	}
	return out;
}
