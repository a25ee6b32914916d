#!/usr/bin/env python3
"""The memory guard looks again right before each case: memory taken after
the run was planned (here by this test, as a case stuck in the kernel or
another program would) makes a case that fitted at planning time skip with
the memory guard's reason instead of running into the OOM killer.

selftest's `footprint` only declares memory to the guard, so nothing big is
ever allocated by mmrepro; the test itself holds 4 GiB for a few seconds."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
GRAB = 4 << 30

with t.machine_lock(), t.tmpdir() as d:
    probe = os.path.join(d, "probe.json")
    t.run(["run", "selftest", "--set", "repetitions=1", "-o", probe, "-q"], check_rc=0)
    budget = t.validate(probe)["memory_guard"]["budget_bytes"]
    if budget < GRAB + (4 << 30):
        t.skip(f"needs a memory budget of 8 GiB or more, this machine has {budget >> 20} MiB")
    # fits when planned (1.5 GiB to spare), not once the test holds 4 GiB
    declared = budget - (3 << 29)
    cfg = t.write_config({"cases": [
        {"workload": "selftest", "params": {"action": "sleep", "seconds": 6}},
        {"workload": "selftest", "params": {"footprint": str(declared)}}],
        "defaults": {"repetitions": 1, "warmup": 0}}, d)
    out = os.path.join(d, "recheck.json")
    p = t.start(["run", cfg, "-o", out, "-q"])
    t.wait_for(lambda: t.children_of(p.pid), 30, "the first case to start")
    held = b"\x01" * GRAB  # touched: counts against MemAvailable
    _, err = p.communicate(timeout=120)
    del held
    t.check(p.returncode == 0, f"mmrepro exited {p.returncode}: {err}")
    first, second = t.validate(out)["cases"]
    t.check(first["status"] == "ok", f"first case: {first['status']} {first['reason']}")
    t.check(second["status"] == "skipped" and
            (second["reason"] or "").startswith("memory guard: the case needs about"),
            f"second case: {second['status']} {second['reason']}")
t.done("test_memguard_recheck")
