#!/usr/bin/env python3
"""The statistics of `mmrepro compare` against an independent oracle: scipy.

Fixed samples (without and with ties, equal and unequal sizes) go through
synthetic reports and `mmrepro compare --format json`; the two-sided
Mann-Whitney p must agree with scipy to 1e-6: scipy.stats.mannwhitneyu
(method="exact") without ties, an exhaustive scipy.stats.permutation_test of
the rank sum with ties (scipy's own exact method ignores ties), and
mannwhitneyu(method="asymptotic") above 50 samples. The interval of the
change must be the Moses interval: the shifts at its ends are exactly where
scipy's exact test crosses alpha.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrtest as t  # noqa: E402
import synth  # noqa: E402

try:
    import numpy as np
    from scipy import stats
except ImportError:
    t.skip("python3-scipy is not installed (the oracle)")


def ours(x, y, d, extra=()):
    a = synth.write(synth.one_metric_report(x, "6.1.0-a"), os.path.join(d, "a.json"))
    b = synth.write(synth.one_metric_report(y, "6.1.0-b"), os.path.join(d, "b.json"))
    r = t.run(["compare", "--format", "json", "--fail-on", "never", *extra, a, b], check_rc=0)
    doc = json.loads(r.stdout)
    return doc["cases"][0]["metrics"][0]["comparisons"][0]


def ranksum(x, y, axis=-1):
    allv = np.concatenate([x, y], axis=axis)
    return np.sum(stats.rankdata(allv, axis=axis)[..., :x.shape[axis]], axis=axis)


def exact_with_ties(x, y):
    res = stats.permutation_test((np.array(x), np.array(y)), ranksum, vectorized=True,
                                 n_resamples=np.inf, permutation_type="independent",
                                 alternative="two-sided", batch=20000)
    return float(res.pvalue)


rs = np.random.default_rng(20261122)
CASES = []
# exact, no ties: equal and unequal sizes, overlapping and separated
for m, n, shift in ((6, 7, 0.0), (3, 9, 0.5), (12, 15, 0.3), (10, 10, 2.0), (4, 4, 0.0),
                    (25, 25, 0.2)):
    x = list(1000 + 10 * rs.standard_normal(m))
    y = list(1000 + 10 * (rs.standard_normal(n) + shift))
    CASES.append(("exact", x, y))
# exact with ties: small integer values
for m, n in ((8, 9), (6, 14), (5, 5)):
    CASES.append(("ties", [float(v) for v in rs.integers(100, 106, m)],
                  [float(v) for v in rs.integers(101, 107, n)]))
# asymptotic above 50 samples, without and with ties, unequal sizes
for m, n, tie in ((30, 35, False), (40, 25, True), (26, 26, False), (60, 45, True)):
    if tie:
        x = [float(v) for v in rs.integers(50, 70, m)]
        y = [float(v) for v in rs.integers(52, 72, n)]
    else:
        x = list(500 + 5 * rs.standard_normal(m))
        y = list(501 + 5 * rs.standard_normal(n))
    CASES.append(("asymptotic", x, y))

with t.tmpdir() as d:
    worst = 0.0
    for kind, x, y in CASES:
        got = ours(x, y, d)
        if kind == "exact":
            want = stats.mannwhitneyu(x, y, alternative="two-sided", method="exact").pvalue
        elif kind == "ties":
            want = exact_with_ties(x, y)
        else:
            want = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic",
                                      use_continuity=True).pvalue
        method = "exact" if len(x) + len(y) <= 50 else "normal"
        t.check(got["p_method"] == method,
                f"{kind} {len(x)}+{len(y)}: method {got['p_method']}, expected {method}")
        err = abs(got["p"] - want)
        worst = max(worst, err)
        t.check(err <= 1e-6, f"{kind} {len(x)}+{len(y)}: p {got['p']!r}, scipy {want!r}")
        print(f"{kind:10s} {len(x):2d}+{len(y):2d}  p={got['p']:.9f}  scipy={want:.9f}")
    print(f"largest |p - scipy| = {worst:.2e}")

    # every value tied: no evidence either way
    got = ours([5.0] * 30, [5.0] * 30, d)
    t.check(got["p"] == 1.0 and got["verdict"] == "same", f"all tied: {got}")

    # The interval of the change inverts the exact test: shifting the log
    # values by a point just inside an end keeps p > alpha, just outside
    # gives p <= alpha (the ends are pairwise differences of log values).
    for m, n in ((8, 8), (10, 13)):
        x = list(1000 * np.exp(0.02 * rs.standard_normal(m)))
        y = list(1050 * np.exp(0.02 * rs.standard_normal(n)))
        got = ours(x, y, d)
        lx, ly = np.log(x), np.log(y)
        diffs = np.sort(np.subtract.outer(ly, lx).ravel())
        for end in ("lo_pct", "hi_pct"):
            e = math.log1p(got["ci"][end] / 100)
            i = int(np.argmin(np.abs(diffs - e)))
            t.check(abs(diffs[i] - e) < 1e-9, f"{m}+{n}: {end} is not a pairwise difference")
            inner = (diffs[i] + diffs[i + 1 if end == "lo_pct" else i - 1]) / 2
            outer = (diffs[i] + diffs[i - 1 if end == "lo_pct" else i + 1]) / 2
            p_in = stats.mannwhitneyu(lx, ly - inner, method="exact").pvalue
            p_out = stats.mannwhitneyu(lx, ly - outer, method="exact").pvalue
            t.check(p_in > 0.05 >= p_out,
                    f"{m}+{n} {end}: p just inside {p_in:.4f}, just outside {p_out:.4f}")
        t.check(got["ci"]["level"] >= 0.95, f"coverage {got['ci']['level']}")
t.done("test_compare_stats")
