#!/usr/bin/env bash
# Boot a kernel once with the guest microbenchmarks at reduced counts under
# QEMU -icount and check that every benchmark ran and reported a positive
# time (bench-report.py check). No timing thresholds.
#   --xen VAM_XEN PACK_TOOL  boot it under the VAM on Xen instead (vam-xen.elf,
#                            vam-pack; tests/xen/run-xen.sh), and require the
#                            VAM's counters in the log too
#   --paravirt               VMLINUX is the para-virtualized kernel: boot it as
#                            Xen's dom0 (console=hvc0; it powers off via ACPI)
#   --kbuild                 INITRAMFS is a kernel-build image
#                            (make-kbuild-initramfs.sh): run run-kbuild.sh
#                            instead, with the memory bench-guest.sh gives it,
#                            and require its one result, kbuild
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
pct=2 vam_xen="" vam_pack="" paravirt=0 kbuild=0
while [ $# -gt 0 ]; do
  case $1 in
    --pct) pct=$2; shift 2 ;;
    --xen) vam_xen=$2 vam_pack=$3; shift 3 ;;
    --paravirt) paravirt=1; shift ;;
    --kbuild) kbuild=1; shift ;;
    *) break ;;
  esac
done
[ $# -eq 3 ] || { echo "usage: $(basename "$0") [--pct N] [--xen VAM_XEN VAM_PACK | --paravirt] [--kbuild] VMLINUX INITRAMFS LOG" >&2; exit 2; }
vmlinux=$1 initramfs=$2 log=$3
# tsc_early_khz: under -icount the guest TSC counts virtual nanoseconds.
if [ $kbuild -eq 1 ]; then
  params="afterburn_script=/bench/run-kbuild.sh tsc_early_khz=1000000 tsc=reliable norandmaps"
  check=(--names kbuild) mem=(-m 512) xq_mem="-m 1024" xen_mem=(--append dom0_mem=512M)
else
  params="afterburn_script=/bench/run-bench.sh bench_pct=$pct tsc_early_khz=1000000 tsc=reliable norandmaps"
  check=() mem=() xq_mem="" xen_mem=()
fi
if [ $paravirt -eq 1 ]; then
  XQ_QEMU_ARGS="-icount shift=1,sleep=off${xq_mem:+ $xq_mem}" bash "$ROOT/tests/xen/run-xen.sh" \
    --timeout 600 --shutdown poweroff "${xen_mem[@]}" --log "$log" \
    "$vmlinux" "console=hvc0 panic=-1 $params afterburn_end=poweroff" -- "$initramfs"
  exec python3 "$HERE/bench-report.py" check "${check[@]}" "$log"
fi
if [ -z "$vam_xen" ]; then
  bash "$ROOT/guest/linux/boot.sh" --timeout 600 --log "$log" -q -icount -q shift=1,sleep=off \
    "${mem[@]}" -a "$params" "$vmlinux" "$initramfs"
  exec python3 "$HERE/bench-report.py" check "${check[@]}" "$log"
fi
"$vam_pack" -o "$log.pack" --kernel "$vmlinux" --initrd "$initramfs" \
  --cmdline "console=ttyS0 panic=-1 $params afterburn_end=poweroff"
XQ_QEMU_ARGS="-icount shift=1,sleep=off${xq_mem:+ $xq_mem}" bash "$ROOT/tests/xen/run-xen.sh" \
  --timeout 600 --shutdown poweroff "${xen_mem[@]}" --log "$log" "$vam_xen" "bench smoke" -- "$log.pack"
rc=0
python3 "$HERE/bench-report.py" check --vam "${check[@]}" "$log" || rc=$?
rm -f "$log.pack"
exit $rc
