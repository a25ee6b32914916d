/* SPDX-License-Identifier: GPL-2.0 */
/*
 * System objects that outlive the process that made them (SysV shared-memory
 * segments, files, cgroups), removed even when mmrepro is killed with SIGKILL.
 *
 * The process that creates one records it first, in its own file
 * <state dir>/resources-<pid>.json (written atomically), and only then
 * creates it: a SysV segment by the key it is about to be created with, a
 * file by its path. So there is no instant at which the object exists and no
 * record of it does. Removing the object drops the record; the file goes
 * when it lists nothing.
 *
 * Whatever a finished case left behind (it crashed, hung, was killed) is
 * removed by mmrepro right after the case (mmr_resources_reclaim), and after
 * a SIGKILL of mmrepro by the next start or `mmrepro restore`, together with
 * the knobs of the settings journal and before them (a SysV hugetlb segment
 * holds pool pages: the pool size can only be restored once it is gone).
 */
#ifndef MMREPRO_RESOURCES_H
#define MMREPRO_RESOURCES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

/*
 * Create a SysV shared-memory segment of `size` bytes under a fresh random
 * key, recorded before it exists. `shmflg` adds to IPC_CREAT | IPC_EXCL |
 * 0600 (e.g. SHM_HUGETLB). Returns the shmid and sets *key, or -errno.
 */
int mmr_shm_create(uint64_t size, int shmflg, key_t *key);
/* IPC_RMID the segment (it goes when the last process detaches) and drop
 * its record. */
int mmr_shm_remove(int shmid, key_t key);

/* Record a file before creating it; drop the record after removing it. */
int mmr_resource_file_add(const char *path);
int mmr_resource_file_drop(const char *path);
/*
 * The same for a directory that is empty when its owner is gone, such as a
 * cgroup (rmdir removes it once no process is in it). `parent`, when not
 * NULL, is removed after it if nothing else is left in it (a shared
 * directory the creator made on demand).
 */
int mmr_resource_dir_add(const char *path, const char *parent);
int mmr_resource_dir_drop(const char *path);

/*
 * In mmrepro, holding the run lock: for every record whose owner is gone (or
 * is a case process of a killed mmrepro: its process group is killed first
 * and waited for), remove the objects it lists and the record. One line per
 * object removed goes to `log` (a JSON array, may be NULL) and to stderr.
 * Returns the number of objects removed, or -errno when one could not be
 * (its record is then kept for the next attempt).
 */
int mmr_resources_reclaim(json_t *log);
/* Whether any record of another process exists (cheap: a directory scan). */
bool mmr_resources_pending(void);

#endif
