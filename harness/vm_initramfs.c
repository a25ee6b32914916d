// SPDX-License-Identifier: GPL-2.0
/*
 * The initramfs of `mmrepro vm` guests: nothing is installed into the
 * kernel's own userland. The base archive holds busybox-static, this very
 * mmrepro binary with the shared libraries it loads (ldd's list), the
 * programs and libraries workloads run besides it (their guest_files: the
 * mthp_alloc driver and the allocators this host has) with theirs, the data
 * dir's configs and report schema, and scripts/vm-init as /init. It is
 * cached under a key made of its inputs' identities (path, size, mtime,
 * inode), so a rebuild of mmrepro or of a driver, or an upgrade of busybox or
 * of an allocator, makes a new one.
 * Each run appends a small second archive (arguments, the user's config
 * files at their host paths, the kernel's config): the kernel unpacks
 * concatenated archives one after the other. Archives are not compressed:
 * unpacking costs nothing under TCG, decompressing does.
 */
#include "mmrepro/config.h"
#include "mmrepro/registry.h"
#include "mmrepro/util.h"
#include "mmrepro/vm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BASE_FORMAT "mmrepro-initramfs-4" /* bump when the layout changes */
#define KEEP_CACHED 6			  /* base archives kept in the cache */

struct inputs {
	char **host, **guest; /* host file -> guest path */
	unsigned *mode;
	size_t n;
	uint64_t key; /* FNV-1a over the identities */
	int err;
};

static void key_mix(uint64_t *h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		*h = (*h ^ b[i]) * 0x100000001b3ULL;
}

static void add_input(struct inputs *in, const char *host, const char *guest, unsigned mode)
{
	struct stat st;
	char **h, **g;
	unsigned *m;

	if (in->err)
		return;
	for (size_t i = 0; i < in->n; i++)
		if (!strcmp(in->guest[i], guest))
			return; /* a library two programs load: once */
	if (stat(host, &st)) {
		in->err = -errno;
		return;
	}
	h = realloc(in->host, (in->n + 1) * sizeof(*h));
	if (h)
		in->host = h;
	g = realloc(in->guest, (in->n + 1) * sizeof(*g));
	if (g)
		in->guest = g;
	m = realloc(in->mode, (in->n + 1) * sizeof(*m));
	if (m)
		in->mode = m;
	if (!h || !g || !m) {
		in->err = -ENOMEM;
		return;
	}
	in->host[in->n] = strdup(host);
	in->guest[in->n] = strdup(guest);
	in->mode[in->n] = mode;
	in->n++;
	if (!in->host[in->n - 1] || !in->guest[in->n - 1]) {
		in->err = -ENOMEM;
		return;
	}
	key_mix(&in->key, host, strlen(host) + 1);
	key_mix(&in->key, guest, strlen(guest) + 1);
	key_mix(&in->key, &st.st_size, sizeof(st.st_size));
	key_mix(&in->key, &st.st_mtim, sizeof(st.st_mtim));
	key_mix(&in->key, &st.st_ino, sizeof(st.st_ino));
	key_mix(&in->key, &st.st_dev, sizeof(st.st_dev));
}

static void free_inputs(struct inputs *in)
{
	for (size_t i = 0; i < in->n; i++) {
		free(in->host[i]);
		free(in->guest[i]);
	}
	free(in->host);
	free(in->guest);
	free(in->mode);
}

/* Every regular file under host dir, to the same relative place under guest. */
static void add_tree(struct inputs *in, const char *host, const char *guest)
{
	struct dirent **ents;
	int n = scandir(host, &ents, NULL, alphasort);

	if (n < 0) {
		in->err = in->err ? in->err : -errno;
		return;
	}
	for (int i = 0; i < n; i++) {
		char *h = NULL, *g = NULL;
		struct stat st;

		if (ents[i]->d_name[0] != '.') {
			h = mmr_strdup_printf("%s/%s", host, ents[i]->d_name);
			g = mmr_strdup_printf("%s/%s", guest, ents[i]->d_name);
		}
		if (h && g && !stat(h, &st)) {
			if (S_ISDIR(st.st_mode))
				add_tree(in, h, g);
			else if (S_ISREG(st.st_mode))
				add_input(in, h, g, 0644);
		}
		free(h);
		free(g);
		free(ents[i]);
	}
	free(ents);
}

