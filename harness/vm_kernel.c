// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel `mmrepro vm` boots: a bzImage given by path, or a Debian cloud
 * kernel fetched by scripts/mmrepro-debian-kernel. The image is checked
 * before anything starts, and its release string (what the guest's uname -r
 * must say) is read from the x86 boot protocol's setup header.
 */
#include "mmrepro/config.h"
#include "mmrepro/util.h"
#include "mmrepro/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* x86 boot protocol (Documentation/arch/x86/boot.rst): offsets in the image */
#define BOOT_FLAG_OFF	   0x1fe /* 0xaa55 */
#define HDRS_OFF	   0x202 /* "HdrS" */
#define PROTO_OFF	   0x206 /* boot protocol version */
#define KERNEL_VERSION_OFF 0x20e /* pointer to the version string, minus 0x200 */

const char *mmr_vm_cache_dir(void)
{
	const char *d = getenv("MMREPRO_CACHE_DIR");

	return d && *d ? d : "/var/cache/mmrepro";
}

char *mmr_vm_data_file(const char *rel)
{
	char *p = mmr_strdup_printf("%s/%s", mmr_datadir(), rel);

	if (p && !mmr_path_exists(p)) {
		free(p);
		return NULL;
	}
	return p;
}

void mmr_vm_dirname(const char *path, char *out, size_t len)
{
	char tmp[PATH_MAX];

	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(out, len, "%s", dirname(tmp)); /* dirname may point into tmp */
}

static void find_config(struct mmr_vm_kernel *k)
{
	char dir[PATH_MAX], cand[3][PATH_MAX + 160];

	mmr_vm_dirname(k->path, dir, sizeof(dir));
	/* config-<release> (Debian, /boot), then a build tree's .config for
	 * arch/x86/boot/bzImage, then a .config beside the image */
	snprintf(cand[0], sizeof(cand[0]), "%s/config-%s", dir, k->release);
	snprintf(cand[1], sizeof(cand[1]), "%s/../../../.config", dir);
	snprintf(cand[2], sizeof(cand[2]), "%s/.config", dir);
	k->config[0] = '\0';
	for (size_t i = k->release[0] ? 0 : 1; i < MMR_ARRAY_SIZE(cand); i++)
		if (mmr_path_exists(cand[i]) && realpath(cand[i], k->config))
			return;
	k->config[0] = '\0';
}

int mmr_vm_kernel_check(const char *path, struct mmr_vm_kernel *k, char *err, size_t errlen)
{
	unsigned char hdr[0x280];
	char ver[256];
	struct stat st;
	unsigned ptr;
	ssize_t n;
	int fd;

	memset(k, 0, sizeof(*k));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "--kernel %s: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "--kernel %s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	n = pread(fd, hdr, sizeof(hdr), 0);
	if (n != (ssize_t)sizeof(hdr) || hdr[BOOT_FLAG_OFF] != 0x55 ||
	    hdr[BOOT_FLAG_OFF + 1] != 0xaa || memcmp(hdr + HDRS_OFF, "HdrS", 4)) {
		snprintf(err, errlen,
			 "--kernel %s: not an x86 kernel image (no \"HdrS\" boot header at "
			 "offset 0x202); expected a bzImage such as arch/x86/boot/bzImage or "
			 "/boot/vmlinuz-*",
			 path);
		close(fd);
		return -EINVAL;
	}
	/* The version string needs protocol 2.00+; it starts with the release. */
	ptr = hdr[KERNEL_VERSION_OFF] | hdr[KERNEL_VERSION_OFF + 1] << 8;
	if ((hdr[PROTO_OFF] | hdr[PROTO_OFF + 1] << 8) >= 0x200 && ptr &&
	    pread(fd, ver, sizeof(ver) - 1, 0x200 + ptr) > 0) {
		ver[sizeof(ver) - 1] = '\0';
		ver[strcspn(ver, " \n")] = '\0';
		snprintf(k->release, sizeof(k->release), "%.*s", (int)sizeof(k->release) - 1, ver);
	}
	close(fd);
	if (!realpath(path, k->path))
		snprintf(k->path, sizeof(k->path), "%s", path);
	k->size = (uint64_t)st.st_size;
	find_config(k);
	return 0;
}

/*
 * What a guest needs built in, since it loads no modules: the serial console
 * and second port, the initramfs and /init as a script, and what vm-init
 * mounts. A kernel config that lacks one is refused before qemu starts,
 * rather than diagnosed from a guest that never answers.
 */
