#!/bin/bash
# Does mmrepro add anything to what it measures? Runs the stand-alone
# reference fork timer (bench/fork_ref.c) and `mmrepro run fork_anon` side by
# side, interleaved in rounds, on the same CPU, and prints the ratio of the
# medians of fork_ns for 1 GiB thp-pte and 4k. Target: 0.97..1.03.
# usage: bench/fork_ratio.sh [BUILD_DIR] [ROUNDS] [REPS_PER_ROUND]
set -euo pipefail
BUILD=${1:-build}
ROUNDS=${2:-5}
REPS=${3:-6}
SIZE_MIB=${SIZE_MIB:-1024}
MMREPRO=$BUILD/mmrepro
REF=$BUILD/fork_ref
CPU=$(( $(nproc) - 1 ))   # mmrepro pins a case's main thread to the last allowed CPU
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for backing in thp-pte 4k; do
	: > "$tmp/ref.$backing"
	: > "$tmp/mmr.$backing"
	for r in $(seq "$ROUNDS"); do
		taskset -c "$CPU" "$REF" "$SIZE_MIB" "$backing" "$REPS" >> "$tmp/ref.$backing"
		"$MMREPRO" run fork_anon --set "size=${SIZE_MIB}M" --set "backing=$backing" \
			--set cow=none --set "repetitions=$REPS" --set warmup=0 -q -o "$tmp/r.json"
		python3 -c "import json,sys; [print(int(v)) for v in json.load(open(sys.argv[1]))['cases'][0]['metrics']['fork_ns']['samples']]" \
			"$tmp/r.json" >> "$tmp/mmr.$backing"
	done
	python3 - "$backing" "$tmp/ref.$backing" "$tmp/mmr.$backing" <<'PY'
import statistics, sys
b, ref, mmr = sys.argv[1], [int(x) for x in open(sys.argv[2])], [int(x) for x in open(sys.argv[3])]
r, m = statistics.median(ref), statistics.median(mmr)
print(f"{b:8s} fork_ns median: reference {r/1e6:8.3f} ms (n={len(ref)})  mmrepro {m/1e6:8.3f} ms (n={len(mmr)})  ratio mmrepro/reference {m/r:.3f}")
PY
done
