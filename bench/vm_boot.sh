#!/bin/bash
# Boot-to-report overhead of `mmrepro vm` under TCG: a trivial config (the
# selftest workload, one repetition) in each Debian kernel, several boots,
# and for each boot the wall time from `mmrepro vm` starting to the report
# being on disk, split into qemu start to /init, the guest's run, and the
# rest (power-off, channel, report). Target: under 20 s per boot.
# usage: bench/vm_boot.sh [BUILD_DIR] [BOOTS] [SERIES...]   (default: build 3 6.1 6.12)
set -euo pipefail
BUILD=${1:-build}
BOOTS=${2:-3}
shift $(( $# > 2 ? 2 : $# ))
SERIES=("$@")
[ ${#SERIES[@]} -gt 0 ] || SERIES=(6.1 6.12)
MMREPRO=$BUILD/mmrepro
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export MMREPRO_LOCK_WAIT=${MMREPRO_LOCK_WAIT:-1800}

for s in "${SERIES[@]}"; do
	"$MMREPRO" vm --debian "$s" --fetch-only >/dev/null # the download is not the boot
	for b in $(seq "$BOOTS"); do
		t0=$(date +%s.%N)
		"$MMREPRO" vm --debian "$s" --accel tcg --mem 2G -q -o "$tmp/$s-$b.json" -- \
			run selftest --set repetitions=1 --set warmup=0 -q >/dev/null
		t1=$(date +%s.%N)
		echo "$s $b $t0 $t1 $tmp/$s-$b.json"
	done
done >"$tmp/runs"

python3 - "$tmp/runs" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    s, b, t0, t1, path = line.split()
    r = json.load(open(path))
    vm = r["vm"]
    rows.setdefault(s, []).append((float(t1) - float(t0), vm["boot_to_init_s"],
                                   vm["guest_uptime_at_init_s"], r["duration_s"]))
print(f"{'kernel':<8} {'boots':>5} {'total s':>8} {'to /init':>9} {'guest uptime':>13} {'run s':>6} {'rest s':>7}")
worst = 0
for s, v in rows.items():
    med = [statistics.median(x[i] for x in v) for i in range(4)]
    worst = max(worst, max(x[0] for x in v))
    print(f"{s:<8} {len(v):>5} {med[0]:>8.1f} {med[1]:>9.1f} {med[2]:>13.1f} {med[3]:>6.1f} "
          f"{med[0] - med[1] - med[3]:>7.1f}")
print(f"slowest boot-to-report: {worst:.1f} s (target < 20 s): {'ok' if worst < 20 else 'OVER'}")
PY
