#!/usr/bin/env python3
"""mmrepro vm boots Debian's 6.1 and 6.12 cloud kernels under TCG and runs a
tiny config in each: fork_anon, and mthp_alloc with real allocators.

Checks: both reports validate (with their "vm" section); the guest's uname
is the kernel booted (bzImage header, package, fingerprint all agree); 6.12
offers mTHP backings and runs them, 6.1 skips them with a reason naming the
missing sysfs size; mthp_alloc's driver runs glibc's malloc and jemalloc's
(when the host has it) in both, so the initramfs carries the driver and the
allocator with their libraries; the fingerprint records the accelerator; the guest's
kernel log and console come back beside the report; the guest's stdout (the
table) reaches ours; a config given by path reaches the guest with its
includes; nothing is left behind (qemu, temp dirs, host knobs).

Set-up: the kernel packages are fetched into the cache (apt-get download)
when missing; later runs use the cache.
"""
# ctest-labels: vm
# ctest-timeout: 900
import glob
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
for tool in ("qemu-system-x86_64",):
    if not shutil.which(tool):
        t.check(False, f"{tool} is missing (apt-get install qemu-system-x86; ./bootstrap installs it)")
        t.done("test_vm")
if not os.path.exists("/bin/busybox"):
    t.check(False, "/bin/busybox is missing (apt-get install busybox-static)")
    t.done("test_vm")


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def qemu_left_behind():
    """qemu processes booting one of mmrepro vm's initrds whose mmrepro is
    gone (a live one may belong to a run beside this test)."""
    out = []
    for d in os.listdir("/proc"):
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().split(b"\0")
            ppid = int(t._stat_fields(d)[1])
        except (OSError, ValueError, IndexError):
            continue
        if cmd and cmd[0].endswith(b"qemu-system-x86_64") and any(
                b"/mmrepro-vm-" in a for a in cmd) and comm(ppid) != "mmrepro":
            out.append(int(d))
    return out


# set-up: fetch (or find cached) both kernels
kernels = {}
for series in ("6.1", "6.12"):
    r = t.run(["vm", "--debian", series, "--fetch-only"], timeout=600, check_rc=0)
    kernels[series] = r.stdout.strip()
    t.check(os.path.basename(kernels[series]).startswith(f"vmlinuz-{series}."),
            f"--debian {series} fetched {kernels[series]}")
if not all(os.path.exists(k) for k in kernels.values()):
    t.done("test_vm")

