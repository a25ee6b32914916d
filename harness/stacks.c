// SPDX-License-Identifier: GPL-2.0
/* Kernel stacks of a stuck process group, for the report of a hang. */
#include "mmrepro/runner.h"
#include "mmrepro/util.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long pgrp_of(const char *pid)
{
	char path[300], buf[1024], *p;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if (mmr_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strrchr(buf, ')'); /* comm may hold spaces and parens */
	if (!p)
		return -1;
	/* ") S ppid pgrp": skip the state, read ppid, then pgrp */
	strtol(p + 4, &p, 10);
	return strtol(p, NULL, 10);
}

static json_t *task_json(const char *pid, const char *tid)
{
	char path[600], buf[16384];
	json_t *t = json_object();

	snprintf(path, sizeof(path), "/proc/%s/task/%s/comm", pid, tid);
	json_object_set_new(t, "comm",
			    mmr_read_file(path, buf, sizeof(buf)) >= 0 ? json_string(buf)
								       : json_null());
	snprintf(path, sizeof(path), "/proc/%s/task/%s/wchan", pid, tid);
	json_object_set_new(t, "wchan",
			    mmr_read_file(path, buf, sizeof(buf)) >= 0 ? json_string(buf)
								       : json_null());
	snprintf(path, sizeof(path), "/proc/%s/task/%s/stack", pid, tid);
	json_object_set_new(t, "stack",
			    mmr_read_file(path, buf, sizeof(buf)) >= 0
				    ? json_string(buf)
				    : json_string("(unreadable: needs root)"));
	return t;
}

json_t *mmr_capture_stacks(pid_t pgid)
{
	json_t *out = json_object();
	DIR *proc = opendir("/proc");
	struct dirent *e;

	if (!proc)
		return out;
	while ((e = readdir(proc))) {
		char tdir[300];
		DIR *tasks;
		struct dirent *t;
		json_t *procj;

		if (!isdigit((unsigned char)e->d_name[0]) || pgrp_of(e->d_name) != pgid)
			continue;
		snprintf(tdir, sizeof(tdir), "/proc/%s/task", e->d_name);
		tasks = opendir(tdir);
		if (!tasks)
			continue;
		procj = json_object();
		while ((t = readdir(tasks)))
			if (isdigit((unsigned char)t->d_name[0]))
				json_object_set_new(procj, t->d_name,
						    task_json(e->d_name, t->d_name));
		closedir(tasks);
		json_object_set_new(out, e->d_name, procj);
	}
	closedir(proc);
	return out;
}
