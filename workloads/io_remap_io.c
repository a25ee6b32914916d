// SPDX-License-Identifier: GPL-2.0
/*
 * io_remap's moving parts: the file, the buffers, the rings, and the units of
 * work its threads repeat while a window is open -- one block written,
 * read back and verified; one mapping change; one pass of faults.
 */
#include "io_remap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#define BUF_PROT   (PROT_READ | PROT_WRITE) /* registered buffers are pinned for writing */
#define FILL_CHUNK (1024 * 1024ULL)

/* ---- the file ---- */

/* The file, with no name that could be left behind: a memfd for tmpfs, an
 * O_TMPFILE in dir; only without O_TMPFILE a named file, unlinked at once. */
int io_remap_open_file(struct mmr_ctx *ctx, struct io_remap_state *s, const char *dir)
{
	const char *kind = "O_TMPFILE", *name;
	char path[4096], desc[4200], magic[32];
	struct statfs fs;

	if (!strcmp(s->p->fs, "tmpfs")) {
		s->fd = memfd_create("mmrepro-io_remap", MFD_CLOEXEC);
		if (s->fd < 0)
			return mmr_fail(ctx, "memfd_create: %s", strerror(errno));
		mmr_extra_str(ctx, "file", "memfd (shmem, as tmpfs)");
		return 0;
	}
	s->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		snprintf(path, sizeof(path), "%s/.mmrepro-io_remap-XXXXXX", dir);
		s->fd = mkostemp(path, O_CLOEXEC);
		if (s->fd >= 0)
			unlink(path);
		kind = "a named file, unlinked at once (no O_TMPFILE)";
	}
	if (s->fd < 0)
		return mmr_fail(ctx, "cannot create a file in %s: %s", dir, strerror(errno));
	name = fstatfs(s->fd, &fs) ? "fs unknown"
				   : mmr_fs_name((unsigned long)fs.f_type, magic, sizeof(magic));
	snprintf(desc, sizeof(desc), "%s in %s (%s)", kind, dir, name);
	mmr_extra_str(ctx, "file", desc);
	return 0;
}

/* Every block holds generation 0 before the first window. */
int io_remap_fill_file(struct mmr_ctx *ctx, struct io_remap_state *s)
{
	uint64_t total = s->span * (uint64_t)s->p->io_threads;
	char *buf = aligned_alloc(MMR_REC_SIZE, FILL_CHUNK);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	if (ftruncate(s->fd, (off_t)total)) {
		free(buf);
		return mmr_fail(ctx, "ftruncate to %llu: %s", (unsigned long long)total,
				strerror(errno));
	}
	for (uint64_t off = 0; off < total && !ret; off += FILL_CHUNK) {
		size_t len = total - off < FILL_CHUNK ? total - off : FILL_CHUNK;
		ssize_t n;

		mmr_pattern_fill(&s->pat, buf, len, off, 0);
		n = pwrite(s->fd, buf, len, (off_t)off);
		if (n != (ssize_t)len)
			ret = mmr_fail(ctx, "writing the file at %llu: %s", (unsigned long long)off,
				       n < 0 ? strerror(errno) : "short write (file system full?)");
		mmr_progress(ctx);
	}
	free(buf);
	/* the first window should not pay for writing back the fill */
	if (!ret && fdatasync(s->fd))
		ret = mmr_fail(ctx, "fdatasync: %s", strerror(errno));
	return ret;
}

/* ---- buffers and rings ---- */

static char *map(size_t len, int fd, off_t off)
{
	void *m = mmap(NULL, len, BUF_PROT, MAP_SHARED, fd, off);

	return m == MAP_FAILED ? NULL : m;
}

static int init_buf(struct buf *b, size_t len, int fd, off_t off)
{
	b->addr = map(len, fd, off);
	b->len = len;
	b->fd = fd;
	b->fd_off = off;
	return b->addr ? 0 : -errno;
}

