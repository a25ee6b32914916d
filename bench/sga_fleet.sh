#!/bin/bash
# The fleet at the claim's process count: spawn + attach + touch of 1500
# processes on a 1 GiB memfd SGA, run by mmrepro on this machine, printed as
# seconds and per-process figures, for three touches:
#   none  the fleet alone: fork, gate, attach (mmap), barrier, exit, reap
#   2M    one read per 2 MiB: every PTE table of the SGA is allocated (the
#         claim's page-table footprint, 2 MiB per process per GiB)
#   64K   one read per 64 KiB: every page mapped (fault-around maps 16 pages
#         per fault, so this is what touching every 4 KiB page costs)
# Target: spawn + attach + touch under 15 s.
# usage: bench/sga_fleet.sh [BUILD_DIR] [PROCS] [SGA_SIZE] [REPS]
set -euo pipefail
BUILD=${1:-build}
PROCS=${2:-1500}
SIZE=${3:-1G}
REPS=${4:-3}
TARGET_S=15
MMREPRO=$BUILD/mmrepro
export MMREPRO_LOCK_WAIT=${MMREPRO_LOCK_WAIT:-1800}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

printf '%d processes, %s memfd SGA, %d repetitions (medians), %d CPUs\n' "$PROCS" "$SIZE" "$REPS" "$(nproc)"
printf '%-6s %9s %14s %10s %12s %12s %10s %12s  %s\n' touch spawn_s attach+touch_s total_s \
	ms/process touch_ms_p50 teardown_s pagetables "target <${TARGET_S}s"
for touch in none 2M 64K; do
	if [ "$touch" = none ]; then args=(--set touch=none); else args=(--set "touch_stride=$touch"); fi
	"$MMREPRO" run sga_attach --set backing=memfd --set "procs=$PROCS" --set "sga_size=$SIZE" \
		--set "repetitions=$REPS" --set warmup=0 --set timeout=60m "${args[@]}" \
		-q -o "$tmp/$touch.json"
	python3 - "$tmp/$touch.json" "$touch" "$PROCS" "$TARGET_S" <<'PY'
import json, sys
path, touch, procs, target = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
c = json.load(open(path))["cases"][0]
if c["status"] != "ok":
    sys.exit(f"{touch}: {c['status']}: {c['reason']}")
m = {k: v["summary"]["median"] for k, v in c["metrics"].items()}
total = m["spawn_to_ready_ns"] / 1e9
print(f"{touch:6s} {m['spawn_ns']/1e9:9.2f} {m['ready_ns']/1e9:14.2f} {total:10.2f} "
      f"{total * 1e3 / procs:12.2f} {m['touch_ns_p50']/1e6:12.2f} {m['teardown_ns']/1e9:10.2f} "
      f"{m['pagetables_bytes']/2**30:9.2f} GiB  {'met' if total < target else 'missed'}")
PY
done
