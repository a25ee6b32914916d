// SPDX-License-Identifier: GPL-2.0
/* /proc/lock_stat snapshots and their differences (see lockstat.h). */
#include "mmrepro/lockstat.h"
#include "mmrepro/env.h"
#include "mmrepro/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Numbers after "name:": con-bounces contentions waittime-min -max -total -avg
 * acq-bounces acquisitions holdtime-min -max -total -avg */
#define LS_FIELDS 12

/* A class row: "<name>:" then exactly 12 numbers. Contention-point lines
 * ("name count [<ip>] symbol") and separators do not match. */
static bool parse_row(char *line, struct mmr_lock_row *row)
{
	double f[LS_FIELDS];
	char *colon = NULL, *p, *end, *name;
	size_t len;

	/* the name may hold ':' itself; the row's colon is the last one
	 * followed only by numbers */
	for (p = line; (p = strchr(p, ':')); p++)
		colon = p;
	if (!colon)
		return false;
	p = colon + 1;
	for (int i = 0; i < LS_FIELDS; i++) {
		f[i] = strtod(p, &end);
		if (end == p)
			return false;
		p = end;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p)
		return false;
	*colon = '\0';
	for (name = line; isspace((unsigned char)*name); name++)
		;
	len = strlen(name);
	if (!len)
		return false;
	snprintf(row->name, sizeof(row->name), "%s", name);
	row->contentions = (uint64_t)f[1];
	row->wait_us = f[4];
	row->acquisitions = (uint64_t)f[7];
	row->hold_us = f[10];
	return true;
}

int mmr_lockstat_parse(const char *text, struct mmr_lockstat *out)
{
	char *copy = strdup(text), *line, *save = NULL;
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (!copy)
		return -ENOMEM;
	if (strncmp(copy, "lock_stat version 0.", 20)) {
		free(copy);
		return -EINVAL;
	}
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct mmr_lock_row row;

		if (!parse_row(line, &row))
			continue;
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct mmr_lock_row *nr = realloc(out->rows, ncap * sizeof(*nr));

			if (!nr) {
				free(copy);
				mmr_lockstat_free(out);
				return -ENOMEM;
			}
			out->rows = nr;
			cap = ncap;
		}
		out->rows[out->n++] = row;
	}
	free(copy);
	return 0;
}

int mmr_lockstat_read(struct mmr_lockstat *out, char *why, size_t len)
{
	char path[512], enabled[16];
	char *text;
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/proc/lock_stat", mmr_sys_root());
	if (!mmr_path_exists(path)) {
		snprintf(why, len,
			 "absent (no /proc/lock_stat: kernel built without CONFIG_LOCK_STAT)");
		return -ENOENT;
	}
	snprintf(path, sizeof(path), "%s/proc/sys/kernel/lock_stat", mmr_sys_root());
	if (mmr_read_file(path, enabled, sizeof(enabled)) >= 0 && !strcmp(enabled, "0")) {
		snprintf(why, len, "disabled (kernel.lock_stat=0: nothing is collected)");
		return -ENODATA;
	}
	snprintf(path, sizeof(path), "%s/proc/lock_stat", mmr_sys_root());
	text = mmr_slurp(path, NULL);
	if (!text) {
		ret = -errno;
		snprintf(why, len, "unreadable: %s: %s", path, strerror(errno));
		return ret;
	}
	ret = mmr_lockstat_parse(text, out);
	free(text);
	if (ret)
		snprintf(why, len, "unreadable: %s is not in the lock_stat 0.x format", path);
	return ret;
}

void mmr_lockstat_free(struct mmr_lockstat *s)
{
	free(s->rows);
	memset(s, 0, sizeof(*s));
}

static const struct mmr_lock_row *find(const struct mmr_lockstat *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->rows[i].name, name))
			return &s->rows[i];
	return NULL;
}

/* b's row minus a's (a class first seen in b counts from zero). */
static struct mmr_lock_row delta(const struct mmr_lockstat *a, const struct mmr_lock_row *rb)
{
	const struct mmr_lock_row *ra = find(a, rb->name);
	struct mmr_lock_row d = *rb;

	if (ra) {
		d.contentions =
			rb->contentions > ra->contentions ? rb->contentions - ra->contentions : 0;
		d.acquisitions = rb->acquisitions > ra->acquisitions
					 ? rb->acquisitions - ra->acquisitions
					 : 0;
		d.wait_us = rb->wait_us > ra->wait_us ? rb->wait_us - ra->wait_us : 0;
		d.hold_us = rb->hold_us > ra->hold_us ? rb->hold_us - ra->hold_us : 0;
	}
	return d;
}

void mmr_lockstat_delta_sum(const struct mmr_lockstat *a, const struct mmr_lockstat *b,
			    const char *substr, uint64_t *contentions, double *wait_us)
{
	*contentions = 0;
	*wait_us = 0;
	for (size_t i = 0; i < b->n; i++) {
		struct mmr_lock_row d;

		if (!strstr(b->rows[i].name, substr))
			continue;
		d = delta(a, &b->rows[i]);
		*contentions += d.contentions;
		*wait_us += d.wait_us;
	}
}

static int by_contentions(const void *x, const void *y)
{
	const struct mmr_lock_row *a = x, *b = y;

	return (a->contentions < b->contentions) - (a->contentions > b->contentions);
}

json_t *mmr_lockstat_delta_json(const struct mmr_lockstat *a, const struct mmr_lockstat *b,
				size_t top)
{
	struct mmr_lock_row *d = calloc(b->n ? b->n : 1, sizeof(*d));
	json_t *out = json_object();

	if (!d)
		return out;
	for (size_t i = 0; i < b->n; i++)
		d[i] = delta(a, &b->rows[i]);
	qsort(d, b->n, sizeof(*d), by_contentions);
	for (size_t i = 0; i < b->n && i < top && d[i].contentions; i++)
		json_object_set_new(out, d[i].name,
				    json_pack("{s:I,s:f,s:I,s:f}", "contentions",
					      (json_int_t)d[i].contentions, "wait_us", d[i].wait_us,
					      "acquisitions", (json_int_t)d[i].acquisitions,
					      "hold_us", d[i].hold_us));
	free(d);
	return out;
}
