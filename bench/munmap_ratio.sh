#!/bin/bash
# Does mmrepro add anything to what it measures? Runs the stand-alone
# reference munmap timer (bench/munmap_ref.c: populate PMD-mapped THP, start
# spinning threads on the other CPUs, time munmap) and `mmrepro run
# munmap_threads` side by side, interleaved in rounds, with the timing thread
# on the same CPU, and prints the ratio of the medians of the munmap time for
# 0 threads and for one thread per other CPU. Target: 0.97..1.03.
# usage: bench/munmap_ratio.sh [BUILD_DIR] [ROUNDS] [REPS_PER_ROUND]
set -euo pipefail
BUILD=${1:-build}
# Many short rounds: munmap of 1 GiB of THP here runs in one of two regimes
# (~2.35 or ~2.95 ms) that hold for a process's whole run and flip between
# runs; 5 rounds of 6 let one side catch more of the slow regime (ratios
# 0.92..1.04), 24 rounds of 2 sample both sides alike (0.97..1.00).
ROUNDS=${2:-24}
REPS=${3:-2}
SIZE_MIB=${SIZE_MIB:-1024}
MMREPRO=$BUILD/mmrepro
REF=$BUILD/munmap_ref
CPU=$(( $(nproc) - 1 ))   # mmrepro pins a case's main thread to the last allowed CPU
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for threads in 0 $(( $(nproc) > 1 ? $(nproc) - 1 : 1 )); do
	: > "$tmp/ref.$threads"
	: > "$tmp/mmr.$threads"
	for r in $(seq "$ROUNDS"); do
		taskset -c "$CPU" "$REF" "$SIZE_MIB" "$threads" "$REPS" >> "$tmp/ref.$threads"
		"$MMREPRO" run munmap_threads --set "size=${SIZE_MIB}M" --set backing=thp-pmd \
			--set op=munmap --set mode=spin --set "threads=$threads" \
			--set "repetitions=$REPS" --set warmup=0 -q -o "$tmp/r.json"
		python3 -c "import json,sys; [print(int(v)) for v in json.load(open(sys.argv[1]))['cases'][0]['metrics']['op_ns']['samples']]" \
			"$tmp/r.json" >> "$tmp/mmr.$threads"
	done
	python3 - "$threads" "$tmp/ref.$threads" "$tmp/mmr.$threads" <<'PY'
import statistics, sys
t, ref, mmr = sys.argv[1], [int(x) for x in open(sys.argv[2])], [int(x) for x in open(sys.argv[3])]
r, m = statistics.median(ref), statistics.median(mmr)
print(f"threads={t:3s} munmap median: reference {r/1e6:8.3f} ms (n={len(ref)})  mmrepro {m/1e6:8.3f} ms (n={len(mmr)})  ratio mmrepro/reference {m/r:.3f}")
PY
done
