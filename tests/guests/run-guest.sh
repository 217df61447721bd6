#!/usr/bin/env bash
# Boot one test guest and turn its last console line into an exit status.
set -uo pipefail

PROG=$(basename "$0")
SKIP_STATUS=77

usage() {
  cat <<EOF2
Usage: $PROG [options] GUEST.elf
       $PROG [--platform P] --parse-log LOG

Boots GUEST.elf and maps the LAST line of its console log to an exit status
(on xen the last line that is neither Xen's "(XEN) ..." nor the VAM's "VAM..."):
  "Test result: SUCCESS"           -> 0
  "Test result: SKIP"              -> $SKIP_STATUS (ctest SKIP_RETURN_CODE)
  "Test result: ERROR" / "FAILURE" -> 1
  anything else (no result line)   -> 1, reported as a crash
On anything but SUCCESS the end of the log is printed.

Options:
  -p, --platform P    native (default): qemu-system-x86_64 -accel tcg -cpu max -m 128
                        -display none -no-reboot -serial file:LOG
                        -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel GUEST.elf
                      xen: qemu-system-x86_64 -accel tcg -cpu max,-smap,-smep -m 512
                        boots Xen 4.17 (/boot/xen-4.17-amd64.gz, options "console=com1
                        com1=115200,8n1 dom0_mem=128M console_timestamps=boot noreboot")
                        with the VAM as dom0 and GUEST.elf as its module; QEMU is
                        stopped once Xen reports the end of dom0 (tests/xen/xen-qemu.sh)
  --vam VAM.elf       xen: the dom0 image (default: \$VAM_XEN)
  --vam-args ARGS     xen: the VAM's command line; --append text follows it
  --xen-args ARGS     xen: more Xen command line options
  --parse-log LOG     boot nothing: judge an existing console log as after a boot
                      (for the harness's own tests)
  -t, --timeout SECS  wall-clock limit for the boot (default: 60)
  -l, --log FILE      console log (default: GUEST.elf.<platform>.log)
  -a, --append ARGS   guest command line (PVH cmdline; printed by the guest);
                      xen: appended to the VAM's command line
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
vam=${VAM_XEN:-}
vam_args=""
xen_args=""
parse_log=""
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
    --vam)         need_arg "$@"; vam=$2; shift 2 ;;
    --vam-args)    [ $# -ge 2 ] || die "option $1 needs an argument"; vam_args=$2; shift 2 ;;
    --xen-args)    [ $# -ge 2 ] || die "option $1 needs an argument"; xen_args=$2; shift 2 ;;
    --parse-log)   need_arg "$@"; parse_log=$2; shift 2 ;;
    -h|--help)     usage; exit 0 ;;
    --)            shift; pos+=("$@"); break ;;
    -*)            die "unknown option '$1' (see -h)" ;;
    *)             pos+=("$1"); shift ;;
  esac
done
case $platform in native|xen) ;; *) die "unknown platform '$platform' (native, xen)" ;; esac
XQ_PROG=$PROG
XQ_QEMU=$qemu
# shellcheck source-path=SCRIPTDIR source=../xen/xen-qemu.sh
. "$(dirname "${BASH_SOURCE[0]}")/../xen/xen-qemu.sh"

show_log() {
  echo "----- last 30 lines of $log -----"
  tail -n 30 "$log" | tr -d '\r'
  echo "-----"
}

# The last non-empty console line of the guest decides.  On xen the log also
# holds Xen's lines ("(XEN) ...") and the VAM's ("VAM: ..."), all ending in
# CR LF (the guest's own CR before Xen's CR LF gives CR CR LF).
decisive_line() {
  if [ "$platform" = xen ]; then
    tr -d '\r' < "$1" | awk 'NF && !/^\(XEN\)/ && !/^VAM/ { line = $0 } END { print line }'
  else
    tr -d '\r' < "$1" | awk 'NF { line = $0 } END { print line }'
  fi
}

