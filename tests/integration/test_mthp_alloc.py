#!/usr/bin/env python3
"""mthp_alloc at tiny sizes.

With the 64K size set and the arena giving 4K pieces back, the per-size
counters show 64K folios allocated and queued for deferred split; with the
arena giving back whole 64K granules, fewer (none of its own); with no size
enabled, no THP counter moves at all. The reclaim step in the case's memory
cgroup splits what was left partially mapped, without unmapping anything the
heap still uses. Every real allocator runs (or is skipped naming its Debian
package) with its own malloc. Bad size sets and size mixes are refused with
the parameter named. Every knob is back after every case, no cgroup is left
after a timeout, and after a SIGKILL of mmrepro `mmrepro restore` removes the
cgroup it recorded.

Cases use thp_mode=madvise where counters are asserted: only the arena's
madvised memory can then get mTHP, so the system-wide per-size counters are
this test's own, whatever else runs on the machine.

On a kernel without anonymous 64K mTHP (before 6.8) the 64K cases must skip
naming the size, and the cases that only need to run use the PMD size; on one
without a per-size stat (6.10-6.12 added them) the assertions on it are left
out. Each assertion left out prints a "note: ... unchecked because ..." line;
everything else runs on every kernel.
"""
# ctest-timeout: 1500
import glob
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
THP = "/sys/kernel/mm/transparent_hugepage"
HAS_THP = os.path.exists(f"{THP}/enabled")
HAS_64K = os.path.exists(f"{THP}/hugepages-64kB/enabled")
NO_64K = "this kernel has no anonymous 64K mTHP (hugepages-64kB/enabled, Linux 6.8+)"


def size_name(kb):
    return f"{kb // 1024}M" if kb >= 1024 and kb % 1024 == 0 else f"{kb}K"


def stat_path(kb, stat):
    return f"{THP}/hugepages-{kb}kB/stats/{stat}"


def has_stat(stat, kb=64):
    return os.path.exists(stat_path(kb, stat))


def no_stat(stat, kb=64):
    return (f"this kernel has no per-size mTHP stat hugepages-{kb}kB/stats/{stat}"
            " (6.10-6.12 added them)")


def unchecked(what, why):
    print(f"note: {what} unchecked because {why}")


