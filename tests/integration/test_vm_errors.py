#!/usr/bin/env python3
"""mmrepro vm on bad input and failing guests.

A missing or non-kernel --kernel file, a kernel whose config lacks what
the guest needs built in, a bad config, a guest kernel that panics, a guest
that never answers, one that answers but never finishes, one whose report
channel returns garbage, and a SIGTERM while the guest boots: each gives one
clear error line and a non-zero exit (2 before booting, 10 for a failed
guest, 128+N for a signal), writes no report, and leaves no qemu process and
no scratch directory behind. The failing guests are made with --append, as a
user debugging a kernel would: rdinit= replaces mmrepro's /init by a shell
command (kernel arguments after "--" go to init).
"""
# ctest-labels: vm
# ctest-timeout: 900
import glob
import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
if not shutil.which("qemu-system-x86_64") or not os.path.exists("/bin/busybox"):
    t.check(False, "qemu-system-x86_64 and /bin/busybox are needed (./bootstrap installs them)")
    t.done("test_vm_errors")

r = t.run(["vm", "--help"], check_rc=0)
t.check(r.stdout.startswith("usage: mmrepro vm") and all(
    w in r.stdout for w in ("--kernel", "--debian", "--accel", "TCG timings", "Exit codes", "10")),
    f"vm --help: {r.stdout[:300]}")
for args, words in ((["--", "env"], "which kernel"), (["--kernel", "x", "--debian", "6.1"], "which kernel"),
                    (["--debian", "6.1", "--accel", "hvf", "--", "env"], "--accel hvf: expected"),
                    (["--debian", "6.1", "--mem", "100M", "--", "env"], "at least 256M"),
                    (["--debian", "6.1", "--", "restore"], 'not "restore"'),
                    (["--debian", "6.1", "-o", "a.json", "--", "run", "selftest", "-o", "b.json"],
                     "given twice")):
    r = t.run(["vm"] + args, check_rc=2)
    t.check(words in r.stderr and r.stderr.count("\n") == 1, f"vm {args}: {r.stderr}")

r = t.run(["vm", "--debian", "6.12", "--fetch-only"], timeout=600, check_rc=0)
KERNEL = r.stdout.strip()


def qemu_left_behind():
    out = []
    for d in os.listdir("/proc"):
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
            with open(f"/proc/{t._stat_fields(d)[1]}/comm") as f:
                parent = f.read().strip()
        except (OSError, ValueError, IndexError):
            continue
        if cmd and cmd[0].endswith(b"qemu-system-x86_64") and any(
                b"/mmrepro-vm-" in a for a in cmd) and parent != "mmrepro":
            out.append(int(d))
    return out


def last_line(text):
    lines = [x for x in text.splitlines() if x.strip()]
    return lines[-1] if lines else ""


def fails(what, args, rc, words, d, guest=("run", "selftest", "--set", "repetitions=1")):
    out = os.path.join(d, f"{what}.json")
    p = t.run(["vm", "--kernel", KERNEL, "--accel", "tcg", "--mem", "2G", "-o", out] + args
              + ["--"] + list(guest), timeout=300)
    err = last_line(p.stderr)
    t.check(p.returncode == rc, f"{what}: exit {p.returncode}, expected {rc}: {p.stderr[-1500:]}")
    t.check(err.startswith("mmrepro: error: ") and all(w in err for w in words),
            f"{what}: the error line should name {words}: {err!r}")
    t.check(not os.path.exists(out), f"{what}: no report may be written")
    t.check(not qemu_left_behind(), f"{what}: qemu left running: {qemu_left_behind()}")
    t.check(not glob.glob(os.path.join(d, "mmrepro-vm-*")), f"{what}: scratch dir left behind")
    return p


with t.machine_lock(), t.tmpdir() as d:
    os.environ["TMPDIR"] = d
    before = t.knobs()

    # before any boot: exit 2, nothing started
    fails("missing", ["--kernel", os.path.join(d, "no-such-bzImage")], 2,
          ["--kernel", "no-such-bzImage", "No such file"], d)
    junk = os.path.join(d, "bzImage")
    with open(junk, "wb") as f:
        f.write(b"\x7fELF" + bytes(4096))
    fails("not a kernel", ["--kernel", junk], 2, ["--kernel", junk, "not an x86 kernel image"], d)
    # a kernel whose config (a build tree's .config beside it) lacks a built-in
    tree = os.path.join(d, "tree")
    os.makedirs(tree)
    shutil.copy(KERNEL, os.path.join(tree, "bzImage"))
    with open(glob.glob(os.path.join(os.path.dirname(KERNEL), "config-*"))[0]) as f:
        config = f.read()
    with open(os.path.join(tree, ".config"), "w") as f:
        f.write(config.replace("CONFIG_DEVTMPFS=y", "# CONFIG_DEVTMPFS is not set"))
    fails("config", ["--kernel", os.path.join(tree, "bzImage")], 2,
          ["CONFIG_DEVTMPFS unset", ".config", "built in (=y)"], d)
    p = t.run(["vm", "--kernel", KERNEL, "--", "run", "fork_anon", "--set", "size=12Q"], check_rc=2)
    t.check(last_line(p.stderr).endswith('expected a size like 512M or 1G in 2M..1T, got "12Q"')
            and "booting" not in p.stderr, f"a bad config is refused before booting: {p.stderr}")

    # guests that fail: exit 10
    p = fails("panic", ["--append", 'rdinit=/bin/sh -- -c "/bin/busybox mount -t proc p /proc; '
                        'echo c >/proc/sysrq-trigger"'], 10,
              ["panicked", "Kernel panic - not syncing: sysrq triggered crash",
               "panic.console.log"], d)
    with open(os.path.join(d, "panic.console.log")) as f:
        t.check("sysrq triggered crash" in f.read(), "the console log keeps the panic")
    fails("no answer", ["--boot-timeout", "15s", "--append", "rdinit=/bin/sh"], 10,
          ["never answered", "15 s"], d)
    fails("timeout", ["--timeout", "25s"], 10, ["did not finish within --timeout 25 s"], d,
          guest=["run", "selftest", "--set", "action=sleep", "--set", "seconds=600"])
    fails("garbage", ["--append",
                      'rdinit=/bin/sh -- -c "echo garbage >/dev/ttyS1; /bin/busybox poweroff -f"'],
          10, ["report channel: not a record at byte 0", "garbage"], d)

    # SIGTERM while the guest boots: qemu stopped, 128+15
    p = t.start(["vm", "--kernel", KERNEL, "--accel", "tcg", "--mem", "512M", "-o",
                 os.path.join(d, "term.json"), "--", "run", "selftest"])
    time.sleep(3)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    t.check(p.returncode == 128 + signal.SIGTERM, f"SIGTERM: exit {p.returncode}: {err}")
    t.check(not qemu_left_behind(), f"SIGTERM: qemu left running: {qemu_left_behind()}")
    t.check(not glob.glob(os.path.join(d, "mmrepro-vm-*")), "SIGTERM: scratch dir left behind")
    t.check_knobs_equal(before, "mmrepro vm changes nothing on the host")
t.done("test_vm_errors")
