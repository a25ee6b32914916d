// SPDX-License-Identifier: GPL-2.0
/*
 * `mmrepro vm`'s base initramfs, built for real into a scratch cache: the
 * workloads' guest_files (mthp_alloc's driver, here a stand-in named like it,
 * and the allocators this host has) are in the archive at the paths the
 * guest's mmrepro looks in, with the shared libraries they load, each name
 * once; touching the driver makes a new cache key.
 */
#include "check.h"
#include "mmrepro/util.h"
#include "mmrepro/vm.h"
#include "mthp_alloc_driver.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_NAMES 4096

struct pair {
	char host[PATH_MAX], guest[PATH_MAX];
};

static struct pair files[8];
static size_t nfiles;

static int record(void *arg, const char *host, const char *guest)
{
	(void)arg;
	CHECK(nfiles < MMR_ARRAY_SIZE(files));
	if (nfiles < MMR_ARRAY_SIZE(files)) {
		snprintf(files[nfiles].host, sizeof(files[0].host), "%s", host);
		snprintf(files[nfiles].guest, sizeof(files[0].guest), "%s", guest);
		nfiles++;
	}
	return 0;
}

/* The names in a newc archive ("bin/busybox"), and each entry's data size. */
static size_t archive_names(const char *path, char **names, unsigned long *sizes)
{
	FILE *f = fopen(path, "re");
	char hdr[111], name[PATH_MAX];
	size_t n = 0;
	long off = 0;

	CHECK(f != NULL);
	while (f && n < MAX_NAMES && fseek(f, off, SEEK_SET) == 0 && fread(hdr, 1, 110, f) == 110) {
		char field[9] = "";
		unsigned long size, namesize;

		CHECK(!memcmp(hdr, "070701", 6));
		memcpy(field, hdr + 6 + 8 * 6, 8);
		size = strtoul(field, NULL, 16);
		memcpy(field, hdr + 6 + 8 * 11, 8);
		namesize = strtoul(field, NULL, 16);
		if (namesize == 0 || namesize > sizeof(name) ||
		    fread(name, 1, namesize, f) != namesize)
			break;
		if (!strcmp(name, "TRAILER!!!"))
			break;
		names[n] = strdup(name);
		sizes[n++] = size;
		off = (long)((off + 110 + namesize + 3) & ~3UL);
		off = (long)((off + size + 3) & ~3UL);
	}
	if (f)
		fclose(f);
	return n;
}

static long find(char **names, size_t n, const char *guest)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], guest + 1)) /* archive names have no leading / */
			return (long)i;
	return -1;
}

/* Every library ldd lists for host (and the loader) is in the archive. */
static void check_libraries(const char *host, char **names, size_t n)
{
	char *argv[] = { "ldd", (char *)host, NULL }, out[16384], *save = NULL;

	CHECK(mmr_vm_capture(argv, out, sizeof(out), true) == 0);
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *arrow = strstr(line, "=> "), *path = arrow ? arrow + 3 : line;

		path += strspn(path, " \t");
		if (path[0] != '/')
			continue;
		path[strcspn(path, " (")] = '\0';
		if (find(names, n, path) < 0) {
			fprintf(stderr, "%s (loaded by %s) is not in the archive\n", path, host);
			check_failures++;
		}
	}
}

static void copy(const char *src, const char *dst)
{
	char buf[1 << 16];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ssize_t r;

	CHECK(in >= 0 && out >= 0);
	while (in >= 0 && out >= 0 && (r = read(in, buf, sizeof(buf))) > 0)
		CHECK(write(out, buf, (size_t)r) == r);
	close(in);
	close(out);
}

int main(void)
{
	char tmp[] = "/tmp/mmrepro-test-initramfs-XXXXXX", libexec[PATH_MAX], driver[2 * PATH_MAX];
	char cache[PATH_MAX], out1[PATH_MAX], out2[PATH_MAX], err[1024] = "";
	char lib[PATH_MAX], why[512], cmd[PATH_MAX + 16];
	static char *names[MAX_NAMES];
	static unsigned long sizes[MAX_NAMES];
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	size_t n;
	int ret;

	if (!mkdtemp(tmp))
		SKIP("cannot make a scratch dir in /tmp");
	snprintf(libexec, sizeof(libexec), "%s/libexec", tmp);
	snprintf(driver, sizeof(driver), "%s/" DRIVER_NAME, libexec);
	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	CHECK(mkdir(libexec, 0755) == 0);
	copy("/bin/true", driver); /* dynamic, like the driver */
	setenv("MMREPRO_LIBEXECDIR", libexec, 1);

	/* what mthp_alloc hands over: the driver, and each allocator found */
	CHECK(mthp_guest_files(record, NULL) == 0);
	CHECK(nfiles >= 1);
	CHECK_STR(files[0].host, driver);
	CHECK(!strcmp(strrchr(files[0].guest, '/'), "/" DRIVER_NAME));
	CHECK(strcmp(files[0].guest, driver) != 0); /* not the host's lookup path */
	for (size_t i = 1; i < nfiles; i++)
		CHECK(strstr(files[i].guest, "/lib") == files[i].guest);
	CHECK(mthp_find_library("jemalloc", lib, sizeof(lib), why, sizeof(why)) != 0 ||
	      nfiles >= 2);

	ret = mmr_vm_base_initramfs(cache, out1, sizeof(out1), err, sizeof(err));
	if (ret && strstr(err, "busybox")) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
		CHECK(system(cmd) == 0);
		SKIP(err);
	}
	CHECK(ret == 0);
	if (ret)
		fprintf(stderr, "mmr_vm_base_initramfs: %s\n", err);
	n = archive_names(out1, names, sizes);
	CHECK(find(names, n, "/bin/mmrepro") >= 0 && find(names, n, "/init") >= 0);
	for (size_t i = 0; i < nfiles; i++) {
		long at = find(names, n, files[i].guest);
		struct stat st;

		CHECK(at >= 0 && !stat(files[i].host, &st));
		if (at < 0)
			fprintf(stderr, "%s is not in the archive\n", files[i].guest);
		else
			CHECK(sizes[at] == (unsigned long)st.st_size);
		check_libraries(files[i].host, names, n);
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (!strcmp(names[i], names[j])) {
				fprintf(stderr, "%s is in the archive twice\n", names[i]);
				check_failures++;
			}

	/* a rebuilt driver: another cache key, another archive */
	CHECK(utimensat(AT_FDCWD, driver, old, 0) == 0);
	CHECK(mmr_vm_base_initramfs(cache, out2, sizeof(out2), err, sizeof(err)) == 0);
	CHECK(strcmp(out1, out2) != 0 && mmr_path_exists(out1) && mmr_path_exists(out2));

	for (size_t i = 0; i < n; i++)
		free(names[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	CHECK(system(cmd) == 0);
	return check_done("test_vm_initramfs");
}