/* The shared libraries exe loads, and the loader, as ldd lists them. */
static int add_libraries(struct inputs *in, const char *exe, char *err, size_t errlen)
{
	char *argv[] = { "ldd", (char *)exe, NULL };
	char *out = malloc(65536);
	int ret;

	if (!out)
		return -ENOMEM;
	ret = mmr_vm_capture(argv, out, 65536, false);
	if (ret) {
		snprintf(err, errlen, "ldd %s failed (%d): cannot list its shared libraries", exe,
			 ret);
		free(out);
		return -EIO;
	}
	for (char *save = NULL, *line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *arrow = strstr(line, "=> "), *path = arrow ? arrow + 3 : line;

		path += strspn(path, " \t");
		if (path[0] != '/')
			continue; /* linux-vdso.so.1, "not found" */
		path[strcspn(path, " (")] = '\0';
		add_input(in, path, path, 0755);
	}
	free(out);
	if (in->err)
		snprintf(err, errlen, "cannot read a shared library of %s: %s", exe,
			 strerror(-in->err));
	return in->err;
}

struct gather {
	struct inputs *in;
	char *err;
	size_t errlen;
};

/* A workload's file (mmr_guest_add_fn), with the shared libraries it loads. */
static int add_guest_file(void *arg, const char *host, const char *guest)
{
	struct gather *g = arg;

	add_input(g->in, host, guest, 0755);
	if (g->in->err) {
		snprintf(g->err, g->errlen, "cannot read %s: %s", host, strerror(-g->in->err));
		return g->in->err;
	}
	return add_libraries(g->in, host, g->err, g->errlen);
}

static int add_workload_files(struct inputs *in, char *err, size_t errlen)
{
	struct gather g = { in, err, errlen };
	int ret = 0;

	for (size_t i = 0; i < mmr_workload_count() && !ret; i++) {
		const struct mmr_workload *w = mmr_workload_at(i);

		if (w->guest_files)
			ret = w->guest_files(add_guest_file, &g);
	}
	return ret;
}

static bool is_static(const char *path)
{
	char *argv[] = { "ldd", (char *)path, NULL };
	char out[4096];

	/* ldd exits non-zero with "not a dynamic executable" for static ones */
	return mmr_vm_capture(argv, out, sizeof(out), true) != 0;
}

static void write_base(struct mmr_cpio *c, const struct inputs *in)
{
	static const char *const dirs[] = { "/proc", "/sys",  "/dev",  "/tmp",
					    "/run",  "/root", "/mmrvm" };

	for (size_t i = 0; i < MMR_ARRAY_SIZE(dirs); i++)
		mmr_cpio_dir(c, dirs[i]);
	/* init's stdio before devtmpfs is mounted, and the two serial ports */
	mmr_cpio_chardev(c, "/dev/console", 5, 1);
	mmr_cpio_chardev(c, "/dev/null", 1, 3);
	mmr_cpio_chardev(c, "/dev/ttyS0", 4, 64);
	mmr_cpio_chardev(c, "/dev/ttyS1", 4, 65);
	for (size_t i = 0; i < in->n; i++)
		mmr_cpio_file(c, in->guest[i], in->mode[i], in->host[i]);
	mmr_cpio_symlink(c, "/bin/sh", "busybox");
}

/* Keep the few base archives used last; older builds of mmrepro made the rest. */
static void prune(const char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, NULL);
	char *paths[64];
	time_t mtimes[64];
	size_t np = 0;

	if (n < 0)
		return;
	for (int i = 0; i < n; i++) {
		struct stat st;
		char *p = NULL;

		if (!strncmp(ents[i]->d_name, "initramfs-", 10) && np < 64)
			p = mmr_strdup_printf("%s/%s", dir, ents[i]->d_name);
		if (p && !stat(p, &st)) {
			paths[np] = p;
			mtimes[np++] = st.st_mtime;
		} else {
			free(p);
		}
		free(ents[i]);
	}
	free(ents);
	while (np > KEEP_CACHED) {
		size_t old = 0;

		for (size_t i = 1; i < np; i++)
			if (mtimes[i] < mtimes[old])
				old = i;
		unlink(paths[old]);
		free(paths[old]);
		paths[old] = paths[--np];
		mtimes[old] = mtimes[np];
	}
	for (size_t i = 0; i < np; i++)
		free(paths[i]);
}

