#!/usr/bin/env python3
"""sga_attach at small scale for every backing this kernel supports.

Checks that the report validates; every backing runs but mshare, which is
always skipped with the reason (no msharefs, or an msharefs whose unmerged
API mmrepro has no attach path for); the SGA's folios were
proven before every repetition; every metric has its samples; each process's
VmPTE growth is what the page-table model says (it counts the process's own
tables, so it is exact, give or take one PUD table); the hugetlbfs-aligned
case costs each process less page-table memory than the misaligned one and
than memfd 4K, and its processes really share PMD tables (they fault once per
GiB, not once per huge page); that with windows of half the SGA the
hugetlbfs backings start every window at a GiB offset, and the aligned
members still share; that shmem_thp_size=64K gets its knob set, proven
64K folios and the knob put back (when the kernel has per-size shmem mTHP);
and that nothing is left: no process of the
run, SysV segment, hugetlb page, /dev/shm file, record or changed knob.
"""
# ctest-labels: sga
# ctest-timeout: 1200
import gzip
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402

t.require_root()
REPS, WARMUP, PROCS = 3, 1, 32
GiB = 1 << 30
SHMEM_64K = "/sys/kernel/mm/transparent_hugepage/hugepages-64kB/shmem_enabled"
BACKINGS = ["sysv", "sysv-hugetlb", "memfd", "shmem-thp", "hugetlbfs-aligned",
            "hugetlbfs-misaligned", "mshare"]
METRICS = ["spawn_ns", "ready_ns", "spawn_to_ready_ns", "teardown_ns", "attach_ns_p50",
           "attach_ns_p99", "attach_ns_max", "touch_ns_p50", "touch_ns_p99", "touch_ns_max",
           "detach_ns_p50", "detach_ns_max", "minflt_p50", "minflt_max", "minflt_sum",
           "pagetables_bytes", "pagetables_per_proc_gib", "vmpte_sum_bytes", "vmpte_p50_kb",
           "vmpte_p99_kb", "vmpte_max_kb", "sga_resident_bytes"]


def mshare_in_kernel():
    with open("/proc/filesystems") as f:
        return "msharefs" in f.read()


def kconfig_pmd_sharing():
    """CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING's value, or None when unknown."""
    for path in ("/proc/config.gz", f"/boot/config-{os.uname().release}"):
        try:
            with (gzip.open(path, "rt") if path.endswith(".gz") else open(path)) as f:
                for line in f:
                    if line.startswith("CONFIG_HUGETLB_PMD_PAGE_TABLE_SHARING="):
                        return line.split("=", 1)[1].strip()
                return None
        except OSError:
            continue
    return None


def median(c, m):
    return c["metrics"][m]["summary"]["median"]


