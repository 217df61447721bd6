#!/usr/bin/env bash
# Boot one test guest and turn its last console line into an exit status.
set -uo pipefail

PROG=$(basename "$0")
SKIP_STATUS=77

usage() {
  cat <<EOF2
Usage: $PROG [options] GUEST.elf

Boots GUEST.elf and maps the LAST line of its console log to an exit status:
  "Test result: SUCCESS"           -> 0
  "Test result: SKIP"              -> $SKIP_STATUS (ctest SKIP_RETURN_CODE)
  "Test result: ERROR" / "FAILURE" -> 1
  anything else (no result line)   -> 1, reported as a crash
On anything but SUCCESS the end of the log is printed.

Options:
  -p, --platform P    native (default): qemu-system-x86_64 -accel tcg -cpu max -m 128
                        -display none -no-reboot -serial file:LOG
                        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel GUEST.elf
                      xen: the guest under the VAM on Xen (not implemented yet)
  -t, --timeout SECS  wall-clock limit for the boot (default: 60)
  -l, --log FILE      console log (default: GUEST.elf.<platform>.log)
  -a, --append ARGS   guest command line (PVH cmdline; printed by the guest)
  -q, --qemu-arg ARG  extra QEMU argument (repeatable), e.g. -q -icount -q shift=1
  --qemu PATH         QEMU binary (default: qemu-system-x86_64)
  -h, --help          this help
EOF2
}

die() { echo "$PROG: error: $*" >&2; exit 1; }

platform=native
timeout_s=60
log=""
append=""
qemu=qemu-system-x86_64
qemu_extra=()
pos=()
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "option $1 needs an argument (see -h)"; }
while [ $# -gt 0 ]; do
  case $1 in
    -p|--platform) need_arg "$@"; platform=$2; shift 2 ;;
    -t|--timeout)  need_arg "$@"; timeout_s=$2; shift 2 ;;
    -l|--log)      need_arg "$@"; log=$2; shift 2 ;;
    -a|--append)   need_arg "$@"; append=$2; shift 2 ;;
    -q|--qemu-arg) need_arg "$@"; qemu_extra+=("$2"); shift 2 ;;
    --qemu)        need_arg "$@"; qemu=$2; shift 2 ;;
    -h|--help)     usage; exit 0 ;;
    --)            shift; pos+=("$@"); break ;;
    -*)            die "unknown option '$1' (see -h)" ;;
    *)             pos+=("$1"); shift ;;
  esac
done
[ ${#pos[@]} -eq 1 ] || { usage >&2; die "need exactly one guest ELF"; }
guest=${pos[0]}
[ -f "$guest" ] || die "guest '$guest' not found"
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout needs a positive number of seconds"
command -v timeout >/dev/null 2>&1 || die "'timeout' (coreutils) not found"
[ -n "$log" ] || log="$guest.$platform.log"

case $platform in
  native)
    command -v "$qemu" >/dev/null 2>&1 || die "'$qemu' not found (install qemu-system-x86)"
    mkdir -p "$(dirname "$log")"
    : > "$log"
    # isa-debug-exit: the guest writes its result code to port 0xf4 and QEMU
    # exits with status code*2+1.  Without the device the guest falls back to
    # a triple fault, which -no-reboot turns into an exit with status 0.
    cmd=("$qemu" -accel tcg -cpu max -m 128 -display none -no-reboot
         -nodefaults -monitor none -serial "file:$log"
         -device isa-debug-exit,iobase=0xf4,iosize=0x04
         -kernel "$guest")
    [ -n "$append" ] && cmd+=(-append "$append")
    cmd+=("${qemu_extra[@]+"${qemu_extra[@]}"}")
    ;;
  xen)
    # Later: Xen (see shared/notes/verified-facts.md for the QEMU command
    # line) with the VAM as dom0 and this ELF as its guest module; the VAM
    # enters the guest at e_entry (framework/include/guest/boot.h) and the
    # console lines come out on Xen's serial console.
    echo "$PROG: platform 'xen' is not implemented yet" >&2
    exit $SKIP_STATUS
    ;;
  *) die "unknown platform '$platform' (native, xen)" ;;
esac

echo "$PROG: ${cmd[*]}"
t0=$(date +%s.%N)
timeout -k 5 "$timeout_s" "${cmd[@]}" < /dev/null
rc=$?
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')

show_log() {
  echo "----- last 30 lines of $log -----"
  tail -n 30 "$log" | tr -d '\r'
  echo "-----"
}

# The last non-empty console line decides.
last=$(tr -d '\r' < "$log" | awk 'NF { line = $0 } END { print line }')
how="QEMU exit status $rc"
case $rc in
  124|137) how="timed out after ${timeout_s} s" ;;
  1) how="exit via isa-debug-exit: SUCCESS" ;;
  3) how="exit via isa-debug-exit: SKIP" ;;
  5) how="exit via isa-debug-exit: ERROR" ;;
  7) how="exit via isa-debug-exit: FAILURE" ;;
  9) how="exit via isa-debug-exit: PANIC" ;;
esac

case $last in
  "Test result: SUCCESS")
    echo "$PROG: $(basename "$guest"): SUCCESS ($secs s, $how)"
    exit 0 ;;
  "Test result: SKIP")
    show_log
    echo "$PROG: $(basename "$guest"): SKIP ($secs s, $how)"
    exit $SKIP_STATUS ;;
  "Test result: ERROR"|"Test result: FAILURE")
    show_log
    echo "$PROG: $(basename "$guest"): ${last#Test result: } ($secs s, $how)"
    exit 1 ;;
  *)
    show_log
    echo "$PROG: $(basename "$guest"): CRASH: no result line at the end of the log ($secs s, $how)"
    exit 1 ;;
esac
