// SPDX-License-Identifier: GPL-2.0
/*
 * The settings transaction against a fake sysfs: journal written before the
 * first write, values restored on end, after SIGKILL (by the next start) and
 * by the signal-safe emergency path; the lock keeps two runs apart.
 */
#include "check.h"
#include "fakesys.h"
#include "mmrepro/settings.h"

#include <signal.h>
#include <sys/wait.h>

static const char *const names[] = { "thp.enabled", "thp.64K.enabled",
				     "thp.khugepaged.scan_sleep_millisecs", "thp.32K.enabled" };

static bool journal_exists(void)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/journal.json", mmr_state_dir());
	return mmr_path_exists(path);
}

static void check_baseline(void)
{
	CHECK_STR(fake_read(THP "/enabled"), "madvise");
	CHECK_STR(fake_read(THP "/hugepages-64kB/enabled"), "never");
	CHECK_STR(fake_read(THP "/khugepaged/scan_sleep_millisecs"), "10000");
}

static json_t *values(const char *a, const char *b)
{
	return json_pack("{s:s,s:s}", "thp.enabled", a, "thp.64K.enabled", b);
}

/* In a child: change knobs, then die the given way. */
static void change_and_die(int how)
{
	char err[512];
	struct mmr_txn *t = mmr_txn_begin(names, 4, err, sizeof(err));
	json_t *v = values("never", "madvise");

	if (!t || mmr_txn_apply(t, v, NULL, err, sizeof(err)))
		_exit(3);
	if (how == SIGKILL)
		raise(SIGKILL);
	mmr_txn_emergency_restore();
	_exit(0);
}

static int run_child(int how)
{
	pid_t pid = fork();
	int st;

	if (pid == 0)
		change_and_die(how);
	waitpid(pid, &st, 0);
	return st;
}

int main(void)
{
	char err[512], jpath[512];
	struct mmr_txn *t;
	json_t *v, *applied = NULL, *j;
	unsigned restored = 0;
	int st;

	/* the lock-contention check expects a refusal, not a queue */
	unsetenv("MMREPRO_LOCK_WAIT");
	fake_tree();
	snprintf(jpath, sizeof(jpath), "%s/journal.json", mmr_state_dir());

	/* round trip */
	t = mmr_txn_begin(names, 4, err, sizeof(err));
	CHECK(t != NULL);
	if (!t) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	CHECK(journal_exists());
	j = json_load_file(jpath, 0, NULL);
	CHECK(json_array_size(json_object_get(j, "knobs")) ==
	      3); /* 32K is absent: not snapshotted */
	CHECK_STR(json_string_value(
			  json_object_get(json_array_get(json_object_get(j, "knobs"), 0), "value")),
		  "madvise");
	json_decref(j);
	v = values("never", "madvise");
	CHECK(mmr_txn_apply(t, v, &applied, err, sizeof(err)) == 0);
	json_decref(v);
	CHECK_STR(fake_read(THP "/enabled"), "never");
	CHECK_STR(fake_read(THP "/hugepages-64kB/enabled"), "madvise");
	CHECK(json_object_size(applied) == 2);
	json_decref(applied);
	/* the next case sets another knob: the earlier ones go back to the baseline */
	v = json_pack("{s:s}", "thp.khugepaged.scan_sleep_millisecs", "600000");
	CHECK(mmr_txn_apply(t, v, NULL, err, sizeof(err)) == 0);
	json_decref(v);
	CHECK_STR(fake_read(THP "/enabled"), "madvise");
	CHECK_STR(fake_read(THP "/hugepages-64kB/enabled"), "never");
	CHECK_STR(fake_read(THP "/khugepaged/scan_sleep_millisecs"), "600000");
	/* a knob outside the snapshot is refused, not written */
	v = json_pack("{s:s}", "vm.max_map_count", "1000000");
	CHECK(mmr_txn_apply(t, v, NULL, err, sizeof(err)) != 0);
	CHECK_STR(err, "vm.max_map_count: not part of this run's snapshot");
	json_decref(v);
	CHECK_STR(fake_read("/proc/sys/vm/max_map_count"), "65530");

	/* a second run cannot take the lock while this one holds it */
	if (fork() == 0) {
		mmr_settings_forget_in_child(); /* as a separate process would be */
		_exit(mmr_lock_and_recover(NULL) == -EBUSY ? 0 : 1);
	}
	wait(&st);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	CHECK(mmr_txn_end(t) == 0);
	check_baseline();
	CHECK(!journal_exists());
	mmr_unlock();

	/* SIGKILL: the journal survives, the next start restores */
	st = run_child(SIGKILL);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CHECK(journal_exists());
	CHECK_STR(fake_read(THP "/enabled"), "never");
	CHECK(mmr_lock_and_recover(&restored) == 0);
	CHECK(restored == 2);
	check_baseline();
	CHECK(!journal_exists());
	mmr_unlock();

	/* the signal-safe path restores and removes the journal */
	st = run_child(0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	check_baseline();
	CHECK(!journal_exists());

	/* a corrupt journal is reported, kept, and nothing is guessed */
	fake_file("/state/journal.json", "{ not json");
	CHECK(mmr_lock_and_recover(&restored) == -EINVAL);
	CHECK(journal_exists());
	mmr_unlock();

	fake_cleanup();
	return check_done("test_journal");
}
