// SPDX-License-Identifier: GPL-2.0
/*
 * A writer for the "newc" cpio format, the one the kernel unpacks as an
 * initramfs (Documentation/driver-api/early-userspace/buffer-format.rst).
 * Written here rather than by the cpio tool so that an archive is built from
 * a list of (guest path, host file) pairs without laying out a tree on disk,
 * and device nodes need no mknod on the host.
 */
#include "mmrepro/util.h"
#include "mmrepro/vm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void mmr_cpio_init(struct mmr_cpio *c, FILE *f)
{
	memset(c, 0, sizeof(*c));
	c->f = f;
	c->ino = 721; /* any start; the kernel only pairs hard links by it */
}

static void pad4(struct mmr_cpio *c)
{
	static const char zero[4];
	long off = ftell(c->f);

	if (off < 0) {
		c->err = -errno;
		return;
	}
	if (off % 4 && fwrite(zero, 1, 4 - off % 4, c->f) != (size_t)(4 - off % 4))
		c->err = -EIO;
}

/* name without the leading '/' as the kernel expects it */
static void header(struct mmr_cpio *c, const char *name, unsigned mode, size_t size, unsigned rmaj,
		   unsigned rmin)
{
	size_t namelen = strlen(name) + 1;

	if (c->err)
		return;
	if (fprintf(c->f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X%s%c",
		    c->ino++, mode, 0u, 0u, 1u, 0u, size, 0u, 0u, rmaj, rmin, namelen, 0u, name,
		    '\0') < 0) {
		c->err = -EIO;
		return;
	}
	pad4(c);
}

static bool dir_known(struct mmr_cpio *c, const char *path)
{
	for (size_t i = 0; i < c->ndirs; i++)
		if (!strcmp(c->dirs[i], path))
			return true;
	return false;
}

/* Emit every missing parent of path (not path itself). */
static void parents(struct mmr_cpio *c, const char *path)
{
	char buf[PATH_MAX];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	for (slash = strchr(buf + 1, '/'); slash && !c->err; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mmr_cpio_dir(c, buf);
		*slash = '/';
	}
}

void mmr_cpio_dir(struct mmr_cpio *c, const char *path)
{
	char **nd;

	if (c->err || !strcmp(path, "/") || dir_known(c, path))
		return;
	parents(c, path);
	header(c, path + 1, S_IFDIR | 0755, 0, 0, 0);
	nd = realloc(c->dirs, (c->ndirs + 1) * sizeof(*nd));
	if (!nd || !(nd[c->ndirs] = strdup(path))) {
		if (nd)
			c->dirs = nd;
		c->err = -ENOMEM;
		return;
	}
	c->dirs = nd;
	c->ndirs++;
}

void mmr_cpio_data(struct mmr_cpio *c, const char *path, unsigned mode, const void *data,
		   size_t len)
{
	parents(c, path);
	header(c, path + 1, S_IFREG | mode, len, 0, 0);
	if (c->err)
		return;
	if (len && fwrite(data, 1, len, c->f) != len)
		c->err = -EIO;
	pad4(c);
}

void mmr_cpio_file(struct mmr_cpio *c, const char *path, unsigned mode, const char *src)
{
	size_t len;
	char *data;

	if (c->err)
		return;
	data = mmr_slurp(src, &len);
	if (!data) {
		c->err = -errno;
		return;
	}
	mmr_cpio_data(c, path, mode, data, len);
	free(data);
}

void mmr_cpio_symlink(struct mmr_cpio *c, const char *path, const char *target)
{
	size_t len = strlen(target);

	parents(c, path);
	header(c, path + 1, S_IFLNK | 0777, len, 0, 0);
	if (c->err)
		return;
	if (fwrite(target, 1, len, c->f) != len)
		c->err = -EIO;
	pad4(c);
}

void mmr_cpio_chardev(struct mmr_cpio *c, const char *path, unsigned major, unsigned minor)
{
	parents(c, path);
	header(c, path + 1, S_IFCHR | 0600, 0, major, minor);
}

int mmr_cpio_finish(struct mmr_cpio *c)
{
	header(c, "TRAILER!!!", 0, 0, 0, 0);
	for (size_t i = 0; i < c->ndirs; i++)
		free(c->dirs[i]);
	free(c->dirs);
	c->dirs = NULL;
	c->ndirs = 0;
	if (!c->err && fflush(c->f))
		c->err = -errno;
	return c->err;
}
