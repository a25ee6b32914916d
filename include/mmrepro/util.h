/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers every harness module uses: sizes, clocks, files, strings. */
#ifndef MMREPRO_UTIL_H
#define MMREPRO_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MMR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MMR_KiB		  (1024ULL)
#define MMR_MiB		  (1024ULL * 1024)
#define MMR_GiB		  (1024ULL * 1024 * 1024)

/* Accesses that exist only to fault a page in must not be optimised away. */
#define FORCE_READ(x) (*(volatile typeof(x) *)&(x))

/*
 * Parse "512M", "1G", "4k", "2MiB", "4096" into bytes (binary units).
 * Returns 0, or -EINVAL for text that is not a size, -ERANGE on overflow.
 */
int mmr_parse_size(const char *s, uint64_t *out);
/* Format bytes as the shortest exact binary-unit string: 1073741824 -> "1G". */
void mmr_format_size(uint64_t bytes, char *buf, size_t len);
/* Parse "30s", "5m", "1h", "250ms" or a bare number of seconds. */
int mmr_parse_duration(const char *s, double *seconds);

uint64_t mmr_now_ns(void);

/* Read a whole small file (sysfs, procfs) into buf, NUL-terminated, trailing
 * newline stripped. Returns bytes read or -errno. */
ssize_t mmr_read_file(const char *path, char *buf, size_t len);
/* Read a file of any size into a malloc'd buffer (NUL-terminated). */
char *mmr_slurp(const char *path, size_t *len);
int mmr_write_file(const char *path, const char *val);
int mmr_read_u64(const char *path, uint64_t *out);
bool mmr_path_exists(const char *path);
/* Write data to path atomically: temp file in the same directory, fsync, rename. */
int mmr_write_atomic(const char *path, const char *data, size_t len);
/* mkdir -p */
int mmr_mkdirs(const char *path, mode_t mode);

/* Value of a "Key:   123 kB" line of /proc/<pid>/status or /proc/meminfo,
 * in kB (as the file shows it). pid 0 means self. -1 if absent. */
long long mmr_status_kb(pid_t pid, const char *key);
long long mmr_meminfo_kb(const char *key);
/* Start time of a process in clock ticks since boot (field 22 of
 * /proc/<pid>/stat), 0 if it does not exist: a recorded pid is only acted on
 * while it still names the same process. */
unsigned long long mmr_proc_start_time(pid_t pid);
/* The name of a filesystem from its statfs f_type ("ext4", "tmpfs"...), or
 * "fs magic 0x..." in buf for one this table does not know. */
const char *mmr_fs_name(unsigned long magic, char *buf, size_t len);

char *mmr_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
size_t mmr_levenshtein(const char *a, const char *b);
/* xoshiro256** (Blackman & Vigna): a seeded sequence, the same for the same
 * seed wherever it is drawn (the arena and the real-allocator driver). */
void mmr_rng_seed(uint64_t state[4], uint64_t seed);
uint64_t mmr_rng_next(uint64_t state[4]);

/* The candidate closest to word, or NULL when none is close enough. */
const char *mmr_did_you_mean(const char *word, const char *const *candidates, size_t n);

/* Diagnostics on stderr, prefixed with "mmrepro: ". */
void mmr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mmr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mmr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern int mmr_verbose;

#endif
