#!/usr/bin/env bash
# Boots Xen 4.17 (Debian's xen-hypervisor-4.17-amd64) under QEMU with a dom0
# image and optional further modules, and checks the serial log.
#
# usage: run-xen.sh [--timeout S] [--log FILE] [--expect REGEX]... [--append ARGS]
#                   [--shutdown reboot|poweroff|crash] DOM0_ELF [DOM0_ARGS] [-- MODULE...]
# Passes when every --expect regex matches a line of the log and QEMU exits by
# itself (the dom0 shuts down with reason reboot; QEMU runs with -no-reboot),
# or, with --shutdown poweroff|crash, when Xen reports that shutdown reason
# (Xen gets `noreboot` so that a crash halts at once); a poweroff is also a
# dom0's ACPI S5 entry, after which QEMU exits.
# When Xen halts instead (dom0 poweroff, or a crash or panic with `noreboot`)
# QEMU is stopped shortly after Xen's last line and the run fails; so does a
# crash or panic without `noreboot` (Xen would reset 5 s later).  The Xen and
# QEMU part is shared with tests/guests/run-guest.sh: xen-qemu.sh.
set -euo pipefail
timeout=120 log="" append="" expects=() want=reboot
while [ $# -gt 0 ]; do
  case $1 in
    --timeout) timeout=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --expect) expects+=("$2"); shift 2 ;;
    --append) append=$2; shift 2 ;;
    --shutdown) want=$2; shift 2 ;;
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
case $want in
  reboot) ;;
  poweroff|crash) append="$append noreboot" ;;
  *) echo "run-xen: --shutdown takes reboot, poweroff or crash, not '$want'" >&2; exit 2 ;;
esac

XQ_PROG=run-xen
# shellcheck source-path=SCRIPTDIR source=xen-qemu.sh
. "$(dirname "${BASH_SOURCE[0]}")/xen-qemu.sh"
xq_xen_image "$(dirname "$dom0")" || exit 1
[ -n "$log" ] || log=$(dirname "$dom0")/xen-boot.log

initrd=$(xq_module "$dom0" "$dom0_args") || exit 2
for m in "${modules[@]}"; do
  entry=$(xq_module "$m") || exit 2
  initrd="$initrd,$entry"
done

xq_command "$log" "$append" "$initrd"
xq_boot "$log" "$timeout"
secs=$XQ_SECS
fail=0
case $XQ_END in
  timeout) echo "run-xen: timed out after ${timeout}s"; fail=1 ;;
  stopped)
    if [ "$want" = reboot ] || [ "$XQ_REASON" != "$want" ]; then
      echo "run-xen: expected a $want, Xen said '${XQ_ENDLINE#"(XEN) "}' ($XQ_REASON), QEMU stopped"
      fail=1
    fi ;;
  *) if [ "$XQ_RC" -ne 0 ]; then echo "run-xen: QEMU exited with status $XQ_RC"; fail=1
     elif [ "$XQ_REASON" = poweroff ]; then
       # ACPI S5: the dom0 powered the machine off (xen-qemu.sh)
       [ "$want" = poweroff ] || { echo "run-xen: expected a $want, the dom0 powered off through ACPI S5"; fail=1; }
     elif [ "$want" != reboot ]; then echo "run-xen: expected a $want, QEMU exited (reboot)"; fail=1; fi ;;
esac
for re in "${expects[@]}"; do
  grep -Eq -- "$re" "$log" || { echo "run-xen: no line matching: $re"; fail=1; }
done
if [ $fail -ne 0 ]; then
  echo "----- last 30 lines of $log -----"; tail -n 30 "$log"; exit 1
fi
echo "run-xen: passed in $secs s (log: $log)"
