#!/usr/bin/env python3
"""io_remap at tiny sizes, with a churn thread unmapping and remapping the
buffers under the copies.

Every I/O path (pwrite/pread, io_uring on plain and on registered buffers)
with memfd buffers and with the self-referential ones (mappings of the very
file range being written or read), on the filesystem under test and on
tmpfs: the report validates; each case is ok with every byte verified (a
corrupted block fails the case) or skipped with its reason; the race was hit
(EFAULTs counted) wherever it can be, and never where it cannot (registered
buffers, MAP_FIXED churn, no churn). A flipped byte is caught, naming its
offset; an io thread stuck in the kernel is reported as a stall with its
stack and the next case still runs. No file is ever visible in the directory
under test: not during a run, nor after a failed case, a killed case child or
a killed mmrepro.
"""
# ctest-labels: io_remap
# ctest-timeout: 900
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
REPS = 3
TINY = {"file_size": "2M", "io_size": "64K", "io_threads": 1, "churn_threads": 1,
        "duration": 1}
probes = json.loads(t.run(["env"], check_rc=0).stdout)["probes"]


def metric(c, name):
    return c["metrics"].get(name, {}).get("samples", [])


def efaults(c):
    return sum(metric(c, "write_efaults")) + sum(metric(c, "read_efaults"))


def races(c):
    return efaults(c) + sum(metric(c, "write_short")) + sum(metric(c, "read_short"))


def run_cases(d, name, doc, rc):
    out = os.path.join(d, f"{name}.json")
    t.run(["run", t.write_config(doc, d), "-o", out, "-q"], check_rc=rc)
    return t.validate(out)["cases"]


def check_empty(fsdir, what):
    left = os.listdir(fsdir)
    t.check(not left, f"{what}: files left in the directory under test: {left}")


def case_child(mmrepro_pid, timeout=60):
    """The case child of a running mmrepro, once its io thread is running."""
    end = time.time() + timeout
    while time.time() < end:
        for pid in t.children_of(mmrepro_pid):
            try:
                names = {open(f"/proc/{pid}/task/{tid}/comm").read().strip()
                         for tid in os.listdir(f"/proc/{pid}/task")}
            except OSError:
                continue
            if "io0" in names:
                return pid
        time.sleep(0.05)
    return None