static int memfd_of(size_t len)
{
	int fd = memfd_create("mmrepro-io_remap-buf", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, (off_t)len)) {
		close(fd);
		return -1;
	}
	return fd;
}

int io_remap_setup_buffers(struct mmr_ctx *ctx, struct io_remap_state *s, struct io_thread *t)
{
	size_t io = s->p->io_size;

	if (s->self) {
		/* every view maps this thread's range of the file itself */
		if (init_buf(&t->src, s->span, s->fd, (off_t)t->base) ||
		    init_buf(&t->dst, s->span, s->fd, (off_t)t->base))
			return mmr_fail(ctx, "mmap of the file: %s", strerror(errno));
		t->fill = map(s->span, s->fd, (off_t)t->base);
		t->fill_len = s->span;
		t->check = aligned_alloc(MMR_REC_SIZE, io);
		if (!t->fill || !t->check)
			return mmr_fail(ctx, "mapping the file's range: %s", strerror(errno));
		return 0;
	}
	t->src_memfd = memfd_of(io);
	t->dst_memfd = memfd_of(io);
	if (t->src_memfd < 0 || t->dst_memfd < 0)
		return mmr_fail(ctx, "memfd for buffers: %s", strerror(errno));
	if (init_buf(&t->src, io, t->src_memfd, 0) || init_buf(&t->dst, io, t->dst_memfd, 0))
		return mmr_fail(ctx, "mmap of a buffer memfd: %s", strerror(errno));
	t->fill = map(io, t->src_memfd, 0);
	t->fill_len = io;
	t->check = map(io, t->dst_memfd, 0);
	if (!t->fill || !t->check)
		return mmr_fail(ctx, "mmap of a buffer memfd: %s", strerror(errno));
	/* allocate the memfd pages now: churn maps them again, never new ones */
	memset(t->fill, 0, io);
	memset(t->check, 0, io);
	return 0;
}

int io_remap_setup_ring(struct mmr_ctx *ctx, struct io_remap_state *s, struct io_thread *t)
{
	struct iovec iov[2] = { { t->src.addr, t->src.len }, { t->dst.addr, t->dst.len } };
	int ret = io_uring_queue_init(4, &t->ring, 0);

	if (ret < 0)
		return mmr_skip(ctx, "io_uring_queue_init: %s", strerror(-ret));
	t->ring_ready = true;
	if (!s->fixed)
		return 0;
	ret = io_uring_register_buffers(&t->ring, iov, 2);
	if (ret == -EFAULT || ret == -EOPNOTSUPP)
		return mmr_skip(
			ctx,
			"io_uring cannot register (long-term pin) buffers mapped from this "
			"file: %s; the kernel pins only anonymous, shmem and hugetlb memory "
			"for fixed buffers",
			strerror(-ret));
	if (ret < 0)
		return mmr_fail(ctx, "io_uring_register_buffers: %s", strerror(-ret));
	return 0;
}

static void unmap(void *addr, size_t len)
{
	if (addr)
		munmap(addr, len);
}

void io_remap_free_buffers(struct io_remap_state *s, struct io_thread *t)
{
	if (t->ring_ready)
		io_uring_queue_exit(&t->ring); /* also drops the registered buffers */
	unmap(t->src.addr, t->src.len);
	unmap(t->dst.addr, t->dst.len);
	unmap(t->fill, t->fill_len);
	if (s->self)
		free(t->check);
	else
		unmap(t->check, s->p->io_size);
	if (t->src_memfd >= 0)
		close(t->src_memfd);
	if (t->dst_memfd >= 0)
		close(t->dst_memfd);
}

/* ---- an io thread's block ---- */

