// SPDX-License-Identifier: GPL-2.0
/*
 * mmrepro vm: run an mmrepro command inside another kernel, booted under
 * qemu from an initramfs that carries mmrepro, and bring its report home.
 * Everything that can be checked is checked before qemu starts (kernel
 * image, config, memory); success is decided by what the guest sent back,
 * never by qemu's exit status.
 */
#include "mmrepro/commands.h"
#include "mmrepro/config.h"
#include "mmrepro/memguard.h"
#include "mmrepro/runner.h"
#include "mmrepro/util.h"
#include "mmrepro/vm.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define QEMU_OVERHEAD (512 * MMR_MiB)	   /* qemu's own memory beside the guest's */
#define GUEST_REPORT  "/mmrvm/report.json" /* scripts/vm-init sends it */

struct vm_opts {
	const char *kernel, *debian, *append, *output, *log;
	enum mmr_vm_accel accel;
	unsigned cpus;
	uint64_t mem;
	double timeout, boot_timeout, kvm_probe;
	bool fetch_only, quiet;
};

static void vm_usage(FILE *f)
{
	fprintf(f,
		"usage: mmrepro vm (--kernel BZIMAGE | --debian SERIES) [options] -- <command>\n\n"
		"Boot a kernel image under qemu-system-x86_64 with mmrepro inside and run\n"
		"<command> there (`run CONFIG [--set ...]`, `env` or `list`). Nothing is\n"
		"installed into the kernel's userland: the guest boots an initramfs holding\n"
		"busybox-static, this mmrepro with its shared libraries and the configs\n"
		"(cached under the cache dir). The guest's stderr is streamed here as it\n"
		"runs; its report comes back through the second serial port (never the\n"
		"console, so kernel messages cannot corrupt it) and is written to -o with\n"
		"a \"vm\" section (kernel image, qemu, accelerator, boot time); the guest's\n"
		"kernel log goes beside it as <report>.dmesg, the console as .console.log.\n"
		"The guest's fingerprint records the accelerator\n"
		"(fingerprint.virtualization.accelerator).\n\n"
		"Options:\n"
		"  -k, --kernel FILE     an x86 bzImage (arch/x86/boot/bzImage, /boot/vmlinuz-*);\n"
		"                        its config-<release> or build tree .config, when found\n"
		"                        beside it, goes into the guest for the fingerprint\n"
		"  -d, --debian WHAT     a Debian cloud kernel: 6.1 or 6.12 (the newest of that\n"
		"                        series apt offers), an ABI (6.1.0-56) or a package\n"
		"                        name; fetched with apt-get download into the cache\n"
		"      --fetch-only      fetch the --debian kernel, print its path, boot nothing\n"
		"  -c, --cpus N          guest CPUs (default 2)\n"
		"  -m, --mem SIZE        guest memory (default 4G); refused unless it fits in\n"
		"                        MemAvailable minus the memory guard's margin\n"
		"      --accel A         auto | kvm | tcg (default auto: KVM when /dev/kvm\n"
		"                        answers and the guest comes up under it within the\n"
		"                        --kvm-probe time, else TCG with a warning). TCG runs\n"
		"                        single-threaded: multi-threaded TCG oopses 6.12 at boot\n"
		"                        now and then. TCG timings are not hardware timings.\n"
		"      --kvm-probe DUR   how long a KVM guest gets to reach /init (default 20s);\n"
		"                        a failure is remembered until the host reboots\n"
		"  -a, --append ARGS     more kernel command line (after console=ttyS0 panic=-1\n"
		"                        quiet rdinit=/init)\n"
		"  -o, --output FILE     the report (default reports/runs/vm-<config>-<release>-\n"
		"                        <time>.json); `run` only; run's own -o means the same\n"
		"      --log FILE        the guest console (default <report>.console.log)\n"
		"      --boot-timeout D  give up when /init has not answered after D (default 3m)\n"
		"  -t, --timeout D       give up when the guest has not finished after D\n"
		"                        (default 2h)\n"
		"  -q, --quiet           do not stream the guest's output\n"
		"  -v, --verbose         stream the kernel's boot messages and qemu's command too\n"
		"  -h, --help            this text\n\n"
		"Environment: MMREPRO_CACHE_DIR (default /var/cache/mmrepro) holds kernels/ and\n"
		"initramfs/; MMREPRO_QEMU names the qemu binary (default qemu-system-x86_64);\n"
		"the run's scratch directory goes in TMPDIR (default /tmp) and is removed.\n\n"
		"Exit status: the guest mmrepro's own (below) when it answered; 10 when the\n"
		"guest failed: it panicked, never answered, timed out or sent garbage (the\n"
		"console log says more).\n\n%s",
		mmr_exit_codes_help);
}

