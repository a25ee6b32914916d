#!/usr/bin/env python3
"""munmap_threads at tiny sizes, for every backing, op and thread mode.

Checks that the report validates; the layout was proven before every
repetition; every op did what it says (PMD splits counted exactly where the
op must split PMDs, none where it must not); IPI deltas are recorded, per
CPU too; threads ran where the placement says (never on the timing thread's
CPU when there is another) and were all joined; walkers made calls and met
EFAULT once the range was gone; cases the machine cannot run are skipped or
invalid with the reason; the cost model in the report is the least-squares
fit of its own points (checked against numpy); every knob is back. The
O_DIRECT walker (walker=odirect) at tiny sizes too, in a directory named by
dir and in the default one: it walks, its file is gone after the case, and
where no filesystem takes O_DIRECT into pinned pages the case is skipped
saying so.
"""
# ctest-timeout: 1200
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
REPS, WARMUP = 3, 1
SIZE = 8 << 20
PMD = 2 << 20
OPS = ["munmap", "munmap_partial", "munmap_pmd_halves", "dontneed"]
MODES = ["spin", "touch", "walk", "sleep"]
ALWAYS = ["op_ns", "op_ns_per_gib", "cal_ipis", "cal_ipis_per_gib", "thp_split_pmd",
          "thp_deferred_split_page"]


def has_tlb_row():
    with open("/proc/interrupts") as f:
        return "TLB shootdowns" in f.read()


def anon_mthp(kb):
    return os.path.exists(f"/sys/kernel/mm/transparent_hugepage/hugepages-{kb}kB/enabled")


def fs_type(path):
    """The type of the filesystem path is on, from /proc/mounts."""
    best, typ = "", ""
    with open("/proc/mounts") as f:
        for line in f:
            mnt, kind = line.split()[1:3]
            if (path.rstrip("/") + "/").startswith(mnt.rstrip("/") + "/") and len(mnt) >= len(best):
                best, typ = mnt, kind
    return typ


def expected_splits(backing, op):
    """PMD splits one repetition of op must cause (exact: the region is the
    process's only PMD-mapped memory)."""
    if backing != "thp-pmd":
        return 0
    return {"munmap": 0, "munmap_partial": 2, "munmap_pmd_halves": SIZE // PMD,
            "dontneed": 0}[op]


def median(c, m):
    return c["metrics"][m]["summary"]["median"]


def check_case(c, cpus, tlb_row):
    p = c["params"]
    what = c["id"]
    if not t.check(c["status"] == "ok", f"{what}: {c['status']}: {c['reason']}"):
        return
    lay = c["layout"] or {}
    t.check(lay.get("requested") == p["backing"] and lay.get("observed") == p["backing"]
            and lay.get("proven"), f"{what}: layout {lay}")
    t.check(lay.get("checks") == REPS + WARMUP and lay.get("max_mismatch_pages") == 0,
            f"{what}: the layout must be proven before every repetition: {lay}")
    metrics = ALWAYS + (["tlb_ipis", "tlb_ipis_per_gib"] if tlb_row else [])
    if p["mode"] == "walk" and p["threads"]:
        metrics += ["walker_calls", "walker_efaults"]
    for m in metrics:
        s = c["metrics"].get(m, {}).get("samples", [])
        t.check(len(s) == REPS and all(v >= 0 for v in s), f"{what}: {m} samples {s}")
    t.check(all(v > 0 for v in c["metrics"]["op_ns"]["samples"]), f"{what}: op_ns must be > 0")
    t.check(set(c["metrics"]) == set(metrics), f"{what}: metrics {sorted(c['metrics'])}")
    ops = c["counters"].get(p["op"], {})
    t.check(ops.get("n") == REPS, f"{what}: counters of {p['op']}: {ops.get('n')}")
    splits = c["metrics"]["thp_split_pmd"]["samples"]
    want = expected_splits(p["backing"], p["op"])
    t.check(min(splits) >= want and median(c, "thp_split_pmd") == want,
            f"{what}: thp_split_pmd {splits}, expected {want} per repetition")
    ex = c["extra"]
    t.check(ex.get("threads") == p["threads"], f"{what}: extra {ex}")
    if not p["threads"]:
        t.check(ex.get("other_cpus") == 0 and len(c["placement"]) == 1, f"{what}: {ex}")
        return
    t.check(ex.get("threads_joined") == p["threads"], f"{what}: not every thread joined: {ex}")
    main = [x for x in c["placement"] if x["slot"] == 0]
    crew = [x for x in c["placement"] if x["slot"] != 0]
    t.check(len(main) == 1 and len(crew) == p["threads"], f"{what}: placement {c['placement']}")
    if cpus >= 2 and main:
        t.check(all(x["cpu"] != main[0]["cpu"] for x in crew),
                f"{what}: a thread shares the timing thread's CPU: {c['placement']}")
        t.check(ex.get("other_cpus") == len({x["cpu"] for x in crew}), f"{what}: {ex}")
    if p["mode"] == "walk":
        t.check(ex.get("walker_calls_total", 0) > 0, f"{what}: the walkers made no call: {ex}")
    if p["mode"] != "sleep" and tlb_row and p["op"] == "munmap_pmd_halves" and cpus >= 2:
        # per-CPU rows: the threads' CPU took shootdowns during the op
        irq = ops["total"].get("interrupts", {})
        t.check(any(k.startswith("TLB.cpu") for k in irq), f"{what}: no per-CPU TLB rows {irq}")