static int uring_call(struct io_thread *t, enum dir d, char *buf, size_t len, uint64_t off)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&t->ring);
	struct io_uring_cqe *cqe;
	int ret, res;

	if (!sqe)
		return -EBUSY;	    /* one I/O in flight: cannot happen */
	if (t->s->fixed && d == WR) /* registered buffer 0 is the source, 1 the destination */
		io_uring_prep_write_fixed(sqe, t->s->fd, buf, (unsigned)len, off, 0);
	else if (t->s->fixed)
		io_uring_prep_read_fixed(sqe, t->s->fd, buf, (unsigned)len, off, 1);
	else if (d == WR)
		io_uring_prep_write(sqe, t->s->fd, buf, (unsigned)len, off);
	else
		io_uring_prep_read(sqe, t->s->fd, buf, (unsigned)len, off);
	do
		ret = io_uring_submit_and_wait(&t->ring, 1);
	while (ret == -EINTR);
	if (ret < 0)
		return ret;
	do
		ret = io_uring_wait_cqe(&t->ring, &cqe);
	while (ret == -EINTR);
	if (ret < 0)
		return ret;
	res = cqe->res;
	io_uring_cqe_seen(&t->ring, cqe);
	return res;
}

/*
 * Move len bytes between the file at off and buf (inside b), whatever the
 * churn threads do to b meanwhile: an EFAULT or a short copy is counted, and
 * the rest is retried once the mapping change in progress has finished (its
 * lock is free), so one count is one race lost, not a spin.
 */
static int transfer(struct io_thread *t, enum dir d, struct buf *b, char *buf, size_t len,
		    uint64_t off)
{
	struct io_remap_state *s = t->s;
	size_t done = 0;

	while (done < len) {
		uint64_t t0 = mmr_now_ns(), dt;
		ssize_t n;

		if (s->uring) {
			n = uring_call(t, d, buf + done, len - done, off + done);
		} else {
			n = d == WR ? pwrite(s->fd, buf + done, len - done, (off_t)(off + done))
				    : pread(s->fd, buf + done, len - done, (off_t)(off + done));
			if (n < 0)
				n = -errno;
		}
		dt = mmr_now_ns() - t0;
		if (n > 0) {
			mmr_hist_add(&t->lat[d], dt);
			if ((size_t)n < len - done)
				t->shorts[d]++;
			done += (size_t)n;
		} else if (n == -EFAULT) {
			t->efault[d]++;
			if (mmr_crew_failed(s->crew))
				return -ECANCELED; /* a churn thread failed: no retry helps */
			pthread_mutex_lock(&b->churn_lock);
			pthread_mutex_unlock(&b->churn_lock);
		} else if (n != -EINTR && n != -EAGAIN) {
			mmr_crew_fail(s->crew, "io thread %u: %s of %zu bytes at offset %llu: %s",
				      t->idx, d == WR ? "write" : "read", len - done,
				      (unsigned long long)(off + done),
				      n ? strerror((int)-n) : "returned 0");
			return n ? (int)n : -EIO;
		}
	}
	return 0;
}

/* self: read the block back into memory nobody churns, to check it there */
static int read_back(struct io_thread *t, uint64_t off, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(t->s->fd, t->check + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			mmr_crew_fail(t->s->crew, "io thread %u: reading back offset %llu: %s",
				      t->idx, (unsigned long long)(off + done),
				      n ? strerror(errno) : "unexpected end of file");
			return -EIO;
		}
		done += (size_t)n;
	}
	return 0;
}

