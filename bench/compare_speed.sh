#!/bin/bash
# How long does `mmrepro compare` take on big reports? Two synthetic reports
# of 200 metrics x 30 samples (tests/integration/synth.py), compared in each
# output format; prints the best of ROUNDS wall times per format. Target:
# under 1 s for the comparison (text, markdown, json); html adds one gnuplot
# run for the 200 plots and is printed apart.
# usage: bench/compare_speed.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
BUILD=${1:-build}
ROUNDS=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 - "$here" "$tmp" "$BUILD/mmrepro" "$ROUNDS" <<'PY'
import os, subprocess, sys, time
here, tmp, binary, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, os.path.join(here, "tests", "integration"))
import synth
rng = synth.rng(1)
a = synth.write(synth.many_metrics(rng, 200, 30, release="6.1.0-a"), os.path.join(tmp, "a.json"))
b = synth.write(synth.many_metrics(rng, 200, 30, shift=1.01, release="6.1.0-b"),
                os.path.join(tmp, "b.json"))
print(f"two reports, 200 metrics x 30 samples ({os.path.getsize(a) // 1024} KiB each)")
for fmt in ("text", "markdown", "json", "html"):
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        p = subprocess.run([binary, "compare", "--fail-on", "never", "-f", fmt, a, b],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        best = min(best, time.perf_counter() - t0)
        if p.returncode:
            sys.exit(f"compare -f {fmt}: exit {p.returncode}: {p.stderr}")
    note = "  (one gnuplot run for 200 plots)" if fmt == "html" else \
        ("  target < 1 s: " + ("ok" if best < 1 else "MISSED"))
    print(f"  {fmt:9s} {best:.3f} s{note}")
PY
