// SPDX-License-Identifier: GPL-2.0
/* Real allocators for mthp_alloc; see mthp_alloc_driver.h. */
#include "mthp_alloc_driver.h"
#include "mmrepro/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MMREPRO_INSTALL_LIBEXECDIR
#define MMREPRO_INSTALL_LIBEXECDIR "/usr/local/libexec/mmrepro"
#endif

const char *const mthp_allocators[] = {
	"arena", "glibc", "jemalloc", "tcmalloc", "mimalloc", NULL
};

static const struct {
	const char *name, *soname, *package;
} libraries[] = {
	{ "jemalloc", "libjemalloc.so.2", "libjemalloc2" },
	{ "tcmalloc", "libtcmalloc_minimal.so.4", "libtcmalloc-minimal4" },
	{ "mimalloc", "libmimalloc.so.2", "libmimalloc2.0" },
};

/* ELF class and machine of a file, to keep a 32-bit or foreign-arch copy of
 * a library out of LD_PRELOAD. */
static int elf_id(const char *path, unsigned *id)
{
	unsigned char h[20];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, h, sizeof(h));
	close(fd);
	if (n != (ssize_t)sizeof(h) || memcmp(h, "\177ELF", 4))
		return -ENOEXEC;
	/* EI_CLASS, and e_machine in the file's byte order (EI_DATA) */
	*id = (unsigned)h[4] << 16 |
	      (h[5] == 1 ? (unsigned)(h[18] | h[19] << 8) : (unsigned)(h[19] | h[18] << 8));
	return 0;
}

static bool usable(const char *path)
{
	unsigned mine, theirs;

	return elf_id("/proc/self/exe", &mine) == 0 && elf_id(path, &theirs) == 0 && mine == theirs;
}

/* `ldconfig -p` lines: "\tlibjemalloc.so.2 (libc6,x86-64) => /lib/.../libjemalloc.so.2" */
static int from_ldconfig(const char *soname, char *path, size_t len)
{
	static const char *const tools[] = { "/sbin/ldconfig", "/usr/sbin/ldconfig" };
	char cmd[64], line[PATH_MAX + 128];
	int ret = -ENOENT;

	for (size_t t = 0; t < MMR_ARRAY_SIZE(tools) && ret; t++) {
		FILE *f;

		if (access(tools[t], X_OK))
			continue;
		snprintf(cmd, sizeof(cmd), "%s -p 2>/dev/null", tools[t]);
		f = popen(cmd, "re");
		if (!f)
			continue;
		while (ret && fgets(line, sizeof(line), f)) {
			char *name = line + strspn(line, " \t"), *arrow = strstr(line, " => ");

			if (!arrow || strncmp(name, soname, strlen(soname)) ||
			    name[strlen(soname)] != ' ')
				continue;
			arrow += 4;
			arrow[strcspn(arrow, "\n")] = '\0';
			if (usable(arrow)) {
				snprintf(path, len, "%s", arrow);
				ret = 0;
			}
		}
		pclose(f);
	}
	return ret;
}

/* The directory libc itself was loaded from. */
static int libc_dir(char *dir, size_t len)
{
	Dl_info info;
	char buf[PATH_MAX];

	if (!dladdr((void *)gnu_get_libc_version, &info) || !info.dli_fname)
		return -ENOENT;
	snprintf(buf, sizeof(buf), "%s", info.dli_fname);
	snprintf(dir, len, "%s", dirname(buf));
	return 0;
}

/* Without ldconfig (a `mmrepro vm` guest): beside libc. */
static int beside_libc(const char *soname, char *path, size_t len)
{
	char dir[PATH_MAX];

	if (libc_dir(dir, sizeof(dir)))
		return -ENOENT;
	snprintf(path, len, "%s/%s", dir, soname);
	return usable(path) ? 0 : -ENOENT;
}

