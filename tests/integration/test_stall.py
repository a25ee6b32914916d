#!/usr/bin/env python3
"""The stall deadline (harness key stall_timeout): a case that reports no
progress for that long is a hang -- its kernel stacks go into the report, it
is killed and the run goes on -- long before its total timeout; a case that
keeps reporting progress (mmr_progress) outlives the same deadline; and the
key is validated like any other."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()

with t.machine_lock(), t.tmpdir() as d:
    before = t.knobs()
    cfg = t.write_config({"cases": [
        {"workload": "selftest", "params": {"action": "sleep", "seconds": 120},
         "stall_timeout": "1s", "timeout": "10m"},
        {"workload": "selftest", "params": {"action": "busy", "seconds": 3},
         "stall_timeout": "1s"},
        {"workload": "selftest", "params": {"action": "ok"}}],
        "defaults": {"repetitions": 1, "warmup": 0}}, d)
    out = os.path.join(d, "stall.json")
    t0 = time.time()
    t.run(["run", cfg, "-o", out, "-q"], check_rc=1)
    took = time.time() - t0
    t.check(took < 100, f"the stalled case must end at its stall deadline, the run took {took:.0f} s")
    rep = t.validate(out)
    stalled, busy, plain = rep["cases"]
    t.check(stalled["status"] == "failed" and
            (stalled["reason"] or "").startswith("stalled: no progress for 1 s, in run"),
            f"stalled: {stalled['status']} {stalled['reason']}")
    t.check(stalled["duration_s"] < 60, f"stalled after {stalled['duration_s']} s")
    stacks = [task for proc in stalled.get("hang", {}).values() for task in proc.values()]
    t.check(any("nanosleep" in (task.get("stack") or "") for task in stacks),
            f"the stalled task's kernel stack: {stacks}")
    t.check(stalled["harness"]["stall_timeout_s"] == 1, stalled["harness"])
    t.check(busy["status"] == "ok", f"progress keeps a case alive: {busy['status']} {busy['reason']}")
    t.check(plain["status"] == "ok" and plain["harness"]["stall_timeout_s"] == 0,
            f"selftest has no stall deadline by default: {plain['harness']}")
    t.check_knobs_equal(before, "after a stalled case")

    # the key's validation
    t.run(["run", "selftest", "--set", "stall_timeout=off", "--dry-run"], check_rc=0)
    r = t.run(["run", "selftest", "--set", "stall_timeout=soon"], check_rc=2)
    t.check(r.stderr.count("\n") == 1 and "stall_timeout: expected a duration" in r.stderr,
            f"one line naming the key: {r.stderr!r}")
t.done("test_stall")
