#!/usr/bin/env python3
"""Counter snapshots around a timed op do not count their own cost: folding
the per-CPU vmstat deltas (stat_refresh) queues work on every CPU and raises
function-call IPIs, so the IPI rows are read after the fold when a window
opens and before it when the window closes. An empty window (selftest `ok`)
must therefore record well under one function-call IPI per repetition; with
the fold inside the window it records one per other CPU every time."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
if os.cpu_count() < 2:
    t.skip("needs 2+ CPUs: with one CPU the fold raises no IPI to count")
if not os.path.exists("/proc/sys/vm/stat_refresh"):
    t.skip("this kernel has no /proc/sys/vm/stat_refresh")

REPS = 40
with t.machine_lock(), t.tmpdir() as d:
    out = os.path.join(d, "window.json")
    t.run(["run", "selftest", "--set", f"repetitions={REPS}", "-o", out, "-q"], check_rc=0)
    case = t.validate(out)["cases"][0]
    total = case["counters"]["run"]["total"]
    cal = total.get("interrupts", {}).get("CAL", 0)
    print(f"function-call IPIs in {REPS} empty windows: {cal}")
    t.check(case["counters"]["run"]["n"] == REPS, case["counters"]["run"])
    t.check(cal < REPS / 2,
            f"{cal} function-call IPIs in {REPS} empty windows: the snapshot's own "
            "stat_refresh is being counted")
t.done("test_counters_window")
