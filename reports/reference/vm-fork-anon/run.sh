#!/bin/sh
# Re-make this directory's reports: fork_anon (config.json) in a Debian 6.1
# and a Debian 6.12 cloud kernel, each booted under qemu by `mmrepro vm`, then
# the two compared. Run from anywhere, as root (the guests prove layouts with
# /proc/kpageflags; the host needs only qemu-system-x86 and busybox-static):
#
#   reports/reference/vm-fork-anon/run.sh [extra `mmrepro vm` options, e.g. --accel tcg]
#
# MMREPRO names the binary (default: build/mmrepro of this checkout).
# Upstream merged the batched PTE copy for fork() of PTE-mapped large folios
# in 6.9 (CLAIMS C1): 6.1 has it not, 6.12 has it. Under TCG the guest's
# timings are not hardware timings: read each large-folio case against the 4k
# case of the same kernel, and the two kernels' ratios against each other.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
mmrepro=${MMREPRO:-$top/build/mmrepro}
export MMREPRO_LOCK_WAIT=${MMREPRO_LOCK_WAIT:-1800}

for series in 6.1 6.12; do
	"$mmrepro" vm --debian "$series" --cpus 2 --mem 4G "$@" -- \
		run "$here/config.json" -o "$here/fork-anon-$series.json"
done

if "$mmrepro" compare --help >/dev/null 2>&1; then
	"$mmrepro" compare "$here/fork-anon-6.1.json" "$here/fork-anon-6.12.json" |
		tee "$here/compare.txt"
else
	echo "run.sh: this mmrepro has no compare command yet; the two reports are in $here" >&2
fi