def same_mode(c, f):
    """Case c runs the fit's mode, and for mode=walk its walker."""
    p = c["params"]
    return p["mode"] == f["mode"] and ("walker" not in f or p.get("walker") == f["walker"])


def check_analysis(rep):
    """The report's fits are the least-squares fits of their own points, and
    those points are the cases' medians; mode=walk is fitted per walker."""
    import numpy as np
    an = rep["analysis"].get("munmap_threads")
    if not t.check(an is not None, "no analysis.munmap_threads"):
        return
    medians = {c["id"]: c["metrics"]["op_ns"]["summary"]["median"]
               for c in rep["cases"] if c["status"] == "ok"}
    t.check(an["fits"], "analysis has no fits")
    forms = set()
    for f in an["fits"]:
        forms.add(f["form"])
        pts = f["points"]
        t.check(("walker" in f) == (f["mode"] == "walk"), f"walker of a {f['mode']} fit: {f}")
        own_baseline = any(c["params"]["threads"] == 0 and same_mode(c, f)
                           and c["params"]["backing"] == f["backing"]
                           and c["params"]["op"] == f["op"] for c in rep["cases"])
        want = {c["id"] for c in rep["cases"] if c["status"] == "ok"
                and c["params"]["backing"] == f["backing"] and c["params"]["op"] == f["op"]
                and (same_mode(c, f) or (c["params"]["threads"] == 0 and not own_baseline))}
        t.check({pt["case"] for pt in pts} == want,
                f"{f['backing']} {f['op']} {f['mode']}: points {sorted(pt['case'] for pt in pts)}"
                f", expected {sorted(want)}")
        for pt in pts:
            t.check(abs(medians.get(pt["case"], -1) - pt["op_ns"]) < 1e-6 * pt["op_ns"],
                    f"point {pt} is not the median of its case")
        g = np.array([p["gib"] for p in pts])
        r = np.array([p["other_cpus"] for p in pts], dtype=float)
        y = np.array([p["op_ns"] for p in pts])
        if f["form"] == "full":
            x, yy, keys = np.column_stack([np.ones_like(g), g, g * r]), y, \
                ["fixed_ns", "ns_per_gib", "ns_per_gib_per_thread"]
        elif f["form"] == "per_gib":
            x, yy, keys = np.column_stack([np.ones_like(g), r]), y / g, \
                ["ns_per_gib", "ns_per_gib_per_thread"]
        elif f["form"] == "size_only":
            x, yy, keys = np.column_stack([np.ones_like(g), g]), y, ["fixed_ns", "ns_per_gib"]
        else:
            t.check(f["projection"] is None, f"a group without a fit has a projection: {f}")
            continue
        b = np.linalg.lstsq(x, yy, rcond=None)[0]
        for k, v in zip(keys, b):
            t.check(abs(f["coef"][k] - v) <= 1e-6 * max(1.0, abs(v)),
                    f"{f['backing']} {f['op']} {f['mode']}: {k} {f['coef'][k]} vs numpy {v}")
        res = yy - x @ b
        r2 = 1 - res @ res / ((yy - yy.mean()) @ (yy - yy.mean()))
        t.check(abs(f["r2"] - r2) < 1e-6, f"R^2 {f['r2']} vs numpy {r2}")
        if f["projection"]:
            t.check("extrapolation" in f["projection"]["label"], f["projection"]["label"])
    t.check(any("extrapolation" in s for s in an["summary_lines"]) or
            not any(f["projection"] for f in an["fits"]),
            f"a projection must say it is an extrapolation: {an['summary_lines']}")
    return forms


