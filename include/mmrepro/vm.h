/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `mmrepro vm`: boot a kernel image under qemu with mmrepro inside and bring
 * the report back. One file per job: vm_kernel.c (what is booted: a bzImage
 * or a Debian package), vm_cpio.c + vm_initramfs.c (what the guest runs),
 * vm_channel.c (the guest's answers), vm_qemu.c (qemu and its supervision),
 * vm_accel.c (KVM or TCG), cmd_vm.c (the command).
 */
#ifndef MMREPRO_VM_H
#define MMREPRO_VM_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* ---- the kernel to boot (vm_kernel.c) ---- */

struct mmr_vm_kernel {
	char path[PATH_MAX];
	char release[128];     /* from the bzImage header: what `uname -r` will say */
	char config[PATH_MAX]; /* its config-<release> or .config, "" if none found */
	char package[256];     /* Debian package and version, for --debian */
	char version[128];
	uint64_t size;
};

/* Check that path is an x86 bzImage and read its release string; look for
 * its kernel config beside it. Returns 0 or -EINVAL with err filled. */
int mmr_vm_kernel_check(const char *path, struct mmr_vm_kernel *k, char *err, size_t errlen);
/* When its config is known, check it has what a guest needs built in. */
int mmr_vm_kernel_requirements(const struct mmr_vm_kernel *k, char *err, size_t errlen);
/* Fetch (or find cached) a Debian cloud kernel by series, ABI or package
 * name through scripts/mmrepro-debian-kernel; fills k. */
int mmr_vm_kernel_debian(const char *want, const char *cache_dir, struct mmr_vm_kernel *k,
			 char *err, size_t errlen);

/* Run argv (PATH searched) with stdin /dev/null, stdout captured into out
 * (NUL-terminated, truncated to len), stderr shared unless quiet. Returns its
 * exit status, 128+signal, or -errno when it could not be started. */
int mmr_vm_capture(char *const argv[], char *out, size_t len, bool quiet);
/* dirname(3) of path into out, leaving path alone. */
void mmr_vm_dirname(const char *path, char *out, size_t len);

/* ---- the newc cpio writer (vm_cpio.c) ---- */

struct mmr_cpio {
	FILE *f;
	unsigned ino;
	char **dirs; /* directories already emitted, so parents come first */
	size_t ndirs;
	int err; /* first -errno seen; later calls do nothing */
};

void mmr_cpio_init(struct mmr_cpio *c, FILE *f);
/* Paths are absolute in the guest ("/bin/busybox"); parents are added. */
void mmr_cpio_dir(struct mmr_cpio *c, const char *path);
void mmr_cpio_data(struct mmr_cpio *c, const char *path, unsigned mode, const void *data,
		   size_t len);
/* Copy a host file's contents (symlinks followed) into the archive. */
void mmr_cpio_file(struct mmr_cpio *c, const char *path, unsigned mode, const char *src);
void mmr_cpio_symlink(struct mmr_cpio *c, const char *path, const char *target);
void mmr_cpio_chardev(struct mmr_cpio *c, const char *path, unsigned major, unsigned minor);
/* Writes the trailer; returns 0 or the first error. Frees the state. */
int mmr_cpio_finish(struct mmr_cpio *c);

/* ---- what the guest runs (vm_initramfs.c) ---- */

/*
 * The base archive (busybox-static, this mmrepro binary and the shared
 * libraries it loads, the workloads' guest_files with theirs, the data dir's
 * configs and schema, /init), cached in cache_dir under a key made of its
 * inputs' identities. Its path goes to out.
 */
int mmr_vm_base_initramfs(const char *cache_dir, char *out, size_t outlen, char *err,
			  size_t errlen);

struct mmr_vm_guest {
	char **argv; /* the mmrepro command the guest runs, host paths rewritten */
	int argc;
	const char *accel;	       /* MMREPRO_VM_ACCEL in the guest */
	const struct mmr_vm_kernel *k; /* its config goes to /boot/config-<release> */
	char **files;		       /* host files copied to the same path */
	size_t nfiles;
};

/* The initrd qemu boots: the base archive with a per-run one appended
 * (arguments, config files, kernel config). */
int mmr_vm_run_initramfs(const char *base, const char *out, const struct mmr_vm_guest *g, char *err,
			 size_t errlen);

/* ---- the report channel (vm_channel.c) ---- */

/*
 * The guest writes records to its second serial port, which qemu appends to
 * a host file: "MMRVM ready <release> <uptime>\n", then for each file
 * "MMRVM file <name> <bytes>\n" followed by that many bytes of gzip and a
 * newline, then "MMRVM exit <code>\n". gzip's CRC-32 and length trailer
 * prove each file arrived whole.
 */
struct mmr_vm_channel {
	size_t pos; /* bytes of the stream consumed */
	bool ready;
	char release[128];
	double ready_uptime; /* the guest's /proc/uptime when /init began */
	bool exited;
	int exit_code;
	char *report, *dmesg, *out; /* inflated files, NUL-terminated */
	size_t report_len, dmesg_len, out_len;
	char err[512]; /* set when the stream is not the protocol */
};

/* Consume what is complete in buf[0..len) (the whole stream so far).
 * Returns 0 (call again with more), or -EPROTO with ch->err set. */
int mmr_vm_channel_feed(struct mmr_vm_channel *ch, const char *buf, size_t len);
void mmr_vm_channel_free(struct mmr_vm_channel *ch);

/* ---- qemu (vm_qemu.c) and the accelerator (vm_accel.c) ---- */

/* Set by cmd_vm's SIGINT/SIGTERM/SIGHUP handler: the supervisor stops qemu. */
extern volatile int mmr_vm_stop_signal;

enum mmr_vm_accel { MMR_VM_AUTO, MMR_VM_KVM, MMR_VM_TCG };

struct mmr_vm_boot {
	const char *qemu; /* binary */
	const struct mmr_vm_kernel *k;
	const char *initrd;
	const char *append; /* extra kernel arguments */
	enum mmr_vm_accel accel;
	unsigned cpus;
	uint64_t mem;
	double boot_timeout; /* seconds until /init must have answered */
	double timeout;	     /* seconds for the whole guest */
	const char *run_dir; /* channel and console files go here */
	FILE *console_log;   /* every byte of the guest console */
	bool verbose;	     /* stream the kernel's boot messages too */
	bool quiet;	     /* stream nothing */
};

enum mmr_vm_outcome {
	MMR_VM_DONE,	  /* the guest said exit; ch holds what it sent */
	MMR_VM_NO_ANSWER, /* /init never answered within boot_timeout */
	MMR_VM_TIMEOUT,	  /* it answered but did not finish within timeout */
	MMR_VM_DIED,	  /* qemu exited before the guest said exit */
	MMR_VM_GARBAGE,	  /* the channel broke the protocol */
	MMR_VM_QEMU_ERR,  /* qemu could not start or failed (KVM errors too) */
	MMR_VM_SIGNAL,	  /* we were told to stop */
};

struct mmr_vm_result {
	enum mmr_vm_outcome outcome;
	struct mmr_vm_channel ch;
	double wall_ready; /* seconds from qemu start to the guest's ready */
	double wall_total;
	int qemu_status;     /* wait status */
	char qemu_err[1024]; /* the end of qemu's stderr */
	char panic[256];     /* the guest console's panic line, if one was seen */
	int signal;	     /* for MMR_VM_SIGNAL */
};

/* Boot once with a concrete accelerator (never AUTO). qemu never outlives
 * this call, whatever happens. */
int mmr_vm_boot_once(const struct mmr_vm_boot *b, enum mmr_vm_accel accel, struct mmr_vm_result *r);
const char *mmr_vm_accel_name(enum mmr_vm_accel a);
/* Is /dev/kvm there and answering (KVM_GET_API_VERSION)? why says if not. */
bool mmr_vm_kvm_usable(char *why, size_t len);
/* Did KVM fail to boot this kernel image since the host booted? why: how. */
bool mmr_vm_kvm_failed_before(const struct mmr_vm_kernel *k, char *why, size_t len);
void mmr_vm_kvm_remember_failure(const struct mmr_vm_kernel *k, const char *why);
/* The qemu binary's version line, for the report. */
void mmr_vm_qemu_version(const char *qemu, char *buf, size_t len);

/* Where kernels and initramfs archives are cached: MMREPRO_CACHE_DIR or
 * /var/cache/mmrepro. */
const char *mmr_vm_cache_dir(void);
/* The data dir's file (scripts/..., configs/...), or NULL if it is absent. */
char *mmr_vm_data_file(const char *rel);

#endif
