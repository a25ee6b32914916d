// SPDX-License-Identifier: GPL-2.0
/* Objects that outlive their creator, recorded before they exist; see
 * resources.h. */
#include "mmrepro/resources.h"
#include "mmrepro/settings.h"
#include "mmrepro/util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/shm.h>
#include <unistd.h>

#define RECORD_VERSION	   1
#define GROUP_EXIT_WAIT_NS (5ULL * 1000 * 1000 * 1000)

/* The calling process's records. A forked child starts with none of its own:
 * what it inherited belongs to its parent. */
static struct {
	pid_t owner;
	json_t *objects;
} mine;

static void record_path(pid_t pid, char *buf, size_t len)
{
	snprintf(buf, len, "%s/resources-%d.json", mmr_state_dir(), (int)pid);
}

static json_t *my_objects(void)
{
	if (mine.owner != getpid() || !mine.objects) {
		mine.objects = json_array();
		mine.owner = getpid();
	}
	return mine.objects;
}

static int write_record(const char *path, pid_t pid, json_t *objects)
{
	pid_t pgid = getpgid(pid);
	json_t *doc;
	char *text;
	int ret;

	doc = json_pack("{s:i,s:i,s:I,s:i,s:I,s:O}", "version", RECORD_VERSION, "pid", (int)pid,
			"pid_start", (json_int_t)mmr_proc_start_time(pid), "pgid", (int)pgid,
			"pgid_start", (json_int_t)mmr_proc_start_time(pgid), "objects", objects);
	text = doc ? json_dumps(doc, JSON_INDENT(1)) : NULL;
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	ret = mmr_write_atomic(path, text, strlen(text));
	free(text);
	return ret;
}

/* Write the caller's records out (or remove the file when there are none). */
static int save_mine(void)
{
	json_t *objects = my_objects();
	char path[512];
	int ret;

	record_path(getpid(), path, sizeof(path));
	if (json_array_size(objects) == 0)
		return unlink(path) && errno != ENOENT ? -errno : 0;
	ret = mmr_mkdirs(mmr_state_dir(), 0755);
	return ret ? ret : write_record(path, getpid(), objects);
}

static int add_mine(json_t *obj)
{
	json_t *objects = my_objects();
	int ret;

	if (!obj)
		return -ENOMEM;
	json_array_append_new(objects, obj);
	ret = save_mine();
	if (ret)
		json_array_remove(objects, json_array_size(objects) - 1);
	return ret;
}

static bool same_object(json_t *a, const char *kind, json_int_t key, const char *path)
{
	if (strcmp(json_string_value(json_object_get(a, "kind")), kind))
		return false;
	if (path)
		return !strcmp(json_string_value(json_object_get(a, "path")), path);
	return json_integer_value(json_object_get(a, "key")) == key;
}

static int drop_mine(const char *kind, json_int_t key, const char *path)
{
	json_t *objects = my_objects(), *o;
	size_t i;

	json_array_foreach (objects, i, o) {
		if (same_object(o, kind, key, path)) {
			json_array_remove(objects, i);
			return save_mine();
		}
	}
	return 0;
}

int mmr_shm_create(uint64_t size, int shmflg, key_t *key)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		key_t k;
		int id, err;

		if (getrandom(&k, sizeof(k), 0) != (ssize_t)sizeof(k))
			return -errno;
		k &= 0x7fffffff;
		if (k == IPC_PRIVATE)
			continue;
		err = add_mine(json_pack("{s:s,s:I,s:i}", "kind", "sysv_shm", "key", (json_int_t)k,
					 "creator", (int)getpid()));
		if (err)
			return err;
		id = shmget(k, size, IPC_CREAT | IPC_EXCL | 0600 | shmflg);
		if (id >= 0) {
			*key = k;
			return id;
		}
		err = errno;
		drop_mine("sysv_shm", k, NULL);
		if (err != EEXIST)
			return -err;
	}
	return -EEXIST;
}

int mmr_shm_remove(int shmid, key_t key)
{
	int ret = 0;

	if (shmctl(shmid, IPC_RMID, NULL) && errno != EINVAL && errno != EIDRM)
		ret = -errno;
	if (!ret)
		ret = drop_mine("sysv_shm", key, NULL);
	return ret;
}

int mmr_resource_file_add(const char *path)
{
	return add_mine(json_pack("{s:s,s:s}", "kind", "file", "path", path));
}

int mmr_resource_file_drop(const char *path)
{
	return drop_mine("file", 0, path);
}

int mmr_resource_dir_add(const char *path, const char *parent)
{
	json_t *o = json_pack("{s:s,s:s}", "kind", "dir", "path", path);

	if (o && parent)
		json_object_set_new(o, "parent", json_string(parent));
	return add_mine(o);
}

int mmr_resource_dir_drop(const char *path)
{
	return drop_mine("dir", 0, path);
}

/* ---- reclaiming what a gone process left ---- */

/* Is any process of the group still running (zombies have let go of their
 * memory and attachments already)? */