int mmr_vm_base_initramfs(const char *cache_dir, char *out, size_t outlen, char *err, size_t errlen)
{
	struct inputs in = { .key = 0xcbf29ce484222325ULL };
	char exe[PATH_MAX], *init = mmr_vm_data_file("scripts/vm-init");
	char *dir = NULL, *tmp = NULL, *schema = NULL, *configs = NULL;
	struct mmr_cpio c;
	ssize_t n;
	FILE *f;
	int ret = 0;

	key_mix(&in.key, BASE_FORMAT, sizeof(BASE_FORMAT));
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0 || !init) {
		snprintf(err, errlen, "%s",
			 n < 0 ? "cannot find this mmrepro binary"
			       : "scripts/vm-init is missing from the data dir");
		ret = -ENOENT;
		goto out;
	}
	exe[n] = '\0';
	if (!mmr_path_exists("/bin/busybox") || !is_static("/bin/busybox")) {
		snprintf(err, errlen,
			 "/bin/busybox is missing or not static: the guests need "
			 "busybox-static (apt-get install busybox-static)");
		ret = -ENOENT;
		goto out;
	}
	add_input(&in, init, "/init", 0755);
	add_input(&in, "/bin/busybox", "/bin/busybox", 0755);
	add_input(&in, exe, "/bin/mmrepro", 0755);
	ret = add_libraries(&in, exe, err, errlen);
	if (!ret)
		ret = add_workload_files(&in, err, errlen);
	if (ret)
		goto out;
	configs = mmr_strdup_printf("%s/configs", mmr_datadir());
	schema = mmr_strdup_printf("%s/reports/report.schema.json", mmr_datadir());
	if (configs)
		add_tree(&in, configs, "/usr/share/mmrepro/configs");
	if (schema && mmr_path_exists(schema))
		add_input(&in, schema, "/usr/share/mmrepro/reports/report.schema.json", 0644);
	if (in.err) {
		snprintf(err, errlen, "cannot gather the guest's files from %s: %s", mmr_datadir(),
			 strerror(-in.err));
		ret = in.err;
		goto out;
	}

	dir = mmr_strdup_printf("%s/initramfs", cache_dir);
	snprintf(out, outlen, "%s/initramfs-%016llx.cpio", dir, (unsigned long long)in.key);
	if (mmr_path_exists(out)) {
		utimensat(AT_FDCWD, out, NULL, 0); /* used now: prune() keeps the recent */
		goto out;
	}
	ret = mmr_mkdirs(dir, 0755);
	tmp = mmr_strdup_printf("%s.tmp.%d", out, (int)getpid());
	f = ret || !tmp ? NULL : fopen(tmp, "we");
	if (!f) {
		ret = ret ? ret : -errno;
		snprintf(err, errlen, "cannot write the initramfs into %s: %s", dir,
			 strerror(-ret));
		goto out;
	}
	mmr_cpio_init(&c, f);
	write_base(&c, &in);
	ret = mmr_cpio_finish(&c);
	if (fclose(f) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, out))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		snprintf(err, errlen, "cannot write %s: %s", out, strerror(-ret));
		goto out;
	}
	prune(dir);
out:
	free_inputs(&in);
	free(init);
	free(dir);
	free(tmp);
	free(schema);
	free(configs);
	return ret;
}

/* 'it'\''s' quoting for sh */
static void sh_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	}
	fputc('\'', f);
}

static int copy_file(FILE *dst, const char *src)
{
	char buf[1 << 16];
	FILE *f = fopen(src, "re");
	size_t n;
	int ret = 0;

	if (!f)
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (fwrite(buf, 1, n, dst) != n) {
			ret = -EIO;
			break;
		}
	if (ferror(f))
		ret = -EIO;
	fclose(f);
	return ret;
}

int mmr_vm_run_initramfs(const char *base, const char *out, const struct mmr_vm_guest *g, char *err,
			 size_t errlen)
{
	char *args = NULL, *kconfig = NULL;
	size_t args_len = 0;
	struct mmr_cpio c;
	FILE *f, *a;
	int ret;

	f = fopen(out, "we");
	if (!f) {
		snprintf(err, errlen, "cannot write %s: %s", out, strerror(errno));
		return -errno;
	}
	ret = copy_file(f, base);
	/* /mmrvm/args: the command as sh words, and the accelerator */
	a = open_memstream(&args, &args_len);
	if (!ret && a) {
		fputs("set --", a);
		for (int i = 0; i < g->argc; i++) {
			fputc(' ', a);
			sh_quote(a, g->argv[i]);
		}
		fprintf(a, "\nMMREPRO_VM_ACCEL=%s\n", g->accel);
		fclose(a);
	} else if (!ret) {
		ret = -ENOMEM;
	}
	mmr_cpio_init(&c, f);
	if (!ret) {
		mmr_cpio_data(&c, "/mmrvm/args", 0644, args, args_len);
		for (size_t i = 0; i < g->nfiles; i++)
			mmr_cpio_file(&c, g->files[i], 0644, g->files[i]);
		/* the fingerprint's kconfig section reads /boot/config-<release> */
		if (g->k->config[0] && g->k->release[0]) {
			kconfig = mmr_strdup_printf("/boot/config-%s", g->k->release);
			if (kconfig)
				mmr_cpio_file(&c, kconfig, 0644, g->k->config);
		}
		ret = mmr_cpio_finish(&c);
	} else {
		mmr_cpio_finish(&c);
	}
	if (fclose(f) && !ret)
		ret = -errno;
	if (ret)
		snprintf(err, errlen, "cannot write the guest's initramfs %s: %s", out,
			 strerror(-ret));
	free(args);
	free(kconfig);
	return ret;
}
