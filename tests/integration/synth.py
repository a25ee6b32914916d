"""Synthetic mmrepro reports for the compare tests and bench/compare_speed.sh.

Every document this module makes is valid against reports/report.schema.json
(the tests validate them too), with a made-up fingerprint and the samples the
caller gives, so the statistics can be checked on known data.
"""
import copy
import json
import math
import os
import random

FINGERPRINT = {
    "hostname": "synth",
    "kernel": {"release": "6.1.0-base", "version": "#1 SMP", "machine": "x86_64",
               "cmdline": "root=/dev/vda quiet"},
    "kconfig": {"source": "/proc/config.gz", "options": {"CONFIG_TRANSPARENT_HUGEPAGE": "y"}},
    "cpu": {"model": "Synthetic CPU @ 2.0GHz", "vendor": "GenuineIntel", "online": 2,
            "allowed": 2, "hypervisor_flag": True},
    "mitigations": {"meltdown": "Not affected"},
    "topology": {"packages": 1, "cores": 2, "pus": 2, "numa_nodes": 1},
    "numa": {"available": True, "nodes": [{"node": 0, "mem_total_bytes": 8 << 30}]},
    "memory": {"MemTotal_bytes": 8 << 30, "MemAvailable_bytes": 7 << 30, "SwapTotal_bytes": 0,
               "Hugetlb_bytes": 0},
    "virtualization": {"cpuid_vendor": "KVMKVMKVM", "accelerator": None},
    "clocksource": "tsc",
    "knobs": {"thp.enabled": "madvise", "thp.defrag": "madvise"},
    "probes": {"root": True, "thp": True, "mthp_sysfs": True, "mthp_sizes_kb": [16, 64, 2048],
               "mthp_stats": True, "madv_populate_write": True, "madv_collapse": True,
               "io_uring": True, "kpageflags": True, "pagemap_scan": True,
               "page_size": 4096, "pmd_size": 2 << 20},
}


def summary(xs):
    """A summary in the report's shape (compare recomputes its own)."""
    n = len(xs)
    if n == 0:
        return {"n": 0}
    s = sorted(xs)
    mean = sum(xs) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else 0.0

    def q(p):
        h = (n - 1) * p
        i = int(math.floor(h))
        return s[i] if i + 1 >= n else s[i] + (h - i) * (s[i + 1] - s[i])
    med = q(0.5)
    return {"n": n, "median": med, "mean": mean, "stddev": sd,
            "cov_pct": 100 * sd / abs(mean) if mean else 0.0, "min": s[0], "max": s[-1],
            "q1": q(0.25), "q3": q(0.75), "mad": sorted(abs(x - med) for x in xs)[n // 2],
            "hmean": None, "median_ci95": None, "note": "synthetic"}


def case(index, params, metrics, workload="fork_anon", status="ok", reason=None):
    """metrics: {name: (unit, direction, [samples])}"""
    pid = " ".join(f"{k}={v}" for k, v in params.items())
    return {
        "index": index, "id": f"{workload} {pid}".strip(), "workload": workload,
        "origin": "synthetic", "params": dict(params),
        "harness": {"repetitions": 10, "warmup": 1, "timeout_s": 600.0, "cpu": -1,
                    "layout_tolerance": 0.0, "seed": 1, "stall_timeout_s": 0},
        "status": status, "reason": reason,
        "metrics": {name: {"unit": u, "direction": d, "help": "synthetic",
                           "samples": list(xs), "summary": summary(xs)}
                    for name, (u, d, xs) in metrics.items()},
        "counters": {}, "layout": None, "placement": [], "extra": {}, "log": [],
        "settings": {"requested": {}, "applied": {}}, "duration_s": 1.0,
        "footprint_bytes": 16 << 20,
    }


def report(cases, release="6.1.0-base", started="2026-01-01T00:00:00Z", fingerprint=None):
    fp = copy.deepcopy(fingerprint or FINGERPRINT)
    fp["kernel"]["release"] = release
    return {
        "schema_version": 1,
        "tool": {"name": "mmrepro", "version": "0.1.0", "git": "synthetic"},
        "command": ["mmrepro", "run", "synthetic"], "run_id": "synthetic-" + release,
        "started_at": started, "finished_at": started, "duration_s": 1.0, "status": "ok",
        "exit_code": 0, "fingerprint": fp,
        "config": {"target": "synthetic", "file": None, "name": "synthetic", "scale": "default",
                   "overrides": {}, "cases": []},
        "claim": None,
        "memory_guard": {"mem_total_bytes": 8 << 30, "mem_available_bytes": 7 << 30,
                         "margin_bytes": 1 << 30, "budget_bytes": 6 << 30},
        "settings": {"baseline": {}, "restored": True},
        "cases": [dict(c, index=i) for i, c in enumerate(cases)],
        "dmesg": {"available": True, "marker": "synthetic", "findings": []},
        "analysis": {},
    }


def one_metric_report(xs, release, unit="ns", direction="lower", name="fork_ns",
                      params=None):
    return report([case(0, params or {"size": "16M"}, {name: (unit, direction, xs)})],
                  release=release)


def lognormal(rng, n, median, cov_pct):
    """n samples around median with about the given CoV (log-normal)."""
    sigma = math.sqrt(math.log(1 + (cov_pct / 100) ** 2))
    return [median * math.exp(rng.gauss(0, sigma)) for _ in range(n)]


def many_metrics(rng, nmetrics, nsamples, shift=1.0, cov_pct=1.0, release="6.1.0-base"):
    """One case with nmetrics lower-is-better metrics of nsamples each."""
    ms = {f"metric_{i:03d}_ns": ("ns", "lower",
                                 lognormal(rng, nsamples, 1e6 * (1 + i / 100) * shift, cov_pct))
          for i in range(nmetrics)}
    return report([case(0, {"size": "16M"}, ms)], release=release)


def write(doc, path):
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def rng(seed):
    return random.Random(seed)


_compare_validator = None


def validate_compare(doc):
    """Validate `mmrepro compare/report --format json` output against
    reports/compare.schema.json (failures are recorded with mmrtest.check)."""
    global _compare_validator
    import jsonschema
    import mmrtest
    if _compare_validator is None:
        with open(os.path.join(mmrtest.SOURCE, "reports", "compare.schema.json")) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        _compare_validator = jsonschema.Draft202012Validator(schema)
    errors = list(_compare_validator.iter_errors(doc))
    for e in errors[:10]:
        mmrtest.check(False, f"compare schema: {'/'.join(map(str, e.path))}: {e.message[:300]}")
    return doc
