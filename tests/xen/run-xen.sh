#!/usr/bin/env bash
# Boots Xen 4.17 (Debian's xen-hypervisor-4.17-amd64) under QEMU with a dom0
# image and optional further modules, and checks the serial log.
#
# usage: run-xen.sh [--timeout S] [--log FILE] [--expect REGEX]... [--append ARGS]
#                   DOM0_ELF [DOM0_ARGS] [-- MODULE...]
# Passes when every --expect regex matches a line of the log and QEMU exits by
# itself (the dom0 shuts down with reason reboot; QEMU runs with -no-reboot).
set -euo pipefail
timeout=120 log="" append="" expects=()
while [ $# -gt 0 ]; do
  case $1 in
    --timeout) timeout=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --expect) expects+=("$2"); shift 2 ;;
    --append) append=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: run-xen.sh [options] DOM0_ELF [DOM0_ARGS] [-- MODULE...]" >&2; exit 2; }
dom0=$1; shift
dom0_args=""
if [ $# -gt 0 ] && [ "$1" != "--" ]; then dom0_args=$1; shift; fi
[ "${1:-}" != "--" ] || shift
modules=("$@")
[ -f "$dom0" ] || { echo "run-xen: no dom0 image $dom0" >&2; exit 1; }

gz=/boot/xen-4.17-amd64.gz
[ -f "$gz" ] || { echo "run-xen: $gz missing: install xen-hypervisor-4.17-amd64 (scripts/setup-deps.sh)" >&2; exit 1; }
work=$(dirname "$dom0")
xen=$work/xen-4.17-amd64
# QEMU's multiboot loader takes only the uncompressed image (verified-facts.md)
[ "$xen" -nt "$gz" ] || zcat "$gz" > "$xen"
[ -n "$log" ] || log=$work/xen-boot.log

initrd="$dom0${dom0_args:+ $dom0_args}"
for m in "${modules[@]}"; do
  case $m in *,*) echo "run-xen: module path must not contain a comma: $m" >&2; exit 2 ;; esac
  initrd="$initrd,$m"
done

rm -f "$log"
t0=$(date +%s.%N)
set +e
timeout "$timeout" qemu-system-x86_64 -accel tcg -cpu max,-smap,-smep -m 512 -display none \
  -no-reboot -monitor none -serial "file:$log" -kernel "$xen" \
  -append "console=com1 com1=115200,8n1 dom0_mem=128M console_timestamps=boot $append" \
  -initrd "$initrd"
rc=$?
set -e
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
fail=0
if [ $rc -eq 124 ]; then echo "run-xen: timed out after ${timeout}s"; fail=1
elif [ $rc -ne 0 ]; then echo "run-xen: QEMU exited with status $rc"; fail=1; fi
for re in "${expects[@]}"; do
  grep -Eq -- "$re" "$log" || { echo "run-xen: no line matching: $re"; fail=1; }
done
if [ $fail -ne 0 ]; then
  echo "----- last 30 lines of $log -----"; tail -n 30 "$log"; exit 1
fi
echo "run-xen: passed in $secs s (log: $log)"
