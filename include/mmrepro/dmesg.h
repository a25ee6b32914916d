/* SPDX-License-Identifier: GPL-2.0 */
/* Kernel log findings: a marker goes to /dev/kmsg before the run; BUG, WARNING,
 * Oops, lockdep splats and the like after it are recorded in the report. */
#ifndef MMREPRO_DMESG_H
#define MMREPRO_DMESG_H

#include <jansson.h>

/* Write "mmrepro: <tag>" to /dev/kmsg. Returns 0 or -errno (non-root). */
int mmr_dmesg_mark(const char *tag);
/*
 * Scan the kernel log after the record holding `start_tag`; return
 * {"available": bool, "marker": str, "findings": [{"case": idx|null, "line":
 * str, "context": [str...]}]}. Case attribution uses "<run> case <N>" markers.
 */
json_t *mmr_dmesg_scan(const char *run_tag);
/* Is this kernel log line one that a reviewer must see? (exported for tests) */
int mmr_dmesg_is_finding(const char *msg);

#endif
