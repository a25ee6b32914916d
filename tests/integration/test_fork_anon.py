#!/usr/bin/env python3
"""fork_anon at tiny sizes for every backing this kernel supports.

Checks that the report validates, the layout was proven before timing for
every repetition, every metric has its samples, mTHP sizes the kernel lacks
are skipped with a reason, the child's page tables order as the layouts
imply, pinned pages are registered, a layout that cannot be had makes the
case invalid (never silently timed), a busy khugepaged does not undo a
PTE-mapped layout, and every knob is back afterwards.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
REPS = 3
METRICS = ["fork_ns", "fork_exit_ns", "munmap_ns", "child_vmpte_kb", "cow_write_ns_per_page"]

with t.machine_lock(), t.tmpdir() as d:
    before = t.knobs()
    cfg = t.write_config({
        "workload": "fork_anon",
        "params": {"size": "16M", "cow": "random", "cow_fraction": 0.1},
        "matrix": {"backing": ["4k", "thp-pmd", "thp-pte", "mthp-*"]},
        "repetitions": REPS, "warmup": 1}, d)
    out = os.path.join(d, "all.json")
    t.run(["run", cfg, "-o", out, "-q"], check_rc=0)
    rep = t.validate(out)
    t.check_knobs_equal(before, "after every backing")
    sizes = t.mthp_sizes_kb()
    vmpte = {}
    for c in rep["cases"]:
        b = c["params"]["backing"]
        anon_ok = True
        if b.startswith("mthp-"):
            kb = int(b[5:-1]) * (1024 if b.endswith("M") else 1)
            anon_ok = kb in sizes and os.path.exists(
                f"/sys/kernel/mm/transparent_hugepage/hugepages-{kb}kB/enabled")
        if not anon_ok:
            t.check(c["status"] == "skipped" and "hugepages-" in (c["reason"] or ""),
                    f"{b}: expected a skip naming the missing sysfs size, got {c['status']}: {c['reason']}")
            continue
        t.check(c["status"] == "ok", f"{b}: status {c['status']}: {c['reason']}")
        lay = c["layout"] or {}
        t.check(lay.get("requested") == b and lay.get("observed") == b and lay.get("proven"),
                f"{b}: layout {lay}")
        t.check(lay.get("checks") == REPS + 1 and lay.get("max_mismatch_pages") == 0,
                f"{b}: layout must be proven before every repetition: {lay}")
        for m in METRICS:
            s = c["metrics"].get(m, {}).get("samples", [])
            t.check(len(s) == REPS and all(v > 0 for v in s), f"{b}: {m} samples {s}")
        for op in ("fork_exit", "cow_write", "munmap"):
            t.check(c["counters"].get(op, {}).get("n") == REPS, f"{b}: counters of {op}")
        t.check(c["counters"]["cow_write"]["total"].get("vmstat", {}).get("pgfault", 0) > 0,
                f"{b}: the child's writes must fault")
        if b.startswith("mthp-"):
            t.check(any(k.endswith(".enabled") for k in c["settings"]["requested"]),
                    f"{b}: the per-size knob must be part of the case's settings")
        vmpte[b] = c["metrics"]["child_vmpte_kb"]["summary"]["median"]
    # Every 2M of the child holds one PTE table: a real one for PTE mappings,
    # and for PMD-mapped THP the table x86 deposits (copy_huge_pmd deposits one
    # for the child too), so VmPTE is at least 4 kB per 2 MiB for every backing.
    for b, kb in vmpte.items():
        t.check(kb >= (16 << 20) // (2 << 20) * 4, f"{b}: child VmPTE {kb} kB < one table per 2M")

    # pinned pages: registered as io_uring fixed buffers before fork. fork()
    # cannot share a long-term pinned page with the child and copies it at
    # once, so the fork op allocates a page per pinned 4K page on top of what
    # an unpinned fork allocates (page tables, task structures).
    pgalloc = {}
    for pinned in ("0", "0.5"):
        out = os.path.join(d, f"pinned-{pinned}.json")
        t.run(["run", "fork_anon", "--set", "size=16M", "--set", "backing=thp-pte", "--set",
               f"pinned={pinned}", "--set", "repetitions=3", "-o", out, "-q"], check_rc=0)
        c = t.validate(out)["cases"][0]
        want = (8 << 20) if pinned == "0.5" else None
        t.check(c["status"] == "ok" and c["extra"].get("pinned_bytes") == want,
                f"pinned={pinned}: {c['status']} {c['reason']} extra={c['extra']}")
        op = c["counters"]["fork_exit"]
        pgalloc[pinned] = sum(v for k, v in op["total"].get("vmstat", {}).items()
                              if k.startswith("pgalloc_")) / op["n"]
    copied = pgalloc["0.5"] - pgalloc["0"]
    print(f"pages allocated per fork: {pgalloc['0']:.0f} unpinned, {pgalloc['0.5']:.0f} "
          f"with 8M pinned ({(8 << 20) // 4096} pages)")
    t.check(copied >= 0.75 * ((8 << 20) // 4096),
            f"fork copied {copied:.0f} pages more with 8M pinned than without: "
            "pinned pages were not copied at fork")

    # khugepaged scanning without a pause: a PTE table that maps one whole THP
    # is what it collapses back into a PMD, so a thp-pte region must be out of
    # its reach before its PMDs are split, or the layout checks find thp-pmd.
    busy = t.write_config({"workload": "fork_anon",
                           "params": {"size": "64M", "backing": "thp-pte"},
                           "settings": {"thp.khugepaged.scan_sleep_millisecs": 0,
                                        "thp.khugepaged.pages_to_scan": 65536},
                           "repetitions": REPS}, d)
    out = os.path.join(d, "khugepaged.json")
    t.run(["run", busy, "-o", out, "-q"], check_rc=0)
    c = t.validate(out)["cases"][0]
    lay = c["layout"] or {}
    t.check(c["status"] == "ok" and lay.get("observed") == "thp-pte"
            and lay.get("max_mismatch_pages") == 0,
            f"thp-pte under a busy khugepaged: {c['status']} {c['reason']} {lay}")
    t.check_knobs_equal(before, "after the busy-khugepaged case")

    # a layout the kernel is told not to give is reported invalid, not timed
    bad = t.write_config({"workload": "fork_anon",
                          "params": {"size": "8M", "backing": "thp-pmd"},
                          "settings": {"thp.enabled": "never", "thp.2M.enabled": "never"},
                          "repetitions": 2}, d)
    out = os.path.join(d, "invalid.json")
    t.run(["run", bad, "-o", out, "-q"], check_rc=1)
    c = t.validate(out)["cases"][0]
    t.check(c["status"] == "invalid" and "requested thp-pmd, observed" in (c["reason"] or ""),
            f"invalid layout: {c['status']} {c['reason']}")
    t.check(not c["metrics"], f"an invalid case must have no timings: {list(c['metrics'])}")
    t.check_knobs_equal(before, "after the invalid case")
t.done("test_fork_anon")