with t.machine_lock(), t.tmpdir() as d:
    before = t.knobs()
    fsdir = os.path.join(d, "fs")
    os.mkdir(fsdir)
    base = dict(TINY, dir=fsdir)

    # parameters that cannot work together are refused at planning, with the reason
    for sets, why in (
            (["dir=/nonexistent"], 'dir "/nonexistent": No such file or directory'),
            ([f"dir={t.SCHEMA}"], "not a directory"),
            (["io_size=5000"], "io_size 5000 is not a multiple of the page size"),
            (["file_size=64K", "io_threads=4"], "less than one io_size (64K)"),
            (["inject_flip_at=999999999"], "beyond the 67108864 bytes")):
        r = t.run(["run", "io_remap", "--dry-run"] + [a for kv in sets for a in ("--set", kv)],
                  check_rc=0)
        t.check("would be invalid: " in r.stdout and why in r.stdout, f"{sets}: {r.stdout}")

    # every path, every buffer kind, both file systems
    cases = run_cases(d, "all", {
        "workload": "io_remap", "params": base,
        "matrix": {"io": ["sync", "uring", "uring-fixed"], "buffers": ["memfd", "self"],
                   "fs": ["dir", "tmpfs"]},
        "repetitions": REPS, "warmup": 0}, 0)
    t.check(len(cases) == 12, f"12 cases expected, got {len(cases)}")
    for c in cases:
        p, cid = c["params"], c["id"]
        if p["io"] != "sync" and not probes["io_uring"]:
            t.check(c["status"] == "skipped" and "io_uring" in (c["reason"] or ""),
                    f"{cid}: without io_uring: {c['status']} {c['reason']}")
            continue
        if p["io"] == "uring-fixed" and p["buffers"] == "self" and p["fs"] == "dir":
            # the kernel long-term pins only anonymous, shmem and hugetlb memory
            t.check(c["status"] in ("ok", "skipped"), f"{cid}: {c['status']} {c['reason']}")
            if c["status"] == "skipped":
                t.check("pin" in c["reason"], f"{cid}: skip reason {c['reason']}")
                continue
        t.check(c["status"] == "ok", f"{cid}: {c['status']} {c['reason']}")
        if c["status"] != "ok":
            continue
        verified = metric(c, "verified_bytes")
        t.check(len(verified) == REPS and all(v > 0 and v % (64 << 10) == 0 for v in verified),
                f"{cid}: verified_bytes {verified}")
        t.check(all(v > 0 for v in metric(c, "bytes_per_s")), f"{cid}: bytes_per_s")
        for m in ("write_p50_ns", "write_p99_ns", "write_p999_ns", "read_p50_ns",
                  "read_p999_ns", "churn_ops_per_s", "voluntary_ctxsw", "minor_faults"):
            t.check(len(metric(c, m)) == REPS, f"{cid}: {m} samples {metric(c, m)}")
        t.check(all(a <= b <= e for a, b, e in zip(metric(c, "write_p50_ns"),
                                                  metric(c, "write_p99_ns"),
                                                  metric(c, "write_p999_ns"))),
                f"{cid}: percentiles out of order")
        t.check(c["counters"].get("io", {}).get("n") == REPS, f"{cid}: counters of the window")
        t.check(c["harness"]["stall_timeout_s"] == 30, f"{cid}: the workload's stall deadline")
        t.check(("O_TMPFILE" if p["fs"] == "dir" else "memfd") in c["extra"].get("file", ""),
                f"{cid}: file {c['extra'].get('file')}")
        t.check(c["extra"].get("lock_stat", "").startswith("absent")
                != os.path.exists("/proc/lock_stat"), f"{cid}: lock_stat {c['extra']}")
        if p["io"] == "uring-fixed":
            # registered buffers: the kernel never walks the user's page tables
            t.check(races(c) == 0, f"{cid}: fixed buffers cannot fault, counted {races(c)}")
            continue
        if efaults(c) == 0:
            # the race is a race: give a slow or busy machine a longer window
            again = run_cases(d, "again", {"workload": "io_remap",
                                           "params": dict(p, duration=4),
                                           "repetitions": 1, "warmup": 0}, 0)
            c = again[0]
        t.check(efaults(c) > 0, f"{cid}: the unmap race was never hit (no EFAULT)")
    check_empty(fsdir, "after every path")

    # controls: where the race cannot happen it must not be counted, and the
    # other kinds of churn and the fault threads work
    cases = run_cases(d, "controls", {"cases": [
        {"workload": "io_remap", "params": dict(base, churn_threads=0)},
        {"workload": "io_remap", "params": dict(base, churn="fixed")},
        {"workload": "io_remap", "params": dict(base, churn="mprotect", io_threads=2,
                                                 file_size="4M")},
        {"workload": "io_remap", "params": dict(base, churn="mix", churn_threads=2,
                                                 fault_threads=1, fault_size="1M")}],
        "defaults": {"repetitions": 2, "warmup": 0}}, 0)
    for c in cases:
        t.check(c["status"] == "ok", f"{c['id']}: {c['status']} {c['reason']}")
    nochurn, fixed, mprot, mix = cases
    t.check(races(nochurn) == 0 and not metric(nochurn, "churn_ops_per_s"),
            f"no churn, yet {races(nochurn)} EFAULTs/short copies")
    # MAP_FIXED replaces the mapping in one step: the range is never unmapped
    t.check(efaults(fixed) == 0, f"MAP_FIXED churn: {efaults(fixed)} EFAULTs")
    t.check(all(v > 0 for v in metric(mprot, "churn_ops_per_s")), "mprotect churn ran")
    t.check(all(v > 0 for v in metric(mix, "fault_pages_per_s")), "fault threads faulted")
    t.check(len(mix["placement"]) == 1 + 1 + 2 + 1, f"every thread placed: {mix['placement']}")

    # the checker can fail: one flipped byte fails the case with its offset
    cases = run_cases(d, "flip", {"cases": [
        {"workload": "io_remap", "params": dict(base, inject_flip_at=123457)},
        {"workload": "io_remap", "params": dict(base, inject_flip_at=200000, buffers="self")}],
        "defaults": {"repetitions": 2, "warmup": 0}}, 1)
    for c, at in zip(cases, (123457, 200000)):
        t.check(c["status"] == "failed" and f"file offset {at}:" in (c["reason"] or "")
                and "corrupted" in c["reason"], f"flip at {at}: {c['status']} {c['reason']}")
        t.check(not c["metrics"].get("verified_bytes"), "no samples from a corrupted window")
    check_empty(fsdir, "after a corrupted case")

    # a stuck io thread is a stall: stacks recorded, killed, the run goes on
    cases = run_cases(d, "stall", {"cases": [
        {"workload": "io_remap", "params": dict(base, inject_stall=True),
         "stall_timeout": "2s"},
        {"workload": "io_remap", "params": base}],
        "defaults": {"repetitions": 1, "warmup": 0}}, 1)
    c0, c1 = cases
    t.check(c0["status"] == "failed" and (c0["reason"] or "").startswith("stalled: no progress"),
            f"stall: {c0['status']} {c0['reason']}")
    tasks = [task for proc in c0.get("hang", {}).values() for task in proc.values()]
    io0 = [x for x in tasks if (x.get("comm") or "").strip() == "io0"]
    t.check(io0 and "pipe_read" in io0[0]["stack"],
            f"stall: the stuck io thread's kernel stack: {io0 or tasks}")
    t.check(c1["status"] == "ok", f"the case after a stall: {c1['status']} {c1['reason']}")
    check_empty(fsdir, "after a stalled case")

    # SIGKILL of the case child, then of mmrepro: nothing named is ever there
    long_run = t.write_config({"workload": "io_remap", "params": dict(base, duration=60),
                               "repetitions": 1, "warmup": 0}, d)
    for victim in ("case child", "mmrepro"):
        out = os.path.join(d, "killed.json")
        p = t.start(["run", long_run, "-o", out, "-q"])
        child = case_child(p.pid)
        t.check(child is not None, f"{victim}: the case child never started its io thread")
        check_empty(fsdir, f"while the case runs ({victim} test)")
        if victim == "case child" and child:
            os.kill(child, signal.SIGKILL)
            p.communicate(timeout=60)
            t.check(p.returncode == 1, f"killed case child: exit {p.returncode}")
            c = t.validate(out)["cases"][0]
            t.check(c["status"] == "failed" and "SIGKILL" in (c["reason"] or ""),
                    f"killed case child: {c['status']} {c['reason']}")
        else:
            p.kill()
            p.wait()
            if child:
                t.wait_for(lambda: not t.processes_in_group(child), 10,
                           "the case to die with mmrepro")
            t.run(["restore"], check_rc=0)
        check_empty(fsdir, f"after SIGKILL of the {victim}")
    t.check_knobs_equal(before, "after io_remap")
t.done("test_io_remap")
