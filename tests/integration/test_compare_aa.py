#!/usr/bin/env python3
"""Calibration of the verdicts on synthetic reports.

A/A: 200 seeded pairs of reports drawn from one distribution (5 metrics each,
n=10, CoV 1%). With the noise floor at 0 the share of metrics with p < alpha
must stay within alpha plus a small tolerance (and above zero: the test is
live); with the default floor (1%) the share called changed must be smaller
still. Shifted pairs (every metric 5% slower, CoV 1%, n=10) must be called
regressions in at least 95% of draws. The shares are printed.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402
import synth  # noqa: E402

PAIRS, METRICS, N, COV, ALPHA, TOL = 200, 5, 10, 1.0, 0.05, 0.015


def verdicts(a, b, extra=()):
    r = t.run(["compare", "--format", "json", "--fail-on", "never", *extra, a, b], check_rc=0)
    doc = json.loads(r.stdout)
    return [m["comparisons"][0] for c in doc["cases"] for m in c["metrics"]]


with t.tmpdir() as d:
    a_path, b_path = os.path.join(d, "a.json"), os.path.join(d, "b.json")
    low_p = changed = detected = total = 0
    for seed in range(PAIRS):
        rng = synth.rng(seed)
        base = synth.many_metrics(rng, METRICS, N, cov_pct=COV, release="6.1.0-a")
        same = synth.many_metrics(rng, METRICS, N, cov_pct=COV, release="6.1.0-b")
        slow = synth.many_metrics(rng, METRICS, N, shift=1.05, cov_pct=COV, release="6.1.0-c")
        if seed == 0:
            t.validate(base)
        synth.write(base, a_path)
        synth.write(same, b_path)
        for v in verdicts(a_path, b_path, ["--noise-floor", "0"]):
            low_p += v["p"] < ALPHA
        for v in verdicts(a_path, b_path):
            changed += v["verdict"] in ("improvement", "regression")
            total += 1
        synth.write(slow, b_path)
        for v in verdicts(a_path, b_path):
            detected += v["verdict"] == "regression"
    share_p, share_changed, share_detected = low_p / total, changed / total, detected / total
    print(f"A/A: {total} metrics in {PAIRS} pairs: p < {ALPHA} in {share_p:.3%} "
          f"(allowed {ALPHA + TOL:.1%}); called changed (1% floor) in {share_changed:.3%}")
    print(f"5% slower, CoV {COV}%, n={N}: called a regression in {share_detected:.2%} "
          f"(need >= 95%)")
    t.check(0 < share_p <= ALPHA + TOL, f"A/A share with p < alpha: {share_p:.4f}")
    t.check(share_changed <= share_p, f"A/A changed {share_changed} > p-share {share_p}")
    t.check(share_detected >= 0.95, f"shifted pairs detected in {share_detected:.4f}")
t.done("test_compare_aa")