# How the boot ended on xen, from XQ_* (tests/xen/xen-qemu.sh).
xen_how() {
  local text=${XQ_ENDLINE#*"(XEN) "} uptime=""
  if [[ $text =~ ^\[\ *([0-9]+\.[0-9]+)\]\ (.*)$ ]]; then
    uptime=${BASH_REMATCH[1]} text=${BASH_REMATCH[2]}
  fi
  case ${XQ_END:-} in
    timeout)
      if [ -n "$XQ_REASON" ]; then
        echo "timed out after ${timeout_s} s, after Xen: $XQ_REASON, \"$text\""
      else
        echo "timed out after ${timeout_s} s"
      fi
      return ;;
  esac
  if [ -n "$XQ_REASON" ]; then
    echo "Xen: $XQ_REASON, \"$text\"${uptime:+ at Xen uptime $uptime s}"
  elif [ -n "${XQ_RC:-}" ]; then
    echo "QEMU exited with status $XQ_RC without Xen's shutdown line"
  else
    echo "no Xen shutdown line"
  fi
}

# report NAME SECS HOW: map the decisive line of $log to the exit status.
report() {
  local name=$1 secs=$2 how=$3 last
  last=$(decisive_line "$log")
  case $last in
    "Test result: SUCCESS")
      echo "$PROG: $name: SUCCESS ($secs$how)"
      exit 0 ;;
    "Test result: SKIP")
      show_log
      echo "$PROG: $name: SKIP ($secs$how)"
      exit $SKIP_STATUS ;;
    "Test result: ERROR"|"Test result: FAILURE")
      show_log
      echo "$PROG: $name: ${last#Test result: } ($secs$how)"
      exit 1 ;;
    *)
      show_log
      echo "$PROG: $name: CRASH: no result line at the end of the log ($secs$how)"
      exit 1 ;;
  esac
}

if [ -n "$parse_log" ]; then
  [ ${#pos[@]} -eq 0 ] || die "--parse-log takes no guest ELF"
  [ -f "$parse_log" ] || die "log '$parse_log' not found"
  log=$parse_log
  how="parsed"
  if [ "$platform" = xen ]; then
    XQ_ENDLINE=$(xq_ending "$log")
    XQ_REASON=$(xq_reason "$XQ_ENDLINE")
    how="$how; $(xen_how)"
  fi
  report "$(basename "$log")" "" "$how"
fi

[ ${#pos[@]} -eq 1 ] || { usage >&2; die "need exactly one guest ELF"; }
guest=${pos[0]}
[ -f "$guest" ] || die "guest '$guest' not found"
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout needs a positive number of seconds"
[ -n "$log" ] || log="$guest.$platform.log"
command -v "$qemu" >/dev/null 2>&1 || die "'$qemu' not found (install qemu-system-x86)"
mkdir -p "$(dirname "$log")"

if [ "$platform" = xen ]; then
  [ -n "$vam" ] || die "--platform xen needs the VAM: --vam VAM.elf or VAM_XEN=VAM.elf (the build's bin/vam-xen.elf)"
  [ -f "$vam" ] || die "VAM '$vam' not found"
  xq_xen_image "$(dirname "$log")" || exit 1
  dom0_cmdline="$vam_args${vam_args:+${append:+ }}$append"
  initrd=$(xq_module "$vam" "$dom0_cmdline") || exit 1
  module=$(xq_module "$guest") || exit 1
  # A dom0 crash or a Xen panic must halt (and be caught by the watcher),
  # not reset after 5 s.  A dom0 reboot still resets, which ends QEMU.
  XQ_MARK_RE='^Test result: '
  xq_command "$log" "noreboot${xen_args:+ $xen_args}" "$initrd,$module" \
    "${qemu_extra[@]+"${qemu_extra[@]}"}"
  echo "$PROG: ${XQ_CMD[*]}"
  xq_boot "$log" "$timeout_s"
  how=", $(xen_how)"
  [ -z "$XQ_MARK_SECS" ] || how=", result line after $XQ_MARK_SECS s$how"
  report "$(basename "$guest")" "$XQ_SECS s" "$how"
fi

command -v timeout >/dev/null 2>&1 || die "'timeout' (coreutils) not found"
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

echo "$PROG: ${cmd[*]}"
t0=$(date +%s.%N)
timeout -k 5 "$timeout_s" "${cmd[@]}" < /dev/null
rc=$?
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')

how="QEMU exit status $rc"
case $rc in
  124|137) how="timed out after ${timeout_s} s" ;;
  1) how="exit via isa-debug-exit: SUCCESS" ;;
  3) how="exit via isa-debug-exit: SKIP" ;;
  5) how="exit via isa-debug-exit: ERROR" ;;
  7) how="exit via isa-debug-exit: FAILURE" ;;
  9) how="exit via isa-debug-exit: PANIC" ;;
esac
report "$(basename "$guest")" "$secs s" ", $how"
