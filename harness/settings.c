// SPDX-License-Identifier: GPL-2.0
/*
 * The settings transaction: lock, journal, apply, restore.
 *
 * The journal is written (temp file, fsync, rename) before the first knob is
 * written and removed only after every knob reads back its old value, so at
 * any instant either nothing has changed or the journal says how to undo it.
 * A copy of the journal lives in static arrays too, so a fatal-signal handler
 * can restore with nothing but open/write/close.
 */
#include "mmrepro/settings.h"
#include "mmrepro/env.h"
#include "mmrepro/resources.h"
#include "mmrepro/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_VERSION 1
#define MAX_KNOBS	128

struct mmr_txn {
	size_t n;
	struct mmr_knob knobs[MAX_KNOBS];
	char baseline[MAX_KNOBS][128];
	char journal[512];
	int pgid;
	unsigned long long pgid_start;
};

/* Emergency copy for signal handlers: plain arrays, no allocation. */
static struct {
	volatile sig_atomic_t live;
	size_t n;
	char path[MAX_KNOBS][256];
	char value[MAX_KNOBS][128];
	char journal[512];
	volatile sig_atomic_t pgid;
} emerg;

static int lock_fd = -1;

const char *mmr_state_dir(void)
{
	static char dir[256];
	const char *env = getenv("MMREPRO_STATE_DIR");

	if (env && *env)
		return env;
	if (geteuid() == 0)
		return "/run/mmrepro";
	snprintf(dir, sizeof(dir), "/tmp/mmrepro-%u", (unsigned)geteuid());
	return dir;
}

static void journal_path(char *buf, size_t len)
{
	snprintf(buf, len, "%s/journal.json", mmr_state_dir());
}

static int restore_journal(const char *path, unsigned *restored)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr), *knobs, *e;
	size_t i, failures = 0;
	json_int_t pgid;

	if (!j) {
		mmr_err("%s: unreadable journal (%s); restore the knobs it names by hand and delete it",
			path, jerr.text);
		return -EINVAL;
	}
	pgid = json_integer_value(json_object_get(j, "pgid"));
	if (pgid > 1 && (unsigned long long)json_integer_value(json_object_get(j, "pgid_start")) ==
				mmr_proc_start_time((int)pgid)) {
		mmr_info("killing process group %lld left by pid %lld", (long long)pgid,
			 (long long)json_integer_value(json_object_get(j, "pid")));
		kill(-(pid_t)pgid, SIGKILL);
	}
	knobs = json_object_get(j, "knobs");
	/* Undo in reverse order of the snapshot. */
	for (i = json_array_size(knobs); i-- > 0;) {
		const char *kpath, *val;
		char now[128];
		struct mmr_knob k = { 0 };

		e = json_array_get(knobs, i);
		kpath = json_string_value(json_object_get(e, "path"));
		val = json_string_value(json_object_get(e, "value"));
		if (!kpath || !val)
			continue;
		snprintf(k.path, sizeof(k.path), "%s", kpath);
		k.bracketed = json_is_true(json_object_get(e, "bracketed"));
		if (mmr_knob_read(&k, now, sizeof(now)) == 0 && !strcmp(now, val))
			continue;
		if (mmr_write_file(kpath, val) < 0 || mmr_knob_read(&k, now, sizeof(now)) ||
		    strcmp(now, val)) {
			mmr_err("could not restore %s to \"%s\"", kpath, val);
			failures++;
			continue;
		}
		if (restored)
			(*restored)++;
	}
	json_decref(j);
	if (failures)
		return -EIO;
	unlink(path);
	return 0;
}

static int recover(unsigned *restored, bool *had)
{
	char path[512];
	int ret, removed;

	/* Objects first: a SysV hugetlb segment holds pool pages, so the pool
	 * size can only go back once the segment is gone. */
	removed = mmr_resources_reclaim(NULL);
	if (removed < 0)
		mmr_warn("some objects left by an mmrepro that did not finish could not be "
			 "removed; their records stay in %s",
			 mmr_state_dir());
	journal_path(path, sizeof(path));
	if (had)
		*had = mmr_path_exists(path) || removed > 0;
	if (!mmr_path_exists(path))
		return 0;
	ret = restore_journal(path, restored);
	if (ret == 0)
		mmr_info("restored %u knob(s) from %s, left by an mmrepro that did not finish",
			 restored ? *restored : 0, path);
	return ret;
}