static bool group_has_live_members(pid_t pgid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool live = false;

	if (!d)
		return false;
	while (!live && (e = readdir(d))) {
		char path[300], buf[512], state;
		int ppid, pgrp;
		char *p;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (mmr_read_file(path, buf, sizeof(buf)) < 0 || !(p = strrchr(buf, ')')))
			continue;
		if (sscanf(p + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid &&
		    state != 'Z' && state != 'X')
			live = true;
	}
	closedir(d);
	return live;
}

/*
 * Kill the process group a record's owner ran in and wait for it to be gone.
 * The group is only signalled while it can still be the recorded one: its
 * leader is alive with the recorded start time, or the leader is gone (a
 * process group id is not handed out again while any member lives).
 */
static void stop_group(pid_t pgid, unsigned long long leader_start)
{
	unsigned long long now;
	uint64_t deadline = mmr_now_ns() + GROUP_EXIT_WAIT_NS;

	if (pgid <= 1 || pgid == getpgrp())
		return;
	now = mmr_proc_start_time(pgid);
	if (now && now != leader_start)
		return;
	kill(-pgid, SIGKILL);
	while (group_has_live_members(pgid) && mmr_now_ns() < deadline)
		usleep(10 * 1000);
}

static void note(json_t *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(json_t *log, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	mmr_info("%s", line);
	if (log)
		json_array_append_new(log, json_string(line));
}

/* 1 removed, 0 nothing to do (already gone, or no longer ours), -errno. */
static int remove_object(json_t *o, int owner, json_t *log)
{
	const char *kind = json_string_value(json_object_get(o, "kind"));

	if (kind && !strcmp(kind, "sysv_shm")) {
		key_t key = (key_t)json_integer_value(json_object_get(o, "key"));
		pid_t creator = (pid_t)json_integer_value(json_object_get(o, "creator"));
		struct shmid_ds ds;
		int id = shmget(key, 0, 0);

		if (id < 0)
			return errno == ENOENT ? 0 : -errno;
		if (shmctl(id, IPC_STAT, &ds))
			return errno == EINVAL || errno == EIDRM ? 0 : -errno;
		if (ds.shm_cpid != creator) {
			note(log, "SysV key 0x%x now belongs to a segment of pid %d; left alone",
			     (unsigned)key, (int)ds.shm_cpid);
			return 0;
		}
		if (shmctl(id, IPC_RMID, NULL))
			return -errno;
		note(log, "removed SysV segment key 0x%x (shmid %d, %zu bytes) left by pid %d",
		     (unsigned)key, id, (size_t)ds.shm_segsz, owner);
		return 1;
	}
	if (kind && !strcmp(kind, "file")) {
		const char *path = json_string_value(json_object_get(o, "path"));

		if (!path || unlink(path))
			return !path || errno == ENOENT ? 0 : -errno;
		note(log, "removed %s left by pid %d", path, owner);
		return 1;
	}
	if (kind && !strcmp(kind, "dir")) {
		const char *path = json_string_value(json_object_get(o, "path"));
		const char *parent = json_string_value(json_object_get(o, "parent"));
		int err = 0;

		if (!path)
			return 0;
		/* a cgroup whose last process just died may read busy briefly */
		for (int i = 0; i < 100; i++) {
			err = rmdir(path) ? errno : 0;
			if (err != EBUSY)
				break;
			usleep(10 * 1000);
		}
		if (err)
			return err == ENOENT ? 0 : -err;
		note(log, "removed %s left by pid %d", path, owner);
		if (parent)
			rmdir(parent); /* fails while anything else is in it: fine */
		return 1;
	}
	return 0; /* a kind this version does not know: nothing it can do */
}

static int reclaim_record(const char *path, json_t *log)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, 0, &jerr), *objects, *left, *o;
	int owner, removed = 0, failed = 0, ret;
	size_t i;

	if (!doc) {
		mmr_err("%s: unreadable (%s); remove what it names by hand, then the file", path,
			jerr.text);
		return -EINVAL;
	}
	owner = (int)json_integer_value(json_object_get(doc, "pid"));
	if (owner == getpid()) { /* the caller's own, live records */
		json_decref(doc);
		return 0;
	}
	stop_group((pid_t)json_integer_value(json_object_get(doc, "pgid")),
		   (unsigned long long)json_integer_value(json_object_get(doc, "pgid_start")));
	/* read again: the owner may have recorded more before it died */
	json_decref(doc);
	doc = json_load_file(path, 0, &jerr);
	if (!doc)
		return errno == ENOENT ? 0 : -EINVAL;
	objects = json_object_get(doc, "objects");
	left = json_array();
	json_array_foreach (objects, i, o) {
		ret = remove_object(o, owner, log);
		if (ret > 0)
			removed++;
		if (ret < 0) {
			mmr_warn("%s: could not remove %s: %s", path,
				 json_string_value(json_object_get(o, "kind")), strerror(-ret));
			json_array_append(left, o);
			failed = ret;
		}
	}
	if (json_array_size(left)) {
		char *text;

		json_object_set(doc, "objects", left);
		text = json_dumps(doc, JSON_INDENT(1));
		if (text)
			mmr_write_atomic(path, text, strlen(text));
		free(text);
	} else {
		unlink(path);
	}
	json_decref(left);
	json_decref(doc);
	return failed ? failed : removed;
}

int mmr_resources_reclaim(json_t *log)
{
	DIR *d = opendir(mmr_state_dir());
	struct dirent *e;
	int total = 0, failed = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		char path[512];
		int pid, ret;

		if (sscanf(e->d_name, "resources-%d.json", &pid) != 1 ||
		    strcmp(strrchr(e->d_name, '.'), ".json"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", mmr_state_dir(), e->d_name);
		ret = reclaim_record(path, log);
		if (ret < 0)
			failed = ret;
		else
			total += ret;
	}
	closedir(d);
	return failed ? failed : total;
}

bool mmr_resources_pending(void)
{
	DIR *d = opendir(mmr_state_dir());
	struct dirent *e;
	bool found = false;
	int pid;

	while (d && !found && (e = readdir(d)))
		found = sscanf(e->d_name, "resources-%d.json", &pid) == 1 && pid != getpid();
	if (d)
		closedir(d);
	return found;
}