with t.machine_lock(), t.tmpdir() as d:
    knobs, before = t.knobs(), t.leftovers()
    # a 64K stride still touches every PTE table (and spares SysV, which has
    # no fault-around, 16 faults in 17)
    cfg = t.write_config({
        "workload": "sga_attach",
        "params": {"sga_size": "1G", "procs": PROCS, "touch_stride": "64K"},
        "matrix": {"backing": BACKINGS},
        "repetitions": REPS, "warmup": WARMUP, "timeout": "15m"}, d)
    out = os.path.join(d, "all.json")
    p = t.start(["run", cfg, "-o", out, "-q"], start_new_session=True)
    _, err = p.communicate(timeout=1100)
    rep = t.validate(out)
    t.check(p.returncode == 0, f"exit {p.returncode}: {err} "
            f"{[(c['id'], c['status'], c['reason']) for c in rep['cases'] if c['status'] != 'ok']}")
    t.check_knobs_equal(knobs, "after every backing")
    t.check_no_leftovers(before, "after every backing", sid=p.pid)
    cases = {c["params"]["backing"]: c for c in rep["cases"]}
    for b, c in cases.items():
        if b == "mshare":
            why = ("msharefs found but its API is not merged upstream" if mshare_in_kernel()
                   else "kernel has no msharefs")
            t.check(c["status"] == "skipped" and why in (c["reason"] or ""),
                    f"mshare: expected a skip saying '{why}', got {c['status']}: {c['reason']}")
            continue
        t.check(c["status"] == "ok", f"{b}: {c['status']}: {c['reason']}")
        if c["status"] != "ok":
            continue
        lay = c["layout"] or {}
        t.check(lay.get("requested") == lay.get("observed") and lay.get("proven")
                and lay.get("checks") == REPS + WARMUP and lay.get("max_mismatch_pages") == 0,
                f"{b}: the SGA's folios must be proven before every repetition: {lay}")
        for m in METRICS:
            s = c["metrics"].get(m, {}).get("samples", [])
            t.check(len(s) == REPS, f"{b}: {m} has samples {s}")
        for op in ("spawn", "attach_touch", "teardown"):
            t.check(c["counters"].get(op, {}).get("n") == REPS, f"{b}: counters of {op}")
        t.check(median(c, "sga_resident_bytes") == 1 << 30, f"{b}: the SGA must be resident")
        # VmPTE is each process's own count: the model's, plus at most a PUD table
        model = c["extra"]["model"]["vmpte_bytes_per_proc"]
        got = median(c, "vmpte_sum_bytes") / PROCS
        t.check(model <= got <= model + 4096,
                f"{b}: VmPTE growth per process {got} B, the model says {model} B")
        # what decided PMD sharing: the kernel config when it has the option
        mod, kc = c["extra"]["model"], kconfig_pmd_sharing()
        want = ("hugetlb" in b and kc == "y") if kc else mod["pmd_sharing"]
        t.check(mod["pmd_sharing_source"] == ("kconfig" if kc else "arch")
                and mod["pmd_sharing"] == want,
                f"{b}: PMD sharing {mod['pmd_sharing']} decided by {mod['pmd_sharing_source']} "
                f"({mod['pmd_sharing_basis']}), the config says {kc}")
        sga = c["extra"]["sga"]
        if b.startswith("hugetlbfs"):
            t.check(sga["window_offsets"] and all(o % GiB == 0 for o in sga["window_offsets"]),
                    f"{b}: windows must start at GiB offsets: {sga['window_offsets']}")
        proj = c["extra"]["projection"]
        t.check(proj["sga_bytes"] == 300e9 and proj["procs"] == 1500 and proj["from_model_bytes"] > 0,
                f"{b}: projection {proj}")

    al, mis, m4k = (cases.get(b) for b in ("hugetlbfs-aligned", "hugetlbfs-misaligned", "memfd"))
    if all(c and c["status"] == "ok" for c in (al, mis, m4k)):
        t.check(median(al, "vmpte_p50_kb") < median(mis, "vmpte_p50_kb") < median(m4k, "vmpte_p50_kb"),
                "page-table memory per process must order hugetlbfs-aligned < misaligned < memfd 4K: "
                f"{[median(c, 'vmpte_p50_kb') for c in (al, mis, m4k)]} kB")
        # the system's count (other processes' activity rides along, so only
        # what dwarfs it is asserted): 64 MiB of 4K PTEs, as the model says
        t.check(median(m4k, "pagetables_bytes") > 10 * max(median(al, "pagetables_bytes"),
                                                            median(mis, "pagetables_bytes"), 1 << 20),
                "PageTables growth of memfd 4K must dwarf both hugetlb cases: "
                f"{[median(c, 'pagetables_bytes') for c in (m4k, al, mis)]}")
        ratio = m4k["extra"]["measured_over_model"]["pagetables"]
        t.check(0.9 < ratio < 1.1, f"memfd 4K: PageTables growth / model = {ratio}")
        # shared PMD tables: a process finds the SGA mapped already and faults
        # once per GiB; without sharing it faults once per huge page (512)
        t.check(median(al, "minflt_p50") < 16 <= 512 <= median(mis, "minflt_p50"),
                f"PMD sharing: minor faults per process aligned {median(al, 'minflt_p50')}, "
                f"misaligned {median(mis, 'minflt_p50')}")
        t.check(al["extra"]["model"]["shared_pmd_tables"] == 1
                and mis["extra"]["model"]["shared_pmd_tables"] == 0,
                f"model: shared tables {al['extra']['model']} {mis['extra']['model']}")
    # The same at the system's level: PageTables grows by one shared table in
    # all for the aligned case, by two tables per process for the misaligned
    # one; 256 processes make the difference 2 MiB, clear of what other
    # processes on the machine allocate or free meanwhile (and of a PUD table
    # per process, which both cases pay when the SGA lands in a 512 GiB
    # region of its own, as it can under ASan).
    cfg = t.write_config({
        "workload": "sga_attach", "params": {"sga_size": "1G", "procs": 256},
        "matrix": {"backing": ["hugetlbfs-aligned", "hugetlbfs-misaligned"]},
        "repetitions": 5, "warmup": 1}, d)
    out2 = os.path.join(d, "sharing.json")
    p = t.start(["run", cfg, "-o", out2, "-q"], start_new_session=True)
    _, err = p.communicate(timeout=600)
    al, mis = t.validate(out2)["cases"]
    t.check(p.returncode == 0, f"sharing run: exit {p.returncode}: {err} "
            f"{[(c['status'], c['reason']) for c in (al, mis)]}")
    if al["status"] == mis["status"] == "ok":
        saved = median(mis, "pagetables_bytes") - median(al, "pagetables_bytes")
        model = mis["extra"]["model"]["pagetables_bytes"] - al["extra"]["model"]["pagetables_bytes"]
        t.check(model > 0 and saved > model / 2,
                "PageTables growth: aligned hugetlb must share its PMD table: it saves "
                f"{saved} B over misaligned, the model says {model} B")
    t.check_no_leftovers(before, "after the sharing run", sid=p.pid)

    # Windows of half a 2 GiB SGA: the hugetlbfs backings start them at GiB
    # offsets, so the aligned members of each half share its PMD table (they
    # fault once, not once per huge page) and the misaligned ones, mapped
    # 2 MiB past the GiB, share nothing.
    cfg = t.write_config({
        "workload": "sga_attach",
        "params": {"sga_size": "2G", "fraction": 0.5, "procs": 16, "touch_stride": "2M"},
        "matrix": {"backing": ["hugetlbfs-aligned", "hugetlbfs-misaligned"]},
        "repetitions": REPS, "warmup": WARMUP}, d)
    out3 = os.path.join(d, "windows.json")
    p = t.start(["run", cfg, "-o", out3, "-q"], start_new_session=True)
    _, err = p.communicate(timeout=600)
    al, mis = t.validate(out3)["cases"]
    t.check(p.returncode == 0 and al["status"] == mis["status"] == "ok",
            f"windows run: exit {p.returncode}: {err} {[(c['status'], c['reason']) for c in (al, mis)]}")
    if al["status"] == mis["status"] == "ok":
        for c, off in ((al, 0), (mis, 2 << 20)):
            sga = c["extra"]["sga"]
            t.check(sga["window_offsets"] == [0, GiB] * 8 and sga["misalign_bytes"] == off
                    and sga["window_bytes"] == GiB,
                    f"{sga['placement']}: window offsets {sga['window_offsets']}, misalign {sga['misalign_bytes']}")
            model = c["extra"]["model"]["vmpte_bytes_per_proc"]
            got = median(c, "vmpte_sum_bytes") / 16
            t.check(model <= got <= model + 4096,
                    f"{sga['placement']} windows: VmPTE growth per process {got} B, the model says {model} B")
        t.check(al["extra"]["model"]["shared_pmd_tables"] == 2
                and mis["extra"]["model"]["shared_pmd_tables"] == 0,
                f"windows: model's shared tables {al['extra']['model']} {mis['extra']['model']}")
        t.check(median(al, "minflt_p50") < 16 <= 512 <= median(mis, "minflt_p50"),
                f"windows: minor faults per process aligned {median(al, 'minflt_p50')}, "
                f"misaligned {median(mis, 'minflt_p50')}")
    t.check_no_leftovers(before, "after the windows run", sid=p.pid)

    # Per-size shmem mTHP: 64K folios of shmem, asked for through the settings
    # transaction and put back; the layout proof sees order-4 folios.
    if not os.path.exists(SHMEM_64K):
        print(f"skipping the shmem_thp_size=64K case: no {SHMEM_64K} "
              "(per-size shmem mTHP is Linux 6.11+)")
    else:
        cfg = t.write_config({
            "workload": "sga_attach",
            "params": {"sga_size": "256M", "procs": PROCS, "backing": "shmem-thp",
                       "shmem_thp_size": "64K", "touch_stride": "64K"},
            "repetitions": REPS, "warmup": WARMUP}, d)
        out4 = os.path.join(d, "mthp64k.json")
        p = t.start(["run", cfg, "-o", out4, "-q"], start_new_session=True)
        _, err = p.communicate(timeout=600)
        (c,) = t.validate(out4)["cases"]
        t.check(p.returncode == 0 and c["status"] == "ok",
                f"shmem 64K: exit {p.returncode}: {err} {c['status']}: {c['reason']}")
        t.check(c["settings"]["requested"].get("thp.64K.shmem_enabled") == "always"
                and c["settings"]["applied"].get("thp.64K.shmem_enabled") == "always",
                f"shmem 64K: settings {c['settings']}")
        lay = c["layout"] or {}
        t.check(lay.get("requested") == lay.get("observed") == "mthp-64K" and lay.get("proven"),
                f"shmem 64K: the SGA must be proven made of 64K folios: {lay}")
        t.check(c["extra"].get("sga", {}).get("page_bytes") == 64 << 10,
                f"shmem 64K: extra.sga {c['extra'].get('sga')}")
        t.check_knobs_equal(knobs, "after the shmem 64K case")
        t.check_no_leftovers(before, "after the shmem 64K case", sid=p.pid)

    lines = rep["analysis"].get("sga_attach", {}).get("summary_lines", [])
    t.check(len(lines) == sum(c["status"] == "ok" for c in cases.values()) and "878 GB" in lines[0],
            f"analysis: {lines}")

    # the schema knows sga_attach's extra and analysis: a missing key is named
    ok = next(i for i, c in enumerate(rep["cases"]) if c["status"] == "ok")
    for drop, where in ((("extra", "model", "pmd_sharing_source"), f"cases[{ok}].extra.model"),
                        (("extra", "projection", "from_model_bytes"), f"cases[{ok}].extra.projection"),
                        (("extra", "sga", "window_offsets"), f"cases[{ok}].extra.sga")):
        doc = json.loads(json.dumps(rep))
        obj = doc["cases"][ok]
        for k in drop[:-1]:
            obj = obj[k]
        del obj[drop[-1]]
        with open(os.path.join(d, "broken.json"), "w") as f:
            json.dump(doc, f)
        r = t.run(["report", os.path.join(d, "broken.json")], check_rc=8)
        t.check(where in r.stderr and drop[-1] in r.stderr, f"without {drop}: {r.stderr}")
    doc = json.loads(json.dumps(rep))
    del doc["analysis"]["sga_attach"]["claim_bytes"]
    with open(os.path.join(d, "broken.json"), "w") as f:
        json.dump(doc, f)
    r = t.run(["report", os.path.join(d, "broken.json")], check_rc=8)
    t.check("analysis.sga_attach" in r.stderr and "claim_bytes" in r.stderr,
            f"without analysis.sga_attach.claim_bytes: {r.stderr}")

    # bad input: one line naming the file and the key, nothing changed
    bad = t.write_config({"workload": "sga_attach", "params": {"sga_size": "3M",
                                                              "backing": "hugetlbfs-aligned"}}, d)
    r = t.run(["run", bad, "-o", os.path.join(d, "bad.json"), "-q"], check_rc=1)
    c = t.validate(os.path.join(d, "bad.json"))["cases"][0]
    t.check(c["status"] == "invalid" and "not a multiple of the SGA's 2M pages" in c["reason"],
            f"sga_size 3M with 2M pages: {c['status']} {c['reason']}")
    # an aligned window below 1 GiB cannot share a PMD table: refused, one line
    r = t.run(["run", "sga_attach", "--set", "backing=hugetlbfs-aligned", "--set", "fraction=0.5",
               "-o", os.path.join(d, "small.json"), "-q"], check_rc=1)
    c = t.validate(os.path.join(d, "small.json"))["cases"][0]
    t.check(c["status"] == "invalid" and "sga_size" in c["reason"] and "fraction" in c["reason"]
            and "\n" not in c["reason"], f"aligned 512M window: {c['status']} {c['reason']}")
    r = t.run(["run", "sga_attach", "--set", "procs=0"], check_rc=2)
    t.check("procs" in r.stderr and r.stderr.count("\n") == 1, f"procs=0: {r.stderr}")
    t.check_knobs_equal(knobs, "after bad input")
    t.check_no_leftovers(before, "after bad input")
t.done("test_sga_attach")