int mthp_find_library(const char *allocator, char *path, size_t len, char *why, size_t wlen)
{
	path[0] = '\0';
	if (!strcmp(allocator, "glibc") || !strcmp(allocator, "arena"))
		return 0;
	for (size_t i = 0; i < MMR_ARRAY_SIZE(libraries); i++) {
		if (strcmp(allocator, libraries[i].name))
			continue;
		if (!from_ldconfig(libraries[i].soname, path, len) ||
		    !beside_libc(libraries[i].soname, path, len))
			return 0;
		snprintf(why, wlen,
			 "%s: %s for this architecture is not installed (not in `ldconfig -p`); "
			 "apt-get install %s (./bootstrap installs it)",
			 allocator, libraries[i].soname, libraries[i].package);
		return -ENOENT;
	}
	snprintf(why, wlen, "unknown allocator %s", allocator);
	return -EINVAL;
}

int mthp_find_driver(char *path, size_t len, char *why, size_t wlen)
{
	char exe[PATH_MAX], dir[PATH_MAX], cand[4][PATH_MAX + 64];
	const char *env = getenv("MMREPRO_LIBEXECDIR");
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	unsigned k = 0;

	if (env && *env)
		snprintf(cand[k++], sizeof(cand[0]), "%s/" DRIVER_NAME, env);
	if (n > 0) {
		exe[n] = '\0';
		snprintf(dir, sizeof(dir), "%s", dirname(exe));
		snprintf(cand[k++], sizeof(cand[0]), "%s/" DRIVER_NAME, dir);
		snprintf(cand[k++], sizeof(cand[0]), "%s/../libexec/mmrepro/" DRIVER_NAME, dir);
	}
	snprintf(cand[k++], sizeof(cand[0]), "%s/" DRIVER_NAME, MMREPRO_INSTALL_LIBEXECDIR);
	for (unsigned i = 0; i < k; i++) {
		if (access(cand[i], X_OK) == 0) {
			snprintf(path, len, "%s", cand[i]);
			return 0;
		}
	}
	snprintf(why, wlen,
		 "the real-allocator driver " DRIVER_NAME " is not installed (looked in %s and "
		 "next to mmrepro; set MMREPRO_LIBEXECDIR)",
		 MMREPRO_INSTALL_LIBEXECDIR);
	return -ENOENT;
}

/*
 * A guest's mmrepro is /bin/mmrepro without MMREPRO_LIBEXECDIR: it finds the
 * driver in the install dir. A guest has no ldconfig: it finds an allocator
 * beside libc, which is at this host's path there too.
 */
int mthp_guest_files(mmr_guest_add_fn add, void *arg)
{
	char path[PATH_MAX], dir[PATH_MAX], guest[2 * PATH_MAX], why[512];
	int ret;

	if (mthp_find_driver(path, sizeof(path), why, sizeof(why)))
		return 0; /* no real allocator here, nor in a guest */
	ret = add(arg, path, MMREPRO_INSTALL_LIBEXECDIR "/" DRIVER_NAME);
	if (ret || libc_dir(dir, sizeof(dir)))
		return ret;
	for (size_t i = 0; i < MMR_ARRAY_SIZE(libraries) && !ret; i++) {
		if (mthp_find_library(libraries[i].name, path, sizeof(path), why, sizeof(why)))
			continue;
		snprintf(guest, sizeof(guest), "%s/%s", dir, libraries[i].soname);
		ret = add(arg, path, guest);
	}
	return ret;
}

/* This process's environment with LD_PRELOAD replaced (or removed); the
 * variable itself lives in `var`. */
static char **child_env(const char *preload, char *var, size_t len)
{
	extern char **environ;
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "LD_PRELOAD=", 11))
			env[k++] = environ[i];
	if (preload && *preload) {
		snprintf(var, len, "LD_PRELOAD=%s", preload);
		env[k++] = var;
	}
	return env;
}

