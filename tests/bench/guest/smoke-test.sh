#!/usr/bin/env bash
# Boot a kernel once with the guest microbenchmarks at reduced counts under
# QEMU -icount and check that every benchmark ran and reported a positive
# time (bench-report.py check). No timing thresholds.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
pct=2
if [ "${1:-}" = --pct ]; then pct=$2; shift 2; fi
[ $# -eq 3 ] || { echo "usage: $(basename "$0") [--pct N] VMLINUX INITRAMFS LOG" >&2; exit 2; }
vmlinux=$1 initramfs=$2 log=$3
# tsc_early_khz: under -icount the guest TSC counts virtual nanoseconds.
bash "$ROOT/guest/linux/boot.sh" --timeout 600 --log "$log" -q -icount -q shift=1,sleep=off \
  -a "afterburn_script=/bench/run-bench.sh bench_pct=$pct tsc_early_khz=1000000 tsc=reliable norandmaps" \
  "$vmlinux" "$initramfs"
python3 "$HERE/bench-report.py" check "$log"
