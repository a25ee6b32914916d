#!/usr/bin/env python3
"""Threads that keep running on another CPU are what a shootdown has to reach.

For each backing, the op that splits every PMD (munmap_pmd_halves: a TLB
flush per 2 MiB extent) is run with one thread spinning, touching memory and
walking the region (vmsplice), and with one sleeping thread (the control).
Every running mode must record more TLB-shootdown IPIs than the control, in
total and on the threads' own CPU. The order is asserted, never a magnitude
or a time. Needs two CPUs: with one, no thread can run on another.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
if len(os.sched_getaffinity(0)) < 2:
    t.skip("needs 2+ CPUs: with one CPU there is no other CPU for the threads to run on")
with open("/proc/interrupts") as f:
    if "TLB shootdowns" not in f.read():
        t.skip("/proc/interrupts has no TLB-shootdown row on this architecture")

REPS = 7
RUNNING = ["spin", "touch", "walk"]

with t.machine_lock(), t.tmpdir() as d:
    before = t.knobs()
    cfg = t.write_config({"workload": "munmap_threads",
                          "params": {"size": "32M", "threads": 1, "op": "munmap_pmd_halves"},
                          "matrix": {"backing": ["thp-pmd", "4k"], "mode": RUNNING + ["sleep"]},
                          "repetitions": REPS, "warmup": 1}, d)
    out = os.path.join(d, "ipis.json")
    t.run(["run", cfg, "-o", out, "-q"], check_rc=0)
    rep = t.validate(out)
    t.check_knobs_equal(before, "after the IPI runs")
    tlb, on_cpu = {}, {}
    for c in rep["cases"]:
        key = (c["params"]["backing"], c["params"]["mode"])
        if not t.check(c["status"] == "ok", f"{c['id']}: {c['status']} {c['reason']}"):
            continue
        cpu = next(x["cpu"] for x in c["placement"] if x["slot"] == 1)
        irq = c["counters"]["munmap_pmd_halves"]["total"].get("interrupts", {})
        tlb[key] = sum(c["metrics"]["tlb_ipis"]["samples"])
        on_cpu[key] = irq.get(f"TLB.cpu{cpu}", 0)
        t.check(tlb[key] == irq.get("TLB", 0), f"{key}: metric {tlb[key]} != counters {irq}")
    for backing in ("thp-pmd", "4k"):
        control = (backing, "sleep")
        for mode in RUNNING:
            k = (backing, mode)
            if k in tlb and control in tlb:
                print(f"{backing:8s} {mode:6s} TLB IPIs {tlb[k]:6.0f} (its CPU {on_cpu[k]:4d})"
                      f"   sleep control {tlb[control]:4.0f} (its CPU {on_cpu[control]:4d})")
                t.check(tlb[k] > tlb[control],
                        f"{backing}: {mode} threads took {tlb[k]} TLB IPIs, not more than "
                        f"the sleeping control's {tlb[control]}")
                t.check(on_cpu[k] > on_cpu[control],
                        f"{backing}: {mode}: the threads' CPU took {on_cpu[k]} TLB IPIs, "
                        f"the control's {on_cpu[control]}")
t.done("test_munmap_threads_ipis")
