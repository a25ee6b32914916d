#!/usr/bin/env python3
"""A walker thread that crashes is a result, not a hang.

While a walk case runs, its first walker thread (not the process) gets
SIGSEGV. The case must be reported failed with the signal well before its
timeout, the next case must still run, nothing of the case may be left
running, and every knob must be back.
"""
import ctypes
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
libc = ctypes.CDLL(None, use_errno=True)


def thread_named(pid, name):
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().strip() == name:
                    return int(tid)
    except OSError:
        pass
    return None


with t.machine_lock(), t.tmpdir() as d:
    before = t.knobs()
    out = os.path.join(d, "crash.json")
    cfg = t.write_config({"cases": [
        {"workload": "munmap_threads",
         "params": {"size": "8M", "mode": "walk", "threads": 1, "op": "munmap_pmd_halves"},
         "repetitions": 100000, "warmup": 0, "timeout": "10m"},
        {"workload": "munmap_threads", "params": {"size": "8M", "threads": 1},
         "repetitions": 2}]}, d)
    p = t.start(["run", cfg, "-o", out, "-q"])
    found = {}

    def walker():
        for pid in t.children_of(p.pid):
            tid = thread_named(pid, "walk-0")
            if tid:
                found.update(pid=pid, tid=tid)
                return True
        return False

    if t.wait_for(walker, 60, "the case's walker thread to start"):
        t.check(found["tid"] != found["pid"], "the walker must be a thread, not the process")
        time.sleep(0.3)  # a few repetitions in: released, parked, released...
        if libc.tgkill(found["pid"], found["tid"], signal.SIGSEGV):
            t.check(False, f"tgkill: {os.strerror(ctypes.get_errno())}")
    else:
        p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=300)
    t.check(p.returncode == 1, f"exit {p.returncode}, expected 1 (a case failed): {err}")
    rep = t.validate(out)
    c0, c1 = rep["cases"]
    t.check(c0["status"] == "failed" and "SIGSEGV" in (c0["reason"] or "")
            and "timeout" not in (c0["reason"] or "") and c0.get("phase"),
            f"crashed walker: {c0['status']}: {c0['reason']} (phase {c0.get('phase')})")
    t.check("hang" not in c0, "a crash must not be reported as a hang")
    t.check(c1["status"] == "ok", f"the case after the crash: {c1['status']} {c1['reason']}")
    if found:
        t.check(not t.processes_in_group(found["pid"]),
                "a process of the crashed case outlived it")
        t.check(not os.path.exists(f"/proc/{found['pid']}/task/{found['tid']}"),
                "the walker thread outlived its case")
    t.check_knobs_equal(before, "after the crashed walker")
t.done("test_munmap_threads_crash")