def pmd_name():
    with open(f"{THP}/hpage_pmd_size") as f:
        return size_name(int(f.read()) // 1024)


# the size set of the cases that only need to run, not to show 64K folios
RUN_MTHP = "64K" if HAS_64K else pmd_name() if HAS_THP else "none"
if RUN_MTHP != "64K":
    print(f"note: cases that need not show 64K folios run with mthp={RUN_MTHP}: {NO_64K}")
TINY = {"mthp": RUN_MTHP, "live": "8M", "turnover": 2, "timeline": 4, "thp_mode": "madvise"}
REPS = 2


def run_case(d, name, params, rc=0, reps=REPS, **harness):
    """One case in its own mmrepro run; the knobs must be back after it."""
    before = t.knobs()
    cfg = t.write_config({"workload": "mthp_alloc", "params": {**TINY, **params},
                          "repetitions": reps, "warmup": 1, **harness}, d)
    out = os.path.join(d, f"{name}.json")
    t.run(["run", cfg, "-o", out, "-q"], check_rc=rc)
    t.check_knobs_equal(before, f"after the {name} case")
    rep = t.validate(out)
    return rep["cases"][0], rep


def counter(c, op, name):
    return c["counters"].get(op, {}).get("total", {}).get("mthp", {}).get(name, 0)


def samples(c, metric):
    return c["metrics"].get(metric, {}).get("samples", [])


def sizes_kb():
    return [kb for kb in t.mthp_sizes_kb() if os.path.exists(f"{THP}/hugepages-{kb}kB/enabled")]


def per_size(c, kb):
    """The case's own per-size deltas (fill and churn), one per repetition."""
    return c["extra"].get("per_size", {}).get(size_name(kb), {})


def check_skipped_64k(c, name):
    t.check(c["status"] == "skipped" and "64K" in (c["reason"] or ""),
            f"{name} without 64K mTHP must skip naming the size: {c['status']}: {c['reason']}")


def check_reclaim(c, name):
    t.check(len(samples(c, "reclaim_ns")) == REPS and len(samples(c, "reclaimed_bytes")) == REPS,
            f"{name}: reclaim_ns and reclaimed_bytes: one sample per repetition")


with t.machine_lock(), t.tmpdir() as d:
    # the case in question: 64K folios, 4K pieces given back
    c, rep = run_case(d, "64k-4k", {"mthp": "64K", "free_granularity": "4K"})
    deferred_4k = None
    if not HAS_64K:
        check_skipped_64k(c, "64K/4K")
        unchecked("64K folios, partial unmaps, timeline, sweep row and reclaim splits", NO_64K)
    else:
        t.check(c["status"] == "ok", f"64K/4K: {c['status']}: {c['reason']}")
        t.check(c["extra"].get("thp_sizes_seen") == "64K",
                f"64K/4K ran with sizes {c['extra'].get('thp_sizes_seen')}")
        req = c["settings"]["requested"]
        t.check(req.get("thp.64K.enabled") == "madvise" and all(
            v == "never" for k, v in req.items() if k != "thp.64K.enabled"),
            f"64K/4K: every other size must be off: {req}")
        own = per_size(c, 64)
        for stat in ("anon_fault_alloc", "anon_fault_fallback", "split", "split_deferred",
                     "nr_anon", "nr_anon_partially_mapped"):
            t.check(len(own.get(stat, [])) == (REPS if has_stat(stat) else 0),
                    f"64K/4K: extra.per_size.64K.{stat}: one delta per repetition where the"
                    f" kernel has the stat: {own}")
        if has_stat("anon_fault_alloc"):
            alloc64 = (counter(c, "fill", "64K.anon_fault_alloc")
                       + counter(c, "churn", "64K.anon_fault_alloc"))
            t.check(alloc64 > 0, f"64K/4K: no 64K folio allocated: {c['counters'].get('fill')}")
            t.check(all(v > 0 for v in own.get("anon_fault_alloc", [])),
                    f"64K/4K: a repetition allocated no 64K folio: {own}")
        else:
            unchecked("64K folio allocations", no_stat("anon_fault_alloc"))
        # partially unmapped 64K folios of this case's own: queued for a
        # deferred split, or still counted partially mapped at the churn's end
        # (both deltas over the case's fill and churn, not system-wide gauges)
        if has_stat("split_deferred") or has_stat("nr_anon_partially_mapped"):
            deferred_4k = counter(c, "churn", "64K.split_deferred")
            own_deferred = own.get("split_deferred", [0] * REPS)
            own_partial = own.get("nr_anon_partially_mapped", [0] * REPS)
            t.check(deferred_4k > 0 or max(own_partial) > 0,
                    f"64K/4K: no 64K folio partially unmapped: churn {c['counters'].get('churn')}")
            t.check(all(a > 0 or b > 0 for a, b in zip(own_deferred, own_partial)),
                    f"64K/4K: a repetition left no 64K folio partially unmapped: {own}")
        else:
            unchecked("partially unmapped 64K folios",
                      no_stat("split_deferred") + " nor nr_anon_partially_mapped")
        ops = samples(c, "ops_per_s")
        t.check(len(ops) == REPS and all(v > 0 for v in ops), f"64K/4K: ops_per_s {ops}")
        t.check(all(v > 0 for v in samples(c, "returned_bytes")), "the arena gave nothing back")
        tl = c["extra"].get("timeline", [])
        t.check(len(tl) == REPS and all(len(r["churn"]) == TINY["timeline"] + 1 for r in tl),
                f"timeline: {len(tl)} reps, points {[len(r['churn']) for r in tl]}")
        t.check(all("64K" in p["mthp"] for r in tl for p in r["churn"]),
                "the timeline must carry the 64K gauges")
        rows = rep["analysis"].get("mthp_alloc", {}).get("rows", [])
        t.check(len(rows) == 1 and rows[0]["mthp"] == "64K" and rows[0]["ops_per_s"] > 0
                and list(rows[0]["per_size"]) == ["64K"], f"analysis rows: {rows}")
        memcg = c["extra"].get("memcg", "none")
        if memcg != "none":
            # reclaim in the case's cgroup splits the folios left partially mapped
            if has_stat("split"):
                t.check(max(samples(c, "reclaim_splits") or [0]) > 0,
                        f"reclaim split nothing: {samples(c, 'reclaim_splits')}")
            else:
                unchecked("reclaim splits", no_stat("split"))
            check_reclaim(c, "64K/4K")
        else:
            unchecked("reclaim", "there is no memory cgroup here"
                      f" ({c['extra'].get('memcg_why_not')})")

    # a granule as large as the folio frees whole folios: fewer deferred splits
    c, _ = run_case(d, "64k-64k", {"mthp": "64K", "free_granularity": "64K"})
    if not HAS_64K:
        check_skipped_64k(c, "64K/64K")
    else:
        t.check(c["status"] == "ok", f"64K/64K: {c['status']}: {c['reason']}")
        if has_stat("split_deferred"):
            deferred_64k = counter(c, "churn", "64K.split_deferred")
            t.check(deferred_64k < deferred_4k,
                    f"deferred splits: 64K granule {deferred_64k} must be below 4K granule"
                    f" {deferred_4k}")
        else:
            unchecked("fewer deferred splits with a 64K granule", no_stat("split_deferred"))

    # MADV_FREE instead of MADV_DONTNEED
    c, _ = run_case(d, "free", {"mthp": "64K", "free_advice": "free"}, reps=1)
    if not HAS_64K:
        check_skipped_64k(c, "free_advice=free")
    else:
        t.check(c["status"] == "ok" and all(v > 0 for v in samples(c, "returned_bytes")),
                f"free_advice=free: {c['status']} {c['reason']} {samples(c, 'returned_bytes')}")

    # the PMD size alone: on for the arena's memory, every other size off
    pmd = pmd_name() if HAS_THP else "2M"
    c, rep = run_case(d, "pmd", {"mthp": pmd}, reps=1)
    if not HAS_THP:
        t.check(c["status"] == "skipped", f"{pmd} without THP: {c['status']}: {c['reason']}")
    else:
        req = c["settings"]["requested"]
        knob = f"thp.{pmd}.enabled" if t.mthp_sizes_kb() else "thp.enabled"
        t.check(c["status"] == "ok" and c["extra"].get("thp_sizes_seen") == pmd,
                f"{pmd}: {c['status']} {c['reason']} {c['extra'].get('thp_sizes_seen')}")
        t.check(req.get(knob) == "madvise" and all(
            v == "never" for k, v in req.items() if k.endswith(".enabled") and k != knob),
            f"{pmd}: only {knob} may be on: {req}")
        rows = rep["analysis"].get("mthp_alloc", {}).get("rows", [])
        t.check(len(rows) == 1 and rows[0]["mthp"] == pmd, f"{pmd}: analysis rows: {rows}")

    # no size enabled: no THP counter of any size moves. Nothing anywhere can
    # fault a large anonymous folio in then; a folio some other process got
    # earlier could still be partially unmapped meanwhile, so deferred splits
    # and new partially mapped folios are bounded by the folios that existed
    # (zero when there were none).
    existing = {}
    for kb in sizes_kb():
        if has_stat("nr_anon", kb):
            with open(stat_path(kb, "nr_anon")) as f:
                existing[kb] = int(f.read())
    c, _ = run_case(d, "none", {"mthp": "none", "free_granularity": "4K"})
    t.check(c["status"] == "ok" and c["extra"].get("thp_sizes_seen") == "none",
            f"none: {c['status']} {c['reason']} {c['extra'].get('thp_sizes_seen')}")
    if not sizes_kb():
        unchecked("per-size counters of the none case", "this kernel has no per-size mTHP")
    missing = set()
    for kb in sizes_kb():
        own = per_size(c, kb)
        for stat in ("anon_fault_alloc", "anon_fault_fallback", "split_deferred",
                     "nr_anon_partially_mapped"):
            if not has_stat(stat, kb):
                missing.add(stat)
                continue
            bounded = stat in ("split_deferred", "nr_anon_partially_mapped")
            if bounded and kb not in existing:
                missing.add("nr_anon")
                continue
            bound = existing[kb] if bounded else 0
            for op in ("fill", "churn"):
                v = counter(c, op, f"{size_name(kb)}.{stat}")
                t.check(v <= bound, f"none: {op} moved mthp.{size_name(kb)}.{stat} by {v}"
                        f" ({existing.get(kb)} such folios existed before)")
            # the case's own deltas, one per repetition
            t.check(len(own.get(stat, [])) == REPS and all(v <= bound for v in own[stat]),
                    f"none: extra.per_size.{size_name(kb)}.{stat} {own.get(stat)} must stay"
                    f" within {bound} ({existing.get(kb)} such folios existed before)")
    for stat in sorted(missing):
        unchecked(f"the none case's {stat} deltas" if stat != "nr_anon" else
                  "the none case's deferred splits and partially mapped folios",
                  no_stat(stat, "<N>"))
    t.check(all(v == 0 for v in samples(c, "mthp_fault_alloc")),
            f"none: mthp_fault_alloc {samples(c, 'mthp_fault_alloc')}")
    memcg = c["extra"].get("memcg", "none")
    if memcg != "none":
        check_reclaim(c, "none")

    # real allocators: each runs with its own malloc, or says what to install
    before = t.knobs()
    cfg = t.write_config({"workload": "mthp_alloc", "params": {**TINY, "thp_mode": "always"},
                          "matrix": {"allocator": ["glibc", "jemalloc", "tcmalloc", "mimalloc"]},
                          "repetitions": 1, "warmup": 0}, d)
    out = os.path.join(d, "real.json")
    t.run(["run", cfg, "-o", out, "-q"], check_rc=0)
    t.check_knobs_equal(before, "after the real allocators")
    rep = t.validate(out)
    lib = {"glibc": "libc.so", "jemalloc": "libjemalloc", "tcmalloc": "libtcmalloc",
           "mimalloc": "libmimalloc"}
    pkg = {"jemalloc": "libjemalloc2", "tcmalloc": "libtcmalloc-minimal4",
           "mimalloc": "libmimalloc2.0"}
    for c in rep["cases"]:
        a = c["params"]["allocator"]
        if c["status"] == "skipped":
            t.check(a != "glibc" and pkg[a] in (c["reason"] or ""),
                    f"{a}: a skip must name the package: {c['reason']}")
            continue
        t.check(c["status"] == "ok", f"{a}: {c['status']}: {c['reason']}")
        t.check(lib[a] in c["extra"].get("malloc_from", ""),
                f"{a}: malloc came from {c['extra'].get('malloc_from')}")
        # the churn ends after an allocation or a free: the live set is the
        # target give or take one object of the mix (200K at most)
        t.check(samples(c, "ops_per_s") and samples(c, "live_bytes")[0] >= (8 << 20) - (200 << 10),
                f"{a}: ops_per_s {samples(c, 'ops_per_s')}, live {samples(c, 'live_bytes')}")
    rows = rep["analysis"].get("mthp_alloc", {})
    t.check(len(rows.get("rows", [])) == sum(c["status"] == "ok" for c in rep["cases"])
            and len(rows.get("summary_lines", [])) >= 2, f"the sweep table: {rows}")

    # bad input: the parameter is named, the case never runs, nothing changes
    for params, want in (({"mthp": "64K+33K"}, 'mthp: "33K" is not a THP size'),
                         ({"mthp": "64K+64K"}, "named twice"),
                         ({"size_mix": "4K:1,4Q:2"}, 'size_mix: entry 2 ("4Q:2")'),
                         ({"free_granularity": "12K"}, "free_granularity 12288 is not a power")):
        c, _ = run_case(d, "bad", params, rc=1)
        t.check(c["status"] == "invalid" and want in (c["reason"] or ""),
                f"{params}: {c['status']}: {c['reason']}")
    c, _ = run_case(d, "8k", {"mthp": "8K"})
    t.check(c["status"] == "skipped" and "8K" in (c["reason"] or ""),
            f"8K: {c['status']}: {c['reason']}")

    if memcg != "none":
        parent = os.path.dirname(memcg)
        left = lambda: glob.glob(os.path.join(parent, "mthp_alloc-*"))  # noqa: E731
        t.check(not left(), f"cgroups left after the runs: {left()}")

        # a case killed at its deadline never reaches its teardown: the run
        # removes its cgroup before it ends
        c, _ = run_case(d, "timeout", {"turnover": 1000, "timeline": 0}, rc=1, reps=1,
                        timeout="3s")
        t.check(c["status"] == "failed" and "timeout" in (c["reason"] or ""),
                f"timeout: {c['status']}: {c['reason']}")
        t.check(not left(), f"a timed-out case left {left()}")

        # SIGKILL of mmrepro: the cgroup stays until the next mthp_alloc run
        before = t.knobs()
        cfg = t.write_config({"workload": "mthp_alloc", "params": {
            **TINY, "turnover": 1000, "timeline": 0}, "repetitions": 1, "warmup": 0}, d)
        p = t.start(["run", cfg, "-o", os.path.join(d, "killed.json"), "-q"])
        t.wait_for(lambda: left(), 60, "the case's cgroup to appear")
        time.sleep(0.3)
        kids = t.children_of(p.pid)
        p.kill()
        p.wait()
        t.wait_for(lambda: not any(t.processes_in_group(g) for g in kids), 10,
                   "the case to die with mmrepro")
        t.check(len(left()) == 1, f"after SIGKILL the cgroup stays: {left()}")
        recorded = [o for path in t.leftovers()["records"]
                    for o in json.load(open(path)).get("objects", [])]
        t.check(any(o.get("kind") == "dir" and "mthp_alloc-" in o.get("path", "")
                    for o in recorded), f"the cgroup must be recorded: {recorded}")
        r = t.run(["restore"], check_rc=0)
        t.check_knobs_equal(before, "after SIGKILL and restore")
        t.check(not left(), f"`mmrepro restore` must remove the leftover cgroup: {left()}")
        t.check("mthp_alloc-" in r.stderr, f"restore names what it removed: {r.stderr!r}")
        t.check(not t.leftovers()["records"], f"records left: {t.leftovers()['records']}")
t.done("test_mthp_alloc")