with t.machine_lock(), t.tmpdir() as d:
    before = t.knobs()
    os.environ["TMPDIR"] = d  # mmrepro vm's scratch directory goes here
    # a config by path, with an include, as a user would write it
    os.makedirs(os.path.join(d, "cfg", "sub"))
    with open(os.path.join(d, "cfg", "sub", "base.json"), "w") as f:
        json.dump({"workload": "fork_anon", "params": {"size": "64M", "cow": "none"},
                   "matrix": {"backing": ["4k", "thp-pte", "mthp-64K", "mthp-16K"]},
                   "repetitions": 2, "warmup": 0}, f)
    cfg = os.path.join(d, "cfg", "tiny.json")
    # one tiny churn per allocator, no THP (6.1 has no mTHP), no reclaim step
    alloc = {"workload": "mthp_alloc", "repetitions": 1, "warmup": 0,
             "params": {"mthp": "none", "live": "2M", "turnover": 0.5, "timeline": 2,
                        "reclaim": "none"},
             "matrix": {"allocator": ["glibc", "jemalloc"]}}
    with open(cfg, "w") as f:
        json.dump({"name": "tiny", "cases": [{"include": "sub/base.json",
                                              "params": {"size": "8M"}}, alloc]}, f)
    has_jemalloc = "libjemalloc.so.2 (" in subprocess.run(
        ["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout

    for series in ("6.1", "6.12"):
        out = os.path.join(d, f"tiny-{series}.json")
        r = t.run(["vm", "--debian", series, "--accel", "tcg", "--mem", "2G", "--",
                   "run", cfg, "-o", out], timeout=600, check_rc=0)
        if not os.path.exists(out):
            t.check(False, f"{series}: no report at {out}: {r.stderr[-2000:]}")
            continue
        rep = t.validate(out)
        fp, vm = rep["fingerprint"], rep["vm"]
        release = fp["kernel"]["release"]
        t.check(release.startswith(series + ".") and release == vm["guest_release"]
                == vm["kernel"]["release"] and os.path.basename(kernels[series]) ==
                f"vmlinuz-{release}",
                f"{series}: uname {release}, vm {vm['guest_release']}/{vm['kernel']['release']}, "
                f"image {kernels[series]}")
        t.check(vm["kernel"]["debian_package"].startswith(f"linux-image-{series}."), vm["kernel"])
        t.check(fp["virtualization"]["accelerator"] == "tcg" and vm["accelerator"] == "tcg"
                and fp["virtualization"]["cpuid_vendor"] == "TCGTCGTCGTCG",
                f"{series}: accelerator {fp['virtualization']}")
        t.check(fp["kconfig"]["source"] == f"/boot/config-{release}" and
                fp["kconfig"]["options"].get("CONFIG_TRANSPARENT_HUGEPAGE") == "y",
                f"{series}: the guest fingerprint must read the package's config: {fp['kconfig']['source']}")
        t.check(0 < vm["boot_to_init_s"] <= vm["wall_s"], f"{series}: times {vm}")
        t.check(rep["config"]["file"] == os.path.realpath(cfg), rep["config"]["file"])
        t.check("fork_ns" in r.stdout, f"{series}: the guest's table must reach stdout: {r.stdout[:300]}")
        t.check(f"mmrepro-vm: {release}" in r.stderr, f"{series}: progress not streamed: {r.stderr[-500:]}")
        with open(out[:-5] + ".dmesg") as f:
            t.check(f"Linux version {release}" in f.read(), f"{series}: the guest's dmesg")
        t.check(os.path.getsize(out[:-5] + ".console.log") > 0, f"{series}: console log")

        cases = {c["params"]["backing"]: c for c in rep["cases"] if c["workload"] == "fork_anon"}
        for b in ("4k", "thp-pte"):
            c = cases.get(b, {})
            t.check(c.get("status") == "ok" and len(c["metrics"]["fork_ns"]["samples"]) == 2,
                    f"{series} {b}: {c.get('status')} {c.get('reason')}")
        has_mthp = series != "6.1"
        t.check(fp["probes"]["mthp_sysfs"] == has_mthp, f"{series}: mthp_sysfs {fp['probes']}")
        for b in ("mthp-64K", "mthp-16K"):
            c = cases.get(b, {})
            if has_mthp:
                t.check(c.get("status") == "ok" and c["layout"]["observed"] == b,
                        f"{series} {b}: {c.get('status')} {c.get('reason')}")
            else:
                t.check(c.get("status") == "skipped" and "hugepages-" in (c.get("reason") or ""),
                        f"{series} {b}: expected a skip naming the missing sysfs size, got "
                        f"{c.get('status')}: {c.get('reason')}")
        allocs = {c["params"]["allocator"]: c for c in rep["cases"]
                  if c["workload"] == "mthp_alloc"}
        for a, lib in (("glibc", "/libc.so"), ("jemalloc", "/libjemalloc.so")):
            c = allocs.get(a, {})
            if a == "jemalloc" and not has_jemalloc:
                t.check(c.get("status") == "skipped", f"{series} {a}: {c.get('status')}")
                continue
            t.check(c.get("status") == "ok" and c["metrics"]["ops_per_s"]["samples"] and
                    lib in c["extra"].get("malloc_from", ""),
                    f"{series} mthp_alloc {a}: {c.get('status')}: {c.get('reason')} "
                    f"{c.get('extra')}")

    # `env` in the guest under --accel auto: its stdout is ours, no report is
    # asked for, and the accelerator is KVM only if the guest came up under it
    # (else TCG, with a warning that says why)
    r = t.run(["vm", "--debian", "6.12", "--accel", "auto", "--mem", "512M", "-q", "--", "env"],
              timeout=600, check_rc=0)
    try:
        env = json.loads(r.stdout)
        accel = env["virtualization"]["accelerator"]
        t.check(env["kernel"]["release"].startswith("6.12.") and accel in ("kvm", "tcg"),
                f"vm -- env: {env['kernel']} {accel}")
        kvm_there = os.access("/dev/kvm", os.R_OK | os.W_OK)
        warned = "falling back to TCG" in r.stderr or "KVM failed this kernel" in r.stderr
        t.check(accel == "kvm" or not kvm_there or warned,
                f"auto: TCG although /dev/kvm is there, and no warning: {r.stderr[-500:]}")
        t.check(accel == "tcg" or kvm_there, "auto: KVM without /dev/kvm")
    except ValueError:
        t.check(False, f"vm -- env: stdout is not the fingerprint: {r.stdout[:300]}")
    t.check("guest|" not in r.stderr, f"-q must not stream the guest: {r.stderr[:300]}")

    t.check(not qemu_left_behind(), f"qemu left running: {qemu_left_behind()}")
    t.check(not glob.glob(os.path.join(d, "mmrepro-vm-*")), "a run directory was left behind")
    t.check_knobs_equal(before, "mmrepro vm changes nothing on the host")
t.done("test_vm")