with t.machine_lock(), t.tmpdir() as d:
    before = t.knobs()
    cpus = len(os.sched_getaffinity(0))
    tlb_row = has_tlb_row()
    backings = ["4k", "thp-pmd", "thp-pte"] + (["mthp-64K"] if anon_mthp(64) else [])
    cfg = t.write_config({"cases": [
        {"workload": "munmap_threads", "params": {"size": "8M", "threads": 1},
         "matrix": {"backing": backings, "op": OPS, "mode": MODES},
         "repetitions": REPS, "warmup": WARMUP},
        {"workload": "munmap_threads", "params": {"size": "8M", "threads": 0},
         "matrix": {"backing": backings, "op": OPS},
         "repetitions": REPS, "warmup": WARMUP}]}, d)
    out = os.path.join(d, "matrix.json")
    t.run(["run", cfg, "-o", out, "-q"], check_rc=0)
    rep = t.validate(out)
    t.check_knobs_equal(before, "after the matrix")
    t.check(len(rep["cases"]) == len(backings) * len(OPS) * (len(MODES) + 1),
            f"{len(rep['cases'])} cases")
    for c in rep["cases"]:
        check_case(c, cpus, tlb_row)
    walk_efaults = sum(c["extra"].get("walker_efaults_total", 0) for c in rep["cases"]
                       if c["params"]["op"] != "dontneed")
    t.check(walk_efaults > 0, "walkers never met EFAULT after a munmap took their range away")
    # one size: the per-GiB form where the thread count varied (the threads=0
    # baseline is borrowed from mode=spin by the other modes)
    forms = check_analysis(rep) or set()
    t.check(forms == ({"per_gib"} if cpus >= 2 else {"none"}), f"matrix fit forms {forms}")

    # the cost model: two sizes and two thread counts give a full fit on 2+
    # CPUs (one without a per-thread term on 1 CPU); it must be the fit of
    # its own points
    cfg = t.write_config({"workload": "munmap_threads",
                          "params": {"backing": "thp-pmd", "mode": "sleep"},
                          "matrix": {"size": ["4M", "8M", "16M"], "threads": [0, 1]},
                          "repetitions": REPS, "warmup": WARMUP}, d)
    out = os.path.join(d, "model.json")
    r = t.run(["run", cfg, "-o", out], check_rc=0)
    rep = t.validate(out)
    forms = check_analysis(rep) or set()
    t.check(forms == ({"full"} if cpus >= 2 else {"size_only"}), f"fit forms {forms}")
    t.check("munmap_threads:" in r.stdout and "thp-pmd munmap sleep" in r.stdout,
            f"the model's summary lines are printed under the table: {r.stdout[-800:]}")
    t.check_knobs_equal(before, "after the model run")

    # what this machine cannot run is said, not run
    out = os.path.join(d, "refused.json")
    cfg = t.write_config({"cases": [
        {"workload": "munmap_threads", "params": {"size": "8M", "threads": cpus + 1},
         "repetitions": 1},
        {"workload": "munmap_threads",
         "params": {"size": "3M", "backing": "4k", "op": "munmap_pmd_halves"},
         "repetitions": 1}]}, d)
    t.run(["run", cfg, "-o", out, "-q"], check_rc=1)
    c0, c1 = t.validate(out)["cases"]
    t.check(c0["status"] == "skipped" and f"threads={cpus + 1}" in c0["reason"]
            and "CPUs" in c0["reason"], f"too many threads: {c0['status']} {c0['reason']}")
    t.check(c1["status"] == "invalid" and "multiple of" in c1["reason"],
            f"halves of a size that is not whole PMDs: {c1['status']} {c1['reason']}")
    t.check(not c0["metrics"] and not c1["metrics"], "refused cases have no timings")
    t.check_knobs_equal(before, "after the refused cases")

    # walker=odirect: O_DIRECT reads from a file into the region, in a dir
    # named by the config and in the default one; the file goes with the case
    own = os.path.join(d, "odirect")
    os.makedirs(own)
    default_dirs = [x for x in (os.environ.get("TMPDIR"), "/var/tmp", "/tmp") if x]

    def odirect_files():
        return sorted(f for x in [own] + default_dirs
                      for f in glob.glob(os.path.join(x, "mmrepro-munmap_threads-*")))

    files_before, left_before = odirect_files(), t.leftovers()
    cfg = t.write_config({"cases": [
        {"workload": "munmap_threads",
         "params": {"size": "8M", "mode": "walk", "walker": "odirect", "threads": 1,
                    "dir": own},
         "matrix": {"backing": ["thp-pmd", "4k"], "op": ["munmap", "dontneed"]},
         "repetitions": REPS, "warmup": WARMUP},
        {"workload": "munmap_threads",
         "params": {"size": "8M", "mode": "walk", "walker": "odirect", "threads": 1,
                    "op": "munmap_pmd_halves"},
         "repetitions": REPS, "warmup": WARMUP}]}, d)
    out = os.path.join(d, "odirect.json")
    t.run(["run", cfg, "-o", out, "-q"], check_rc=0)
    rep = t.validate(out)
    for c in rep["cases"]:
        ex = c["extra"]
        if c["status"] == "skipped":
            # a machine whose filesystems cannot: the reason, not a failure
            t.check((c["reason"] or "").startswith("walker=odirect: "),
                    f"{c['id']}: skipped: {c['reason']}")
            print(f"SKIP (odirect): {c['id']}: {c['reason']}")
            continue
        check_case(c, cpus, tlb_row)
        t.check(ex.get("walker") == "odirect" and ex.get("odirect_fs")
                and ex.get("odirect_fs") != "tmpfs", f"{c['id']}: extra {ex}")
        t.check(ex.get("odirect_dir") == c["params"]["dir"] or
                (not c["params"]["dir"] and ex.get("odirect_dir") in default_dirs),
                f"{c['id']}: the file was made in {ex.get('odirect_dir')}")
        t.check(not any("failed other than with EFAULT" in line for line in c["log"]),
                f"{c['id']}: {c['log']}")
        # the case removed its file itself: mmrepro had nothing left to remove
        t.check(not any("left by pid" in line for line in c["log"]), f"{c['id']}: {c['log']}")
    if any(c["status"] == "ok" and c["params"]["op"] == "munmap" for c in rep["cases"]):
        t.check(sum(c["extra"].get("walker_efaults_total", 0) for c in rep["cases"]
                    if c["params"]["op"] == "munmap") > 0,
                "O_DIRECT walkers never met EFAULT after a munmap took their range away")
    t.check(not os.listdir(own), f"the walkers' file outlived its case: {os.listdir(own)}")
    t.check(odirect_files() == files_before, f"files left: {odirect_files()}")
    t.check_no_leftovers(left_before, "after the odirect cases")
    fits = [f for f in rep["analysis"]["munmap_threads"]["fits"] if f["mode"] == "walk"]
    t.check(all(f.get("walker") == "odirect" for f in fits), f"walk fits {fits}")

    # dir on tmpfs is refused with the reason (its O_DIRECT copies, pins nothing)
    if fs_type("/dev/shm") == "tmpfs":
        out = os.path.join(d, "tmpfs.json")
        t.run(["run", "munmap_threads", "--set", "size=8M", "--set", "mode=walk",
               "--set", "walker=odirect", "--set", "dir=/dev/shm", "--set", "repetitions=1",
               "-o", out, "-q"], check_rc=0)
        c = t.validate(out)["cases"][0]
        t.check(c["status"] == "skipped" and "tmpfs" in c["reason"] and "O_DIRECT" in c["reason"],
                f"dir on tmpfs: {c['status']}: {c['reason']}")
    t.check_knobs_equal(before, "after the odirect cases")
t.done("test_munmap_threads")
