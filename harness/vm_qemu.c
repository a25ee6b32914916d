// SPDX-License-Identifier: GPL-2.0
/*
 * One boot of qemu-system-x86_64, supervised until the guest has said all it
 * had to say or has proven it never will. ttyS0 is the console (kernel log
 * and mmrepro's progress, streamed to our stderr and kept in a log file);
 * ttyS1 is the report channel, a file qemu appends to and we re-read. qemu's
 * exit status decides nothing: it exits 0 after a guest panic as after a
 * clean power-off (-no-reboot, panic=-1), so only the channel's records say
 * the guest finished. qemu runs in its own process group with
 * PR_SET_PDEATHSIG, and every path out of here kills and reaps it.
 */
#include "mmrepro/util.h"
#include "mmrepro/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

volatile int mmr_vm_stop_signal;

#define POLL_MS	     100
#define POWEROFF_S   15.0 /* after "exit", for the guest to power off */
#define TERM_GRACE_S 3.0

struct sup {
	const struct mmr_vm_boot *b;
	struct mmr_vm_result *r;
	pid_t pid;
	int con_fd, err_fd, chan_fd;
	char line[1024]; /* console line being assembled */
	size_t linelen;
	bool streaming; /* /init has begun: its lines go to stderr */
	char *chan;	/* the channel's bytes so far */
	size_t chan_len, chan_cap;
	char err_tail[1024];
};

static double since(uint64_t t0)
{
	return (double)(mmr_now_ns() - t0) / 1e9;
}

static char **qemu_argv(const struct mmr_vm_boot *b, enum mmr_vm_accel accel, const char *chan)
{
	char **v = calloc(48, sizeof(*v));
	int n = 0;

	if (!v)
		return NULL;
	v[n++] = strdup(b->qemu);
	v[n++] = strdup("-nodefaults");
	v[n++] = strdup("-no-user-config");
	v[n++] = strdup("-display");
	v[n++] = strdup("none");
	v[n++] = strdup("-no-reboot");
	v[n++] = strdup("-accel");
	/* single-threaded TCG: multi-threaded TCG oopses 6.12 at boot now and then */
	v[n++] = strdup(accel == MMR_VM_KVM ? "kvm" : "tcg,thread=single");
	v[n++] = strdup("-cpu");
	v[n++] = strdup(accel == MMR_VM_KVM ? "host" : "max");
	v[n++] = strdup("-smp");
	v[n++] = mmr_strdup_printf("%u", b->cpus);
	v[n++] = strdup("-m");
	v[n++] = mmr_strdup_printf("%lluM", (unsigned long long)(b->mem / MMR_MiB));
	v[n++] = strdup("-kernel");
	v[n++] = strdup(b->k->path);
	v[n++] = strdup("-initrd");
	v[n++] = strdup(b->initrd);
	v[n++] = strdup("-append");
	v[n++] = mmr_strdup_printf("console=ttyS0 panic=-1 quiet rdinit=/init%s%s",
				   b->append && *b->append ? " " : "", b->append ? b->append : "");
	v[n++] = strdup("-chardev");
	v[n++] = strdup("stdio,id=con,signal=off");
	v[n++] = strdup("-serial");
	v[n++] = strdup("chardev:con");
	v[n++] = strdup("-chardev");
	v[n++] = mmr_strdup_printf("file,id=chan,path=%s", chan);
	v[n++] = strdup("-serial");
	v[n++] = strdup("chardev:chan");
	for (int i = 0; i < n; i++) {
		if (!v[i]) {
			for (int j = 0; j < n; j++)
				free(v[j]);
			free(v);
			return NULL;
		}
	}
	return v;
}

