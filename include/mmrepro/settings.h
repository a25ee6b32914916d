/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel knobs as a transaction.
 *
 * Only allow-listed knobs can be named. Before the first write, the old value
 * of every knob the run may touch is written atomically to a journal; values
 * are put back on normal exit, error, SIGINT/SIGTERM/SIGHUP, a crashing case
 * child and a crash of mmrepro itself. After SIGKILL, the next mmrepro start
 * finds the journal and restores before doing anything else.
 */
#ifndef MMREPRO_SETTINGS_H
#define MMREPRO_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct mmr_knob {
	char name[64];	     /* "thp.64K.enabled" */
	char path[256];	     /* absolute path, under mmr_sys_root() */
	bool bracketed;	     /* "always [madvise] never" style */
	uint64_t hugetlb_kb; /* nr_hugepages knobs: the page size, for the memory guard */
};

/* Map an allow-listed name to its file; err says what names exist. The file
 * need not exist on this kernel (mmr_knob_exists tells). */
int mmr_knob_resolve(const char *name, struct mmr_knob *k, char *err, size_t errlen);
bool mmr_knob_exists(const struct mmr_knob *k);
/* The current value ("madvise", "512"). */
int mmr_knob_read(const struct mmr_knob *k, char *val, size_t len);
/* Is value acceptable for this knob (a listed choice, or a number)? */
int mmr_knob_check_value(const struct mmr_knob *k, const char *value, char *err, size_t errlen);
/* Every allow-listed knob present on this kernel, name -> value. */
json_t *mmr_knobs_json(void);
/* Patterns of allowed names, for --help and error messages. */
extern const char *const mmr_knob_patterns[];

/* ---- the transaction ---- */

struct mmr_txn;

/* State directory: $MMREPRO_STATE_DIR, else /run/mmrepro (root) or a per-user
 * temp dir. */
const char *mmr_state_dir(void);

/*
 * Take the run lock (waiting up to $MMREPRO_LOCK_WAIT seconds, default 0, for
 * another mmrepro to finish) and restore anything a previous run left in its
 * journal. Returns 0, -EBUSY when another mmrepro holds the lock, or -errno.
 * `restored` (may be NULL) counts knobs put back.
 */
int mmr_lock_and_recover(unsigned *restored);
/* Restore from a leftover journal without holding anything afterwards
 * (`mmrepro restore`). */
int mmr_recover_only(unsigned *restored, bool *had_journal);
/*
 * At the start of a command, before anything reads the machine's settings:
 * when a leftover journal or resource record exists and no mmrepro runs
 * (the lock is free, not waited for), put it all back. Returns 0 or -errno
 * (a knob that could not be restored; the journal stays).
 */
int mmr_recover_if_idle(void);
void mmr_unlock(void);

/* Snapshot every knob in `names` into the journal, then allow writes to them. */
struct mmr_txn *mmr_txn_begin(const char *const *names, size_t n, char *err, size_t errlen);
/* Set knobs to the case's values and every other snapshotted knob back to its
 * original value; only knobs whose value differs are written. `applied` gets
 * name -> value of what differs from the baseline. */
int mmr_txn_apply(struct mmr_txn *t, json_t *values, json_t **applied, char *err, size_t errlen);
/* Put every knob back, remove the journal. Returns 0 or the number of knobs
 * that could not be restored (the journal is then kept). */
int mmr_txn_end(struct mmr_txn *t);
json_t *mmr_txn_baseline(const struct mmr_txn *t);
/* Record a process group the journal should kill on recovery (case child). */
void mmr_txn_set_pgid(struct mmr_txn *t, int pgid);

/* In a freshly forked child: drop the lock and never run the emergency path
 * (only mmrepro itself restores). */
void mmr_settings_forget_in_child(void);

/* Async-signal-safe: restore every knob of the live transaction, kill the
 * recorded process group, remove the journal. For fatal signal handlers. */
void mmr_txn_emergency_restore(void);

#endif