static int take_lock(bool may_wait)
{
	char path[512];
	double wait = 0;
	const char *env = may_wait ? getenv("MMREPRO_LOCK_WAIT") : NULL;
	uint64_t deadline;
	int ret;

	if (lock_fd >= 0)
		return 0;
	ret = mmr_mkdirs(mmr_state_dir(), 0755);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/lock", mmr_state_dir());
	lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lock_fd < 0)
		return -errno;
	if (env)
		mmr_parse_duration(env, &wait);
	deadline = mmr_now_ns() + (uint64_t)(wait * 1e9);
	while (flock(lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK || mmr_now_ns() >= deadline) {
			close(lock_fd);
			lock_fd = -1;
			return -EBUSY;
		}
		usleep(100 * 1000);
	}
	return 0;
}

int mmr_lock_and_recover(unsigned *restored)
{
	int ret = take_lock(true);

	if (restored)
		*restored = 0;
	return ret ? ret : recover(restored, NULL);
}

int mmr_recover_only(unsigned *restored, bool *had)
{
	int ret = take_lock(true);

	*restored = 0;
	if (ret == 0)
		ret = recover(restored, had);
	mmr_unlock();
	return ret;
}

int mmr_recover_if_idle(void)
{
	char path[512];
	unsigned restored = 0;
	int ret;

	journal_path(path, sizeof(path));
	if (geteuid() != 0 || (!mmr_path_exists(path) && !mmr_resources_pending()))
		return 0;
	/* held: the journal is that running mmrepro's own, not a leftover */
	ret = take_lock(false);
	if (ret == 0)
		ret = recover(&restored, NULL);
	mmr_unlock();
	return ret == -EBUSY ? 0 : ret;
}

void mmr_settings_forget_in_child(void)
{
	emerg.live = 0;
	if (lock_fd >= 0) {
		close(lock_fd);
		lock_fd = -1;
	}
}

void mmr_unlock(void)
{
	if (lock_fd >= 0) {
		close(lock_fd);
		lock_fd = -1;
	}
}

static int write_journal(struct mmr_txn *t)
{
	json_t *j = json_object(), *arr = json_array();
	char *text;
	int ret;

	json_object_set_new(j, "version", json_integer(JOURNAL_VERSION));
	json_object_set_new(j, "pid", json_integer(getpid()));
	json_object_set_new(j, "pid_start",
			    json_integer((json_int_t)mmr_proc_start_time(getpid())));
	json_object_set_new(j, "pgid", json_integer(t->pgid));
	json_object_set_new(j, "pgid_start", json_integer((json_int_t)t->pgid_start));
	for (size_t i = 0; i < t->n; i++) {
		json_t *e = json_object();

		json_object_set_new(e, "name", json_string(t->knobs[i].name));
		json_object_set_new(e, "path", json_string(t->knobs[i].path));
		json_object_set_new(e, "value", json_string(t->baseline[i]));
		json_object_set_new(e, "bracketed", json_boolean(t->knobs[i].bracketed));
		json_array_append_new(arr, e);
	}
	json_object_set_new(j, "knobs", arr);
	text = json_dumps(j, JSON_INDENT(1));
	json_decref(j);
	if (!text)
		return -ENOMEM;
	ret = mmr_write_atomic(t->journal, text, strlen(text));
	free(text);
	return ret;
}

struct mmr_txn *mmr_txn_begin(const char *const *names, size_t n, char *err, size_t errlen)
{
	struct mmr_txn *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return NULL;
	if (n > MAX_KNOBS) {
		snprintf(err, errlen, "too many knobs (%zu > %d)", n, MAX_KNOBS);
		goto fail;
	}
	if (lock_fd < 0) {
		ret = mmr_lock_and_recover(NULL);
		if (ret) {
			snprintf(err, errlen, "cannot take the run lock in %s: %s", mmr_state_dir(),
				 ret == -EBUSY ? "another mmrepro is running" : strerror(-ret));
			goto fail;
		}
	}
	journal_path(t->journal, sizeof(t->journal));
	for (size_t i = 0; i < n; i++) {
		if (mmr_knob_resolve(names[i], &t->knobs[t->n], err, errlen))
			goto fail;
		if (!mmr_knob_exists(&t->knobs[t->n]))
			continue; /* cases needing it are skipped; nothing to snapshot */
		if (mmr_knob_read(&t->knobs[t->n], t->baseline[t->n], sizeof(t->baseline[0]))) {
			snprintf(err, errlen, "cannot read %s", t->knobs[t->n].path);
			goto fail;
		}
		t->n++;
	}
	if (t->n) {
		ret = write_journal(t);
		if (ret) {
			snprintf(err, errlen, "cannot write the settings journal %s: %s",
				 t->journal, strerror(-ret));
			goto fail;
		}
	}
	/* Only now that the journal is on disk may the emergency path act. */
	emerg.n = t->n;
	for (size_t i = 0; i < t->n; i++) {
		snprintf(emerg.path[i], sizeof(emerg.path[i]), "%s", t->knobs[i].path);
		snprintf(emerg.value[i], sizeof(emerg.value[i]), "%s", t->baseline[i]);
	}
	snprintf(emerg.journal, sizeof(emerg.journal), "%s", t->journal);
	emerg.live = 1;
	return t;
fail:
	free(t);
	return NULL;
}