static void on_signal(int sig)
{
	mmr_vm_stop_signal = sig;
}

static int parse_opts(int argc, char **argv, struct vm_opts *o)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "debian", required_argument, NULL, 'd' },
		{ "fetch-only", no_argument, NULL, 'F' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "mem", required_argument, NULL, 'm' },
		{ "accel", required_argument, NULL, 'A' },
		{ "kvm-probe", required_argument, NULL, 'P' },
		{ "append", required_argument, NULL, 'a' },
		{ "output", required_argument, NULL, 'o' },
		{ "log", required_argument, NULL, 'L' },
		{ "boot-timeout", required_argument, NULL, 'B' },
		{ "timeout", required_argument, NULL, 't' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	/* '+': stop at the first word of the guest's command */
	while ((c = getopt_long(argc, argv, "+k:d:c:m:a:o:t:qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->kernel = optarg;
			break;
		case 'd':
			o->debian = optarg;
			break;
		case 'F':
			o->fetch_only = true;
			break;
		case 'c':
			errno = 0;
			o->cpus = (unsigned)strtoul(optarg, &end, 10);
			if (errno || *end || o->cpus < 1 || o->cpus > 64) {
				mmr_err("vm: --cpus %s: expected a number of CPUs in 1..64",
					optarg);
				return -EINVAL;
			}
			break;
		case 'm':
			if (mmr_parse_size(optarg, &o->mem) || o->mem < 256 * MMR_MiB ||
			    o->mem % MMR_MiB) {
				mmr_err("vm: --mem %s: expected a size like 4G, at least 256M, in "
					"whole MiB",
					optarg);
				return -EINVAL;
			}
			break;
		case 'A':
			if (!strcmp(optarg, "auto"))
				o->accel = MMR_VM_AUTO;
			else if (!strcmp(optarg, "kvm"))
				o->accel = MMR_VM_KVM;
			else if (!strcmp(optarg, "tcg"))
				o->accel = MMR_VM_TCG;
			else {
				mmr_err("vm: --accel %s: expected auto, kvm or tcg", optarg);
				return -EINVAL;
			}
			break;
		case 'P':
		case 'B':
		case 't': {
			double *d = c == 'P'   ? &o->kvm_probe
				    : c == 'B' ? &o->boot_timeout
					       : &o->timeout;

			if (mmr_parse_duration(optarg, d) || *d <= 0) {
				mmr_err("vm: %s %s: expected a duration like 90s, 10m or 2h",
					c == 'P'   ? "--kvm-probe"
					: c == 'B' ? "--boot-timeout"
						   : "--timeout",
					optarg);
				return -EINVAL;
			}
			break;
		}
		case 'a':
			o->append = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'L':
			o->log = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			mmr_verbose = 1;
			break;
		case 'h':
			vm_usage(stdout);
			return 1;
		default:
			vm_usage(stderr);
			return -EINVAL;
		}
	}
	if (!o->kernel == !o->debian) {
		mmr_err("vm: which kernel? give one of --kernel FILE or --debian 6.1|6.12");
		return -EINVAL;
	}
	if (o->fetch_only && !o->debian) {
		mmr_err("vm: --fetch-only goes with --debian");
		return -EINVAL;
	}
	return 0;
}

/* ---- the guest's command ---- */

struct guest_cmd {
	char **argv;
	size_t argc;
	char **files; /* host config files the guest must see at the same path */
	size_t nfiles;
	bool want_report;
	const char *output; /* run's own -o, when given there */
	char *config_name;  /* for the default report name */
};

static int add_string(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* A config and every file it includes, recursively, by absolute path. */
static int collect_config(struct guest_cmd *g, const char *path)
{
	char real[PATH_MAX], dir[PATH_MAX];
	json_t *root, *cases, *v;
	json_error_t je;
	size_t i;
	int ret;

	if (!realpath(path, real))
		return -errno;
	for (i = 0; i < g->nfiles; i++)
		if (!strcmp(g->files[i], real))
			return 0;
	ret = add_string(&g->files, &g->nfiles, real);
	if (ret)
		return ret;
	root = json_load_file(real, 0, &je);
	if (!root)
		return 0; /* the host-side load names the error */
	mmr_vm_dirname(real, dir, sizeof(dir));
	cases = json_object_get(root, "cases");
	for (i = 0; i <= json_array_size(cases); i++) {
		json_t *entry = i < json_array_size(cases) ? json_array_get(cases, i) : root;
		const char *inc = json_string_value(json_object_get(entry, "include"));
		char *p;

		if (!inc)
			continue;
		p = inc[0] == '/' ? strdup(inc) : mmr_strdup_printf("%s/%s", dir, inc);
		ret = p ? collect_config(g, p) : -ENOMEM;
		free(p);
		if (ret && ret != -ENOENT)
			break;
		ret = 0;
	}
	v = json_object_get(root, "name");
	if (!g->config_name && json_is_string(v))
		g->config_name = strdup(json_string_value(v));
	json_decref(root);
	return ret;
}

/*
 * Check `run`'s arguments here, with mmrepro's own config loader, so that a
 * bad config costs no boot; rewrite a config path to its absolute path (the
 * guest sees the file there), and send the report to GUEST_REPORT.
 */
static int prepare_run(struct guest_cmd *g, int argc, char **argv)
{
	struct mmr_overrides ov = { 0 };
	struct mmr_config cfg;
	enum mmr_scale scale = MMR_SCALE_DEFAULT;
	bool scale_given = false, dry = false;
	const char *target = NULL;
	char err[2048];
	int ret = 0;

	for (int i = 1; i < argc && !ret; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strncmp(a, "--set=", 6) || !strncmp(a, "--scale=", 8) ||
		    !strncmp(a, "--output=", 9)) {
			mmr_err("vm: run %s: write \"%.*s VALUE\" (two words) after --", a,
				(int)strcspn(a, "="), a);
			ret = -EINVAL;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			/* run's -o is where the report lands on the host */
			if (!val || g->output) {
				mmr_err("vm: run %s: %s", a,
					val ? "the report's path is given twice" : "needs a path");
				ret = -EINVAL;
			}
			g->output = val;
			i++;
		} else if (!strcmp(a, "-s") || !strcmp(a, "--set") || !strcmp(a, "--scale")) {
			if (!val) {
				mmr_err("vm: run %s needs a value", a);
				ret = -EINVAL;
			} else if (a[2] == 's' && a[3] == 'c') {
				ret = mmr_scale_parse(val, &scale);
				scale_given = true;
				if (ret)
					mmr_err("vm: run --scale %s: expected ci|default|full",
						val);
			} else if (mmr_overrides_add(&ov, val, err, sizeof(err))) {
				mmr_err("%s", err);
				ret = -EINVAL;
			}
			i++;
		} else if (!strcmp(a, "-n") || !strcmp(a, "--dry-run")) {
			dry = true;
		} else if (a[0] != '-') {
			if (target) {
				mmr_err("vm: run: one config, suite or workload at a time");
				ret = -EINVAL;
			}
			target = a;
		}
	}
	if (!ret && !target) {
		mmr_err("vm: run: which config, suite or workload? (see `mmrepro run --help`)");
		ret = -EINVAL;
	}
	if (!ret) {
		ret = mmr_config_load(target, &ov, scale, scale_given, &cfg, err, sizeof(err));
		if (ret) {
			mmr_err("%s", err);
			ret = -EINVAL;
		} else {
			mmr_config_free(&cfg);
		}
	}
	mmr_overrides_free(&ov);
	if (ret)
		return ret;
	for (int i = 0; i < argc && !ret; i++) {
		if (argv[i] == g->output || (argv[i + 1] == g->output && g->output)) {
			continue; /* -o and its path: the guest writes GUEST_REPORT */
		} else if (argv[i] == target && mmr_path_exists(target)) {
			char real[PATH_MAX];

			ret = collect_config(g, target);
			if (!ret && realpath(target, real))
				ret = add_string(&g->argv, &g->argc, real);
		} else {
			ret = add_string(&g->argv, &g->argc, argv[i]);
		}
	}
	if (!g->config_name)
		g->config_name = strdup(strrchr(target, '/') ? strrchr(target, '/') + 1 : target);
	g->want_report = !dry;
	if (!ret && g->want_report) {
		ret = add_string(&g->argv, &g->argc, "-o");
		if (!ret)
			ret = add_string(&g->argv, &g->argc, GUEST_REPORT);
	}
	return ret;
}

static int prepare_guest(struct guest_cmd *g, int argc, char **argv)
{
	if (argc == 0) {
		mmr_err("vm: what should the guest run? e.g. `mmrepro vm --debian 6.12 -- run "
			"quick` (see `mmrepro vm --help`)");
		return -EINVAL;
	}
	if (!strcmp(argv[0], "run"))
		return prepare_run(g, argc, argv);
	if (strcmp(argv[0], "env") && strcmp(argv[0], "list")) {
		mmr_err("vm: the guest runs `run`, `env` or `list`, not \"%s\"", argv[0]);
		return -EINVAL;
	}
	for (int i = 0; i < argc; i++)
		if (add_string(&g->argv, &g->argc, argv[i]))
			return -ENOMEM;
	return 0;
}

static void free_guest(struct guest_cmd *g)
{
	free_strings(g->argv, g->argc);
	free_strings(g->files, g->nfiles);
	free(g->config_name);
}

/* ---- after the boot ---- */

static json_t *vm_section(const struct vm_opts *o, const struct mmr_vm_kernel *k,
			  const struct mmr_vm_boot *b, const struct mmr_vm_result *r,
			  enum mmr_vm_accel used, const char *fallback)
{
	json_t *vm = json_object(), *kj = json_object();
	char qemu[256], cpu[256] = "";
	char *info = mmr_slurp("/proc/cpuinfo", NULL), *m;
	struct utsname u;

	uname(&u);
	mmr_vm_qemu_version(b->qemu, qemu, sizeof(qemu));
	m = info ? strstr(info, "model name") : NULL;
	if (m && strchr(m, ':'))
		sscanf(strchr(m, ':') + 1, " %255[^\n]", cpu);
	free(info);
	json_object_set_new(kj, "path", json_string(k->path));
	json_object_set_new(kj, "release", json_string(k->release));
	json_object_set_new(kj, "size_bytes", json_integer((json_int_t)k->size));
	json_object_set_new(kj, "config", k->config[0] ? json_string(k->config) : json_null());
	json_object_set_new(kj, "debian_package",
			    k->package[0] ? json_string(k->package) : json_null());
	json_object_set_new(kj, "debian_version",
			    k->version[0] ? json_string(k->version) : json_null());
	json_object_set_new(vm, "kernel", kj);
	json_object_set_new(vm, "guest_release", json_string(r->ch.release));
	json_object_set_new(vm, "accelerator", json_string(mmr_vm_accel_name(used)));
	json_object_set_new(vm, "accel_requested", json_string(mmr_vm_accel_name(o->accel)));
	json_object_set_new(vm, "kvm_fallback", fallback ? json_string(fallback) : json_null());
	json_object_set_new(vm, "qemu", json_string(qemu));
	json_object_set_new(vm, "cpus", json_integer(b->cpus));
	json_object_set_new(vm, "mem_bytes", json_integer((json_int_t)b->mem));
	json_object_set_new(vm, "append", json_string(b->append ? b->append : ""));
	json_object_set_new(vm, "host_release", json_string(u.release));
	json_object_set_new(vm, "host_cpu_model", json_string(cpu));
	json_object_set_new(vm, "boot_to_init_s", json_real(r->wall_ready));
	json_object_set_new(vm, "guest_uptime_at_init_s", json_real(r->ch.ready_uptime));
	json_object_set_new(vm, "wall_s", json_real(r->wall_total));
	return vm;
}

static char *sibling(const char *report, const char *suffix)
{
	size_t len = strlen(report);

	if (len > 5 && !strcmp(report + len - 5, ".json"))
		len -= 5;
	return mmr_strdup_printf("%.*s%s", (int)len, report, suffix);
}

static int write_text(const char *path, const char *data, size_t len)
{
	char dir[PATH_MAX];
	int ret;

	mmr_vm_dirname(path, dir, sizeof(dir));
	ret = strcmp(dir, ".") ? mmr_mkdirs(dir, 0755) : 0;
	return ret ? ret : mmr_write_atomic(path, data, len);
}

/* The report as the guest wrote it, with the host's "vm" section added. */
static int save_report(const char *path, const struct mmr_vm_result *r, json_t *vm)
{
	json_error_t je;
	json_t *rep = json_loadb(r->ch.report, r->ch.report_len, 0, &je);
	char *text;
	int ret;

	if (!json_is_object(rep)) {
		mmr_err("vm: the guest's report is not a JSON object (%s, line %d)", je.text,
			je.line);
		json_decref(rep);
		json_decref(vm);
		return -EBADMSG;
	}
	json_object_set_new(rep, "vm", vm);
	text = json_dumps(rep, JSON_INDENT(2));
	json_decref(rep);
	if (!text)
		return -ENOMEM;
	ret = write_text(path, text, strlen(text));
	free(text);
	if (ret)
		mmr_err("vm: cannot write the report %s: %s", path, strerror(-ret));
	return ret;
}

static int explain_failure(const struct mmr_vm_boot *b, const struct mmr_vm_result *r,
			   const char *log)
{
	char where[PATH_MAX + 32] = "";
	const char *qe = r->qemu_err;
	char last[256] = "";

	if (log)
		snprintf(where, sizeof(where), " (guest console: %s)", log);
	/* qemu's last stderr line says why it stopped */
	if (*qe) {
		const char *p = qe + strlen(qe);

		while (p > qe && (p[-1] == '\n' || p[-1] == '\r'))
			p--;
		while (p > qe && p[-1] != '\n')
			p--;
		snprintf(last, sizeof(last), "%.*s", (int)strcspn(p, "\r\n"), p);
	}
	switch (r->outcome) {
	case MMR_VM_NO_ANSWER:
		mmr_err("vm: the guest never answered: /init did not report within %.0f s%s",
			b->boot_timeout, where);
		break;
	case MMR_VM_TIMEOUT:
		mmr_err("vm: the guest did not finish within --timeout %.0f s%s", b->timeout,
			where);
		break;
	case MMR_VM_GARBAGE:
		mmr_err("vm: %s%s", r->ch.err, where);
		break;
	case MMR_VM_DIED:
		if (r->panic[0])
			mmr_err("vm: the guest kernel panicked: %s%s", r->panic, where);
		else
			mmr_err("vm: the guest stopped before it finished (%s)%s",
				r->ch.ready ? "after /init began" : "before /init began", where);
		break;
	case MMR_VM_QEMU_ERR:
		mmr_err("vm: qemu failed: %s%s", last[0] ? last : "no message", where);
		break;
	default:
		break;
	}
	return MMR_EXIT_GUEST;
}

static int finish(const struct vm_opts *o, const struct guest_cmd *g, const struct mmr_vm_kernel *k,
		  const struct mmr_vm_boot *b, struct mmr_vm_result *r, enum mmr_vm_accel used,
		  const char *fallback, const char *report, const char *log)
{
	int ret;

	if (r->outcome == MMR_VM_SIGNAL) {
		mmr_err("vm: stopped by signal %d; qemu stopped", r->signal);
		return 128 + r->signal;
	}
	if (r->outcome != MMR_VM_DONE)
		return explain_failure(b, r, log);
	if (k->release[0] && strcmp(k->release, r->ch.release))
		mmr_warn("vm: the guest runs %s, but the image says %s", r->ch.release, k->release);
	if (r->ch.out_len)
		fwrite(r->ch.out, 1, r->ch.out_len, stdout);
	fflush(stdout);
	if (r->ch.dmesg && report) {
		char *dm = sibling(report, ".dmesg");

		if (!dm || write_text(dm, r->ch.dmesg, r->ch.dmesg_len))
			mmr_warn("vm: cannot write the guest's kernel log beside %s", report);
		free(dm);
	}
	if (!g->want_report)
		return r->ch.exit_code;
	if (!r->ch.report) {
		if (r->ch.exit_code)
			return r->ch.exit_code; /* mmrepro in the guest said why */
		mmr_err("vm: the guest's mmrepro exited 0 but sent no report%s%s",
			log ? "; guest console: " : "", log ? log : "");
		return MMR_EXIT_GUEST;
	}
	ret = save_report(report, r, vm_section(o, k, b, r, used, fallback));
	if (ret)
		return ret == -EBADMSG ? MMR_EXIT_GUEST : MMR_EXIT_INTERNAL;
	if (!o->quiet)
		mmr_info("report: %s (%s guest %s, booted to /init in %.1f s, %.1f s in all)",
			 report, mmr_vm_accel_name(used), r->ch.release, r->wall_ready,
			 r->wall_total);
	return r->ch.exit_code;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static char *default_report(const struct guest_cmd *g, const struct mmr_vm_kernel *k)
{
	char stamp[32], name[128];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	snprintf(name, sizeof(name), "%s", g->config_name ? g->config_name : "run");
	for (char *p = name; *p; p++)
		if (*p == '/' || *p == ' ')
			*p = '_';
	return mmr_strdup_printf("reports/runs/vm-%s-%s-%s.json", name,
				 k->release[0] ? k->release : "unknown", stamp);
}

static int boot(const struct vm_opts *o, struct guest_cmd *g, struct mmr_vm_kernel *k,
		const char *base)
{
	char *run_dir = mmr_strdup_printf("%s/mmrepro-vm-XXXXXX",
					  getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	char err[1024], why[256];
	struct mmr_vm_boot b = { .k = k,
				 .append = o->append,
				 .cpus = o->cpus,
				 .mem = o->mem,
				 .boot_timeout = o->boot_timeout,
				 .timeout = o->timeout,
				 .run_dir = run_dir,
				 .quiet = o->quiet,
				 .verbose = mmr_verbose };
	struct mmr_vm_guest guest = { .argv = g->argv,
				      .argc = (int)g->argc,
				      .k = k,
				      .files = g->files,
				      .nfiles = g->nfiles };
	enum mmr_vm_accel accel = o->accel;
	struct mmr_vm_result r;
	char *initrd = NULL, *report = NULL, *log = NULL, *fallback = NULL;
	FILE *logf = NULL;
	int ret;

	b.qemu = getenv("MMREPRO_QEMU") ? getenv("MMREPRO_QEMU") : "qemu-system-x86_64";
	if (accel == MMR_VM_AUTO && !mmr_vm_kvm_usable(why, sizeof(why))) {
		if (mmr_verbose)
			mmr_info("vm: %s: using TCG", why);
		accel = MMR_VM_TCG;
	} else if (accel == MMR_VM_AUTO && mmr_vm_kvm_failed_before(k, why, sizeof(why))) {
		fallback = strdup(why);
		mmr_warn("vm: KVM failed this kernel earlier since the host booted (%s); using "
			 "TCG",
			 why);
		accel = MMR_VM_TCG;
	}
	if (!run_dir || !mkdtemp(run_dir)) {
		mmr_err("vm: cannot make a run directory %s: %s", run_dir ? run_dir : "",
			strerror(errno));
		free(run_dir);
		return MMR_EXIT_INTERNAL;
	}
	initrd = mmr_strdup_printf("%s/initrd.cpio", run_dir);
	report = !g->want_report ? NULL
		 : o->output	 ? strdup(o->output)
		 : g->output	 ? strdup(g->output)
				 : default_report(g, k);
	log = o->log ? strdup(o->log) : report ? sibling(report, ".console.log") : NULL;
	if (!initrd || (g->want_report && !report)) {
		ret = MMR_EXIT_INTERNAL;
		goto out;
	}
	if (log) {
		char dir[PATH_MAX];

		mmr_vm_dirname(log, dir, sizeof(dir));
		mmr_mkdirs(dir, 0755);
		logf = fopen(log, "we");
		if (!logf) {
			mmr_err("vm: cannot write the console log %s: %s", log, strerror(errno));
			ret = MMR_EXIT_INTERNAL;
			goto out;
		}
	}
	b.initrd = initrd;
	b.console_log = logf;
	for (;;) {
		struct mmr_vm_boot this = b;

		guest.accel = mmr_vm_accel_name(accel == MMR_VM_AUTO ? MMR_VM_KVM : accel);
		ret = mmr_vm_run_initramfs(base, initrd, &guest, err, sizeof(err));
		if (ret) {
			mmr_err("vm: %s", err);
			ret = MMR_EXIT_INTERNAL;
			goto out;
		}
		if (accel == MMR_VM_AUTO && o->kvm_probe < this.boot_timeout)
			this.boot_timeout = o->kvm_probe;
		if (!o->quiet)
			mmr_info("vm: booting %s under %s (%u CPUs, %llu MiB)", k->release,
				 accel == MMR_VM_TCG ? "TCG" : "KVM", b.cpus,
				 (unsigned long long)(b.mem / MMR_MiB));
		ret = mmr_vm_boot_once(&this, accel == MMR_VM_AUTO ? MMR_VM_KVM : accel, &r);
		if (ret) {
			mmr_err("vm: cannot start %s: %s", b.qemu, strerror(-ret));
			ret = MMR_EXIT_INTERNAL;
			goto out;
		}
		if (accel != MMR_VM_AUTO || r.outcome == MMR_VM_DONE || r.ch.ready ||
		    r.outcome == MMR_VM_SIGNAL || r.outcome == MMR_VM_GARBAGE)
			break;
		/* KVM did not bring the guest up: say why, and boot again under TCG */
		fallback = mmr_strdup_printf(
			"%s",
			r.outcome == MMR_VM_NO_ANSWER ? "the guest did not reach /init in time"
			: r.outcome == MMR_VM_QEMU_ERR && strstr(r.qemu_err, "KVM internal error")
				? "KVM internal error (emulation failure) during boot"
				: "qemu stopped before the guest reached /init");
		mmr_warn("vm: under KVM %s; falling back to TCG (--accel tcg skips this probe)",
			 fallback);
		mmr_vm_kvm_remember_failure(k, fallback);
		mmr_vm_channel_free(&r.ch);
		accel = MMR_VM_TCG;
		if (logf)
			fprintf(logf,
				"\n==== mmrepro vm: KVM failed (%s); booting under TCG ====\n",
				fallback);
	}
	if (accel == MMR_VM_AUTO)
		accel = MMR_VM_KVM;
	if (logf) {
		fclose(logf);
		logf = NULL;
	}
	ret = finish(o, g, k, &b, &r, accel, fallback, report, log);
	mmr_vm_channel_free(&r.ch);
out:
	if (logf)
		fclose(logf);
	nftw(run_dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(run_dir);
	free(initrd);
	free(report);
	free(log);
	free(fallback);
	return ret;
}

int mmr_cmd_vm(int argc, char **argv)
{
	struct vm_opts o = { .accel = MMR_VM_AUTO,
			     .cpus = 2,
			     .mem = 4 * MMR_GiB,
			     .timeout = 2 * 3600,
			     .boot_timeout = 180,
			     .kvm_probe = 20 };
	struct guest_cmd g = { 0 };
	struct mmr_vm_kernel k;
	struct mmr_memguard mg;
	struct sigaction sa = { .sa_handler = on_signal };
	char err[1024], base[PATH_MAX];
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret)
		return ret > 0 ? MMR_EXIT_OK : MMR_EXIT_USAGE;
	if (!o.fetch_only && prepare_guest(&g, argc - optind, argv + optind)) {
		free_guest(&g);
		return MMR_EXIT_USAGE;
	}
	if (o.output && g.output) {
		mmr_err("vm: the report's path is given twice (-o %s and run -o %s)", o.output,
			g.output);
		free_guest(&g);
		return MMR_EXIT_USAGE;
	}
	if ((o.kernel ? mmr_vm_kernel_check(o.kernel, &k, err, sizeof(err))
		      : mmr_vm_kernel_debian(o.debian, mmr_vm_cache_dir(), &k, err, sizeof(err))) ||
	    mmr_vm_kernel_requirements(&k, err, sizeof(err))) {
		mmr_err("vm: %s", err);
		free_guest(&g);
		return MMR_EXIT_USAGE;
	}
	if (o.fetch_only) {
		printf("%s\n", k.path);
		return MMR_EXIT_OK;
	}
	if (mmr_memguard_read(&mg) || !mmr_memguard_fits(&mg, o.mem + QEMU_OVERHEAD)) {
		mmr_err("vm: --mem %llu MiB (+%llu MiB for qemu) does not fit: %llu MiB available, "
			"%llu MiB kept free; nothing was started",
			(unsigned long long)(o.mem / MMR_MiB),
			(unsigned long long)(QEMU_OVERHEAD / MMR_MiB),
			(unsigned long long)(mg.mem_available / MMR_MiB),
			(unsigned long long)(mg.margin / MMR_MiB));
		free_guest(&g);
		return MMR_EXIT_REFUSED;
	}
	if (mmr_vm_base_initramfs(mmr_vm_cache_dir(), base, sizeof(base), err, sizeof(err))) {
		mmr_err("vm: %s", err);
		free_guest(&g);
		return MMR_EXIT_INTERNAL;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	ret = boot(&o, &g, &k, base);
	free_guest(&g);
	return ret;
}