static void free_argv(char **v)
{
	for (int i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int spawn(struct sup *s, char **argv)
{
	int con[2], err[2];
	pid_t parent = getpid();

	if (pipe2(con, O_CLOEXEC))
		return -errno;
	if (pipe2(err, O_CLOEXEC)) {
		close(con[0]);
		close(con[1]);
		return -errno;
	}
	s->pid = fork();
	if (s->pid < 0) {
		int e = errno;

		close(con[0]);
		close(con[1]);
		close(err[0]);
		close(err[1]);
		return -e;
	}
	if (s->pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		/* its own group: a terminal's ^C reaches us, and we stop qemu */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		if (null < 0 || dup2(null, 0) < 0 || dup2(con[1], 1) < 0 || dup2(err[1], 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(con[1]);
	close(err[1]);
	s->con_fd = con[0];
	s->err_fd = err[0];
	fcntl(s->con_fd, F_SETFL, O_NONBLOCK);
	fcntl(s->err_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

static void console_line(struct sup *s)
{
	char *l = s->line;

	s->line[s->linelen] = '\0';
	l[strcspn(l, "\r")] = '\0';
	if (strstr(l, "Kernel panic - not syncing") && !s->r->panic[0])
		snprintf(s->r->panic, sizeof(s->r->panic), "%.*s", (int)sizeof(s->r->panic) - 1, l);
	/* /init announces itself with this prefix (scripts/vm-init) */
	if (!strncmp(l, "mmrepro-vm: ", 12))
		s->streaming = true;
	if (!s->b->quiet && (s->b->verbose || s->streaming || s->r->panic[0]))
		fprintf(stderr, "guest| %s\n", l);
	s->linelen = 0;
}

static void read_console(struct sup *s)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(s->con_fd, buf, sizeof(buf))) > 0) {
		if (s->b->console_log)
			fwrite(buf, 1, (size_t)n, s->b->console_log);
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' || s->linelen == sizeof(s->line) - 1)
				console_line(s);
			if (buf[i] != '\n')
				s->line[s->linelen++] = buf[i];
		}
	}
	if (s->b->console_log)
		fflush(s->b->console_log);
}

/* Keep the last bytes of qemu's stderr: it says why it stopped at the end. */
static void tail_append(char *tail, size_t cap, const char *add, size_t n)
{
	size_t have = strlen(tail);

	if (n >= cap) {
		add += n - (cap - 1);
		n = cap - 1;
		have = 0;
	} else if (have + n >= cap) {
		size_t drop = have + n - (cap - 1);

		memmove(tail, tail + drop, have - drop);
		have -= drop;
	}
	memcpy(tail + have, add, n);
	tail[have + n] = '\0';
}

static void read_stderr(struct sup *s)
{
	char buf[512];
	ssize_t n;

	while ((n = read(s->err_fd, buf, sizeof(buf))) > 0)
		tail_append(s->err_tail, sizeof(s->err_tail), buf, (size_t)n);
}

/* Returns 0, or -EPROTO when the channel broke the protocol. */
static int read_channel(struct sup *s)
{
	ssize_t n;

	for (;;) {
		if (s->chan_cap - s->chan_len < 65536) {
			char *nc = realloc(s->chan, s->chan_cap * 2 + 65536);

			if (!nc)
				return -ENOMEM;
			s->chan = nc;
			s->chan_cap = s->chan_cap * 2 + 65536;
		}
		n = pread(s->chan_fd, s->chan + s->chan_len, s->chan_cap - s->chan_len,
			  (off_t)s->chan_len);
		if (n <= 0)
			break;
		s->chan_len += (size_t)n;
	}
	return mmr_vm_channel_feed(&s->r->ch, s->chan, s->chan_len);
}

static bool reap(struct sup *s, int flags)
{
	pid_t p;

	if (s->pid <= 0)
		return true;
	do
		p = waitpid(s->pid, &s->r->qemu_status, flags);
	while (p < 0 && errno == EINTR);
	if (p == s->pid || (p < 0 && errno == ECHILD)) {
		s->pid = 0;
		return true;
	}
	return false;
}

static void stop_qemu(struct sup *s)
{
	uint64_t t0 = mmr_now_ns();

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	while (!reap(s, WNOHANG)) {
		if (since(t0) > TERM_GRACE_S) {
			kill(s->pid, SIGKILL);
			reap(s, 0);
			break;
		}
		usleep(20 * 1000);
	}
}

static enum mmr_vm_outcome supervise(struct sup *s, enum mmr_vm_accel accel, uint64_t t0)
{
	struct mmr_vm_result *r = s->r;
	double boot_timeout = s->b->boot_timeout;
	double exit_seen = -1;

	for (;;) {
		struct pollfd p[2] = { { s->con_fd, POLLIN, 0 }, { s->err_fd, POLLIN, 0 } };
		bool gone;

		poll(p, 2, POLL_MS);
		read_console(s);
		read_stderr(s);
		if (read_channel(s))
			return MMR_VM_GARBAGE;
		if (r->ch.ready && r->wall_ready == 0)
			r->wall_ready = since(t0);
		if (mmr_vm_stop_signal) {
			r->signal = mmr_vm_stop_signal;
			return MMR_VM_SIGNAL;
		}
		if (accel == MMR_VM_KVM && strstr(s->err_tail, "KVM internal error"))
			return MMR_VM_QEMU_ERR; /* qemu pauses the guest rather than exit */
		gone = reap(s, WNOHANG);
		if (gone) {
			/* drain what it wrote before it went */
			read_console(s);
			read_stderr(s);
			if (read_channel(s))
				return MMR_VM_GARBAGE;
			if (r->ch.exited)
				return MMR_VM_DONE;
			if (!r->ch.ready &&
			    (!WIFEXITED(r->qemu_status) || WEXITSTATUS(r->qemu_status) != 0) &&
			    !r->panic[0])
				return MMR_VM_QEMU_ERR;
			return MMR_VM_DIED;
		}
		if (r->ch.exited) {
			if (exit_seen < 0)
				exit_seen = since(t0);
			else if (since(t0) - exit_seen > POWEROFF_S)
				return MMR_VM_DONE; /* said all it had; stop it */
			continue;
		}
		if (!r->ch.ready && since(t0) > boot_timeout)
			return MMR_VM_NO_ANSWER;
		if (r->ch.ready && since(t0) > s->b->timeout)
			return MMR_VM_TIMEOUT;
	}
}

int mmr_vm_boot_once(const struct mmr_vm_boot *b, enum mmr_vm_accel accel, struct mmr_vm_result *r)
{
	struct sup s = { .b = b, .r = r, .pid = -1, .con_fd = -1, .err_fd = -1, .chan_fd = -1 };
	char *chan = mmr_strdup_printf("%s/channel-%s", b->run_dir, mmr_vm_accel_name(accel));
	char **argv = chan ? qemu_argv(b, accel, chan) : NULL;
	uint64_t t0 = mmr_now_ns();
	int ret = 0;

	memset(r, 0, sizeof(*r));
	if (!argv) {
		ret = -ENOMEM;
		goto out;
	}
	unlink(chan);
	s.chan_fd = open(chan, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s.chan_fd < 0) {
		ret = -errno;
		goto out;
	}
	if (mmr_verbose) {
		fprintf(stderr, "mmrepro: vm:");
		for (int i = 0; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fputc('\n', stderr);
	}
	ret = spawn(&s, argv);
	if (ret)
		goto out;
	r->outcome = supervise(&s, accel, t0);
	stop_qemu(&s);
	read_console(&s);
	read_stderr(&s);
	if (s.linelen)
		console_line(&s);
	r->wall_total = since(t0);
	snprintf(r->qemu_err, sizeof(r->qemu_err), "%s", s.err_tail);
out:
	if (s.pid > 0)
		stop_qemu(&s);
	if (s.con_fd >= 0)
		close(s.con_fd);
	if (s.err_fd >= 0)
		close(s.err_fd);
	if (s.chan_fd >= 0)
		close(s.chan_fd);
	free(s.chan);
	free_argv(argv);
	free(chan);
	return ret;
}