static int find_knob(const struct mmr_txn *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->knobs[i].name, name))
			return (int)i;
	return -1;
}

static int set_knob(const struct mmr_knob *k, const char *want, char *err, size_t errlen)
{
	char now[128] = "";
	int ret;

	if (mmr_knob_read(k, now, sizeof(now)) == 0 && !strcmp(now, want))
		return 0;
	/* A hugetlb pool grows only as far as free contiguous memory allows; right
	 * after something large was freed, compaction may need another try. */
	for (int attempt = 0; attempt < (k->hugetlb_kb ? 3 : 1); attempt++) {
		if (attempt)
			usleep(300 * 1000);
		ret = mmr_write_file(k->path, want);
		if (ret) {
			snprintf(err, errlen, "%s: writing \"%s\" to %s failed: %s", k->name, want,
				 k->path, strerror(-ret));
			return ret;
		}
		if (!mmr_knob_read(k, now, sizeof(now)) && !strcmp(now, want))
			return 0;
	}
	snprintf(err, errlen, "%s: asked for \"%s\", the kernel gave \"%s\"%s", k->name, want, now,
		 k->hugetlb_kb ? " (not enough free contiguous memory for the pool?)" : "");
	return -EAGAIN;
}

int mmr_txn_apply(struct mmr_txn *t, json_t *values, json_t **applied, char *err, size_t errlen)
{
	const char *name;
	json_t *v;
	int ret = 0;

	if (applied)
		*applied = json_object();
	json_object_foreach (values, name, v) {
		if (find_knob(t, name) < 0) {
			snprintf(err, errlen, "%s: not part of this run's snapshot", name);
			return -EINVAL;
		}
	}
	/* Knobs this case does not set go back to the baseline first, so a case
	 * never inherits the previous case's settings. */
	for (size_t i = 0; i < t->n && !ret; i++)
		if (!json_object_get(values, t->knobs[i].name))
			ret = set_knob(&t->knobs[i], t->baseline[i], err, errlen);
	for (size_t i = 0; i < t->n && !ret; i++) {
		const char *want = json_string_value(json_object_get(values, t->knobs[i].name));

		if (!want)
			continue;
		ret = set_knob(&t->knobs[i], want, err, errlen);
		if (!ret && applied && strcmp(want, t->baseline[i]))
			json_object_set_new(*applied, t->knobs[i].name, json_string(want));
	}
	return ret;
}

void mmr_txn_set_pgid(struct mmr_txn *t, int pgid)
{
	t->pgid = pgid;
	t->pgid_start = pgid > 0 ? mmr_proc_start_time(pgid) : 0;
	emerg.pgid = pgid;
	if (t->n)
		write_journal(t);
}

json_t *mmr_txn_baseline(const struct mmr_txn *t)
{
	json_t *o = json_object();

	for (size_t i = 0; i < t->n; i++)
		json_object_set_new(o, t->knobs[i].name, json_string(t->baseline[i]));
	return o;
}

int mmr_txn_end(struct mmr_txn *t)
{
	char err[512];
	int failures = 0;

	if (!t)
		return 0;
	for (size_t i = t->n; i-- > 0;) {
		if (set_knob(&t->knobs[i], t->baseline[i], err, sizeof(err))) {
			mmr_err("restore: %s", err);
			failures++;
		}
	}
	if (!failures) {
		emerg.live = 0;
		if (t->n)
			unlink(t->journal);
	} else {
		mmr_err("%d knob(s) not restored; the journal %s stays for `mmrepro restore`",
			failures, t->journal);
	}
	free(t);
	return failures;
}

void mmr_txn_emergency_restore(void)
{
	if (!emerg.live)
		return;
	if (emerg.pgid > 1)
		kill(-emerg.pgid, SIGKILL);
	for (size_t i = emerg.n; i-- > 0;) {
		int fd = open(emerg.path[i], O_WRONLY | O_TRUNC);

		if (fd < 0)
			continue;
		if (write(fd, emerg.value[i], strlen(emerg.value[i])) < 0) {
			/* nothing more can be done here; the journal stays */
			close(fd);
			return;
		}
		close(fd);
	}
	unlink(emerg.journal);
	emerg.live = 0;
}
