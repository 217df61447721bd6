#!/usr/bin/env bash
# The sustained-load run of the reference guest under the VAM on Xen:
# guest/linux/load.sh for SECONDS (default 600) in the afterburnt vmlinux,
# then a clean power-off.  Passes when the guest reports every worker's
# progress and still answers, and the VAM reported no error.
#
# usage: scripts/linux-load.sh [SECONDS] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-600}
build=${2:-${BUILD_DIR:-$root/build}}
work=$build/linux
for f in "$build/bin/vam-xen.elf" "$build/bin/vam-pack" "$work/afterburnt/vmlinux" "$work/initramfs.cpio"; do
  [ -f "$f" ] || { echo "linux-load: $f missing: build first (scripts/demo.sh or ctest -L slow)" >&2; exit 1; }
done
pack=$work/afterburnt/load-$secs.pack
"$build/bin/vam-pack" -o "$pack" --kernel "$work/afterburnt/vmlinux" --initrd "$work/initramfs.cpio" \
  --cmdline "console=ttyS0 panic=-1 afterburn_script=/load.sh afterburn_load_seconds=$secs afterburn_end=poweroff"
log=$work/afterburnt/load-$secs.xen.log
echo "linux-load: $secs s of load under the VAM on Xen (log: $log)"
bash "$root/tests/xen/run-xen.sh" --timeout $((secs * 2 + 300)) --shutdown poweroff --log "$log" \
  --expect "^load: responsive after [0-9]+ s" --expect "AFTERBURN-SCRIPT-END rc=0" \
  "$build/bin/vam-xen.elf" "linux load" -- "$pack"
tr -d '\r' < "$log" | grep -E "^(load:|VAM: entries|VAM: error)"
