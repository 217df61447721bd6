#!/usr/bin/env bash
# Boot a kernel once with the guest microbenchmarks at reduced counts under
# QEMU -icount and check that every benchmark ran and reported a positive
# time (bench-report.py check). No timing thresholds.
#   --xen VAM_XEN PACK_TOOL  boot it under the VAM on Xen instead (vam-xen.elf,
#                            vam-pack; tests/xen/run-xen.sh), and require the
#                            VAM's counters in the log too
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
pct=2 vam_xen="" vam_pack=""
while [ $# -gt 0 ]; do
  case $1 in
    --pct) pct=$2; shift 2 ;;
    --xen) vam_xen=$2 vam_pack=$3; shift 3 ;;
    *) break ;;
  esac
done
[ $# -eq 3 ] || { echo "usage: $(basename "$0") [--pct N] [--xen VAM_XEN VAM_PACK] VMLINUX INITRAMFS LOG" >&2; exit 2; }
vmlinux=$1 initramfs=$2 log=$3
# tsc_early_khz: under -icount the guest TSC counts virtual nanoseconds.
params="afterburn_script=/bench/run-bench.sh bench_pct=$pct tsc_early_khz=1000000 tsc=reliable norandmaps"
if [ -z "$vam_xen" ]; then
  bash "$ROOT/guest/linux/boot.sh" --timeout 600 --log "$log" -q -icount -q shift=1,sleep=off \
    -a "$params" "$vmlinux" "$initramfs"
  exec python3 "$HERE/bench-report.py" check "$log"
fi
"$vam_pack" -o "$log.pack" --kernel "$vmlinux" --initrd "$initramfs" \
  --cmdline "console=ttyS0 panic=-1 $params afterburn_end=poweroff"
XQ_QEMU_ARGS="-icount shift=1,sleep=off" bash "$ROOT/tests/xen/run-xen.sh" --timeout 600 \
  --shutdown poweroff --log "$log" "$vam_xen" "bench smoke" -- "$log.pack"
exec python3 "$HERE/bench-report.py" check --vam "$log"