static void describe_exit(struct driver *d, char *err, size_t errlen)
{
	int st = driver_stop(d);

	if (st >= 0 && WIFSIGNALED(st))
		snprintf(err, errlen, "the driver was killed by SIG%s",
			 sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
	else if (st >= 0)
		snprintf(err, errlen, "the driver exited with status %d", WEXITSTATUS(st));
	else
		snprintf(err, errlen, "the driver is gone");
}

/* One reply line, parsed; NULL at EOF or on garbage. */
static json_t *read_reply(struct driver *d)
{
	for (;;) {
		char *nl = d->len ? memchr(d->buf, '\n', d->len) : NULL;
		ssize_t n;

		if (nl) {
			json_t *j;

			*nl = '\0';
			j = json_loads(d->buf, 0, NULL);
			d->len -= (size_t)(nl + 1 - d->buf);
			memmove(d->buf, nl + 1, d->len);
			return j;
		}
		if (d->cap - d->len < 4096) {
			size_t cap = d->cap ? d->cap * 2 : 65536;
			char *nb = realloc(d->buf, cap);

			if (!nb)
				return NULL;
			d->buf = nb;
			d->cap = cap;
		}
		n = read(d->sock, d->buf + d->len, d->cap - d->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		d->len += (size_t)n;
	}
}

/* A reply of type `want`, or the driver's own error, or why there was none. */
static int expect(struct driver *d, const char *want, json_t **out, char *err, size_t errlen)
{
	json_t *j = read_reply(d);
	const char *t = json_string_value(json_object_get(j, "t"));

	*out = NULL;
	if (!j) {
		describe_exit(d, err, errlen);
		return -EPIPE;
	}
	if (t && !strcmp(t, want)) {
		*out = j;
		return 0;
	}
	snprintf(err, errlen, "the driver said: %s",
		 t && !strcmp(t, "error") ? json_string_value(json_object_get(j, "msg"))
					  : "something unexpected");
	json_decref(j);
	return -EPROTO;
}

int driver_start(struct driver *d, const char *prog, const char *preload, char *const argv[],
		 json_t **ready, char *err, size_t errlen)
{
	char var[PATH_MAX + 16], **env = child_env(preload, var, sizeof(var));
	int sv[2], e;

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	d->sock = -1;
	if (!env || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		e = errno;
		snprintf(err, errlen, "socketpair: %s", strerror(e));
		free(env);
		return -e;
	}
	d->pid = fork();
	if (d->pid == 0) {
		/* the case's process group and cgroup; dies with the case */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup2(sv[1], STDIN_FILENO) < 0 || dup2(sv[1], STDOUT_FILENO) < 0)
			_exit(127);
		execve(prog, argv, env);
		_exit(127);
	}
	e = errno;
	close(sv[1]);
	free(env);
	if (d->pid < 0) {
		close(sv[0]);
		snprintf(err, errlen, "fork: %s", strerror(e));
		return -e;
	}
	d->sock = sv[0];
	return expect(d, "ready", ready, err, errlen);
}

int driver_call(struct driver *d, const char *cmd, json_t **reply, char *err, size_t errlen)
{
	char line[32];
	size_t len = (size_t)snprintf(line, sizeof(line), "%s\n", cmd);

	*reply = NULL;
	if (send(d->sock, line, len, MSG_NOSIGNAL) != (ssize_t)len) {
		describe_exit(d, err, errlen);
		return -EPIPE;
	}
	return expect(d, cmd, reply, err, errlen);
}

int driver_stop(struct driver *d)
{
	int st = -1;

	if (d->sock >= 0) {
		send(d->sock, "exit\n", 5, MSG_NOSIGNAL);
		close(d->sock);
		d->sock = -1;
	}
	if (d->pid > 0) {
		pid_t r = 0;

		/* it exits on "exit" or EOF; a driver stuck in the kernel gets 5 s */
		for (int i = 0; i < 500 && (r = waitpid(d->pid, &st, WNOHANG)) == 0; i++)
			usleep(10 * 1000);
		if (r == 0) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &st, 0);
		}
		d->pid = -1;
	}
	free(d->buf);
	d->buf = NULL;
	d->len = d->cap = 0;
	return st;
}
