// SPDX-License-Identifier: GPL-2.0
/*
 * KVM or TCG. /dev/kvm being there proves little: on nested or software KVM
 * (kvm_pvm) stock kernels stop at boot with "KVM internal error" and qemu
 * pauses instead of exiting. So `auto` first asks /dev/kvm for its API
 * version, then lets the real boot be the probe: the supervisor gives up on
 * KVM at the first internal error or when /init has not answered within the
 * probe time, and cmd_vm boots again under TCG with a warning.
 */
#include "mmrepro/util.h"
#include "mmrepro/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define KVM_VERDICT_DIR "/run/mmrepro-vm"

const char *mmr_vm_accel_name(enum mmr_vm_accel a)
{
	return a == MMR_VM_KVM ? "kvm" : a == MMR_VM_TCG ? "tcg" : "auto";
}

bool mmr_vm_kvm_usable(char *why, size_t len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int ver;

	if (fd < 0) {
		snprintf(why, len, "/dev/kvm: %s", strerror(errno));
		return false;
	}
	ver = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (ver != KVM_API_VERSION) {
		snprintf(why, len, "/dev/kvm answers API version %d, not %d", ver, KVM_API_VERSION);
		return false;
	}
	return true;
}

void mmr_vm_qemu_version(const char *qemu, char *buf, size_t len)
{
	char *argv[] = { (char *)qemu, "--version", NULL };
	char out[512];

	if (mmr_vm_capture(argv, out, sizeof(out), true) != 0) {
		snprintf(buf, len, "unknown");
		return;
	}
	out[strcspn(out, "\n")] = '\0';
	snprintf(buf, len, "%s", out);
}

/*
 * A kernel that KVM could not boot once will not boot under it until the
 * host reboots: remember the verdict in /run (a tmpfs, emptied at boot) so
 * that only the first `auto` run per kernel pays the probe.
 */
static char *verdict_path(const struct mmr_vm_kernel *k)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	struct stat st;

	if (stat(k->path, &st))
		return NULL;
	for (const char *p = k->path; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h ^= (uint64_t)st.st_size * 31 + (uint64_t)st.st_mtim.tv_sec;
	return mmr_strdup_printf("%s/kvm-failed-%016llx", KVM_VERDICT_DIR, (unsigned long long)h);
}

bool mmr_vm_kvm_failed_before(const struct mmr_vm_kernel *k, char *why, size_t len)
{
	char *p = verdict_path(k);
	bool known = p && mmr_read_file(p, why, len) >= 0;

	free(p);
	return known;
}

void mmr_vm_kvm_remember_failure(const struct mmr_vm_kernel *k, const char *why)
{
	char *p = verdict_path(k);

	if (p && !mmr_mkdirs(KVM_VERDICT_DIR, 0755))
		mmr_write_atomic(p, why, strlen(why));
	free(p);
}