/* One block: the next generation in, through the churned buffers, checked. */
int io_remap_io_unit(struct mmr_crew *crew, unsigned i, void *arg)
{
	struct io_remap_state *s = arg;
	struct io_thread *t = &s->io[i];
	const struct io_remap_params *p = s->p;
	uint64_t off = t->base + t->next, bo = s->self ? t->next : 0;
	size_t len = p->io_size;
	char *check = s->self ? t->check : t->check + bo, c;
	struct mmr_pattern_err e;
	int ret;

	atomic_store_explicit(&t->cur, bo, memory_order_relaxed);
	mmr_pattern_fill(&s->pat, t->fill + bo, len, off, t->gen);
	ret = transfer(t, WR, &t->src, t->src.addr + bo, len, off);
	if (!ret)
		ret = transfer(t, RD, &t->dst, t->dst.addr + bo, len, off);
	if (!ret && s->self)
		ret = read_back(t, off, len);
	if (ret)
		return ret;
	if (p->inject_flip_at >= 0 && !t->flipped && (uint64_t)p->inject_flip_at >= off &&
	    (uint64_t)p->inject_flip_at < off + len) {
		check[(uint64_t)p->inject_flip_at - off] ^= 0x01;
		t->flipped = true;
	}
	if (mmr_pattern_check(&s->pat, check, len, off, t->gen, &e)) {
		mmr_crew_fail(crew, "corrupted data: io thread %u, file offset %llu: %s", t->idx,
			      (unsigned long long)e.offset, e.what);
		return -EILSEQ;
	}
	t->verified += len;
	t->bytes += 2 * len;
	t->next += len;
	if (t->next >= s->span) {
		t->next = 0;
		t->gen++;
	}
	/* the test hook: stuck in the kernel, as a deadlock would be */
	if (p->inject_stall && t->idx == 0 && read(s->stall_pipe[0], &c, 1) < 0)
		return -errno;
	return 0;
}

/* ---- churn and fault threads ---- */

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Change the mapping of a page range inside the block an io thread copies. */
int io_remap_churn_unit(struct mmr_crew *crew, unsigned i, void *arg)
{
	struct io_remap_state *s = arg;
	struct side_thread *c = &s->churn[i];
	const struct io_remap_params *p = s->p;
	uint64_t r = xorshift(&c->rng), page = mmr_page_size(), npages = p->io_size / page;
	struct io_thread *t = &s->io[r % (uint64_t)p->io_threads];
	struct buf *b = (r >> 16) & 1 ? &t->src : &t->dst;
	uint64_t first = (r >> 17) % npages, count = 1 + (r >> 40) % (npages - first);
	uint64_t at = atomic_load_explicit(&t->cur, memory_order_relaxed) + first * page;
	char *addr = b->addr + at;
	size_t len = count * page;
	const char *kind = p->churn;
	void *m = addr;
	int ret = 0;

	if (!strcmp(kind, "mix"))
		kind = io_remap_churn_modes[c->ops % 3];
	pthread_mutex_lock(&b->churn_lock);
	if (!strcmp(kind, "munmap")) {
		/* the range is unmapped until mmap returns: the race of C7.
		 * NOREPLACE: nothing else in this process maps memory while the
		 * window is open, so the range is still free; if not, say so. */
		if (munmap(addr, len) == 0)
			m = mmap(addr, len, BUF_PROT, MAP_SHARED | MAP_FIXED_NOREPLACE, b->fd,
				 b->fd_off + (off_t)at);
		else
			m = MAP_FAILED;
	} else if (!strcmp(kind, "fixed")) {
		m = mmap(addr, len, BUF_PROT, MAP_SHARED | MAP_FIXED, b->fd, b->fd_off + (off_t)at);
	} else if (mprotect(addr, len, PROT_NONE) || mprotect(addr, len, BUF_PROT)) {
		ret = -errno;
	}
	if (m != addr) {
		ret = m == MAP_FAILED ? -errno : -EEXIST;
		if (m != MAP_FAILED)
			munmap(m, len);
	}
	pthread_mutex_unlock(&b->churn_lock);
	if (ret) {
		mmr_crew_fail(crew, "churn thread %u: %s of %zu bytes at %p: %s", c->idx, kind, len,
			      (void *)addr, strerror(-ret));
		return ret;
	}
	c->ops++;
	return 0;
}

/* Fault every page of the thread's own memory in, then zap it all. */
int io_remap_fault_unit(struct mmr_crew *crew, unsigned i, void *arg)
{
	struct io_remap_state *s = arg;
	struct side_thread *f = &s->fault[i];
	uint64_t page = mmr_page_size(), size = s->p->fault_size;

	(void)crew;
	for (uint64_t at = 0; at < size; at += page)
		FORCE_READ(f->region[at]) = 1; /* a write fault */
	madvise(f->region, size, MADV_DONTNEED);
	f->pages += size / page;
	return 0;
}