static const char *const required_kconfig[] = {
	"CONFIG_64BIT",		      /* the guest runs this x86_64 mmrepro */
	"CONFIG_BLK_DEV_INITRD",      /* the initramfs */
	"CONFIG_BINFMT_ELF",	      /* busybox, mmrepro */
	"CONFIG_BINFMT_SCRIPT",	      /* /init */
	"CONFIG_SERIAL_8250",	      /* ttyS0 and the report channel ttyS1 */
	"CONFIG_SERIAL_8250_CONSOLE", /* progress and panics on ttyS0 */
	"CONFIG_DEVTMPFS",	      /* what vm-init mounts */
	"CONFIG_PROC_FS",
	"CONFIG_SYSFS",
};

int mmr_vm_kernel_requirements(const struct mmr_vm_kernel *k, char *err, size_t errlen)
{
	char *text = k->config[0] ? mmr_slurp(k->config, NULL) : NULL;

	if (!text)
		return 0; /* no config to read: the boot will tell */
	for (size_t i = 0; i < MMR_ARRAY_SIZE(required_kconfig); i++) {
		char key[64], *at;

		snprintf(key, sizeof(key), "\n%s=", required_kconfig[i]);
		at = strstr(text, key);
		if (at && at[strlen(key)] == 'y')
			continue;
		snprintf(err, errlen,
			 "--kernel %s: its config (%s) has %s%s: mmrepro's guests load no "
			 "modules and need it built in (=y)",
			 k->path, k->config, required_kconfig[i],
			 at ? (at[strlen(key)] == 'm' ? "=m" : " set oddly") : " unset");
		free(text);
		return -EINVAL;
	}
	free(text);
	return 0;
}

int mmr_vm_capture(char *const argv[], char *out, size_t len, bool quiet)
{
	posix_spawn_file_actions_t fa;
	size_t got = 0;
	int pipefd[2], status, ret;
	pid_t pid;
	ssize_t n;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	ret = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (ret) {
		close(pipefd[0]);
		return -ret;
	}
	for (;;) {
		char sink[4096];
		char *dst = got < len - 1 ? out + got : sink;
		size_t room = got < len - 1 ? len - 1 - got : sizeof(sink);

		n = read(pipefd[0], dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != sink)
			got += (size_t)n;
	}
	close(pipefd[0]);
	out[got] = '\0';
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The fetch script's stdout is KEY=VALUE lines; its stderr goes to ours
 * (apt's progress, and its one-line errors). */
int mmr_vm_kernel_debian(const char *want, const char *cache_dir, struct mmr_vm_kernel *k,
			 char *err, size_t errlen)
{
	char *script = mmr_vm_data_file("scripts/mmrepro-debian-kernel");
	char *kdir = mmr_strdup_printf("%s/kernels", cache_dir);
	char *argv[] = { script, (char *)want, kdir, NULL };
	char out[8192], pkg[256] = "", version[128] = "", kernel[PATH_MAX] = "";
	int ret;

	if (!script || !kdir) {
		snprintf(err, errlen, "--debian: scripts/mmrepro-debian-kernel is missing from %s",
			 mmr_datadir());
		free(script);
		free(kdir);
		return -ENOENT;
	}
	ret = mmr_vm_capture(argv, out, sizeof(out), false);
	free(script);
	free(kdir);
	if (ret) {
		/* the script said why on stderr, in one line */
		snprintf(err, errlen, "--debian %s: no kernel could be fetched%s", want,
			 ret < 0 ? ": the fetch script did not run" : " (see above)");
		return -ENOENT;
	}
	for (char *save = NULL, *line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "PACKAGE=", 8))
			snprintf(pkg, sizeof(pkg), "%s", line + 8);
		else if (!strncmp(line, "VERSION=", 8))
			snprintf(version, sizeof(version), "%s", line + 8);
		else if (!strncmp(line, "KERNEL=", 7))
			snprintf(kernel, sizeof(kernel), "%s", line + 7);
	}
	if (!kernel[0]) {
		snprintf(err, errlen, "--debian %s: the fetch script named no kernel", want);
		return -ENOENT;
	}
	ret = mmr_vm_kernel_check(kernel, k, err, errlen);
	if (ret)
		return ret;
	snprintf(k->package, sizeof(k->package), "%s", pkg);
	snprintf(k->version, sizeof(k->version), "%s", version);
	return 0;
}
