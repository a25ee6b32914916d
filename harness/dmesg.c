// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel log findings. A marker record is written to /dev/kmsg before the run
 * and before each case; afterwards every record after the run marker that
 * looks like a splat is reported with the case it happened in and the lines
 * that followed it (the call trace).
 */
#include "mmrepro/dmesg.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONTEXT_LINES 24

static const char *const patterns[] = {
	"BUG:",
	"WARNING:",
	"Oops",
	"general protection fault",
	"possible circular locking",
	"possible recursive locking",
	"inconsistent lock state",
	"suspicious RCU usage",
	"Out of memory",
	"invoked oom-killer",
	"page allocation failure",
	"soft lockup",
	"hard LOCKUP",
	"blocked for more than",
	"rcu_sched self-detected stall",
	"rcu: INFO:",
	"Bad page",
	"Bad rss-counter",
	"kernel BUG at",
	"UBSAN:",
	"KASAN:",
	"list_add corruption",
	"list_del corruption",
};

int mmr_dmesg_is_finding(const char *msg)
{
	for (size_t i = 0; i < MMR_ARRAY_SIZE(patterns); i++)
		if (strstr(msg, patterns[i]))
			return 1;
	return 0;
}

int mmr_dmesg_mark(const char *tag)
{
	char buf[256];
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	int n, ret = 0;

	if (fd < 0)
		return -errno;
	/* <5> = notice, so the marker shows in a default-level console log too */
	n = snprintf(buf, sizeof(buf), "<5>mmrepro: %s\n", tag);
	if (write(fd, buf, (size_t)n) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* The text of one /dev/kmsg record: "pri,seq,ts,flags;text\n[ KEY=val\n]" */
static char *record_text(char *rec)
{
	char *semi = strchr(rec, ';'), *nl;

	if (!semi)
		return NULL;
	nl = strchr(semi + 1, '\n');
	if (nl)
		*nl = '\0';
	return semi + 1;
}

json_t *mmr_dmesg_scan(const char *run_tag)
{
	json_t *out = json_object(), *findings = json_array(), *cur = NULL;
	char rec[8192], start[256], case_prefix[256];
	json_t *case_idx = json_null();
	bool after = false;
	int fd, ctx_left = 0;

	snprintf(start, sizeof(start), "mmrepro: %s begin", run_tag);
	snprintf(case_prefix, sizeof(case_prefix), "mmrepro: %s case ", run_tag);
	json_object_set_new(out, "marker", json_string(start));
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	json_object_set_new(out, "available", json_boolean(fd >= 0));
	if (fd < 0) {
		json_object_set_new(out, "reason", json_string(strerror(errno)));
		json_object_set_new(out, "findings", findings);
		json_decref(case_idx);
		return out;
	}
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *text;

		if (n < 0) {
			if (errno == EPIPE) /* overwritten while we read: go on */
				continue;
			if (errno == EINTR)
				continue;
			break; /* EAGAIN: end of the log */
		}
		rec[n] = '\0';
		text = record_text(rec);
		if (!text)
			continue;
		if (!after) {
			after = !strcmp(text, start);
			continue;
		}
		if (!strncmp(text, case_prefix, strlen(case_prefix))) {
			json_decref(case_idx);
			case_idx = json_integer(strtol(text + strlen(case_prefix), NULL, 10));
			ctx_left = 0;
			continue;
		}
		if (mmr_dmesg_is_finding(text)) {
			cur = json_object();
			json_object_set(cur, "case", case_idx);
			json_object_set_new(cur, "line", json_string(text));
			json_object_set_new(cur, "context", json_array());
			json_array_append_new(findings, cur);
			ctx_left = CONTEXT_LINES;
		} else if (ctx_left > 0 && cur) {
			json_array_append_new(json_object_get(cur, "context"), json_string(text));
			ctx_left--;
		}
	}
	close(fd);
	json_decref(case_idx);
	json_object_set_new(out, "marker_found", json_boolean(after));
	json_object_set_new(out, "findings", findings);
	return out;
}
