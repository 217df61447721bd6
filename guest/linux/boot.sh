#!/usr/bin/env bash
# Boot the reference guest under QEMU (software emulation) and check that it
# reached userspace.
set -euo pipefail

PROG=$(basename "$0")
MARKER="AFTERBURN-INIT-OK"

usage() {
  cat <<EOF
Usage: $PROG [options] VMLINUX INITRAMFS

Boots VMLINUX (PVH entry) with INITRAMFS under
  qemu-system-x86_64 -accel tcg -cpu max -m 256 -display none -no-reboot
    -serial file:LOG -kernel VMLINUX -initrd INITRAMFS -append "console=ttyS0 ..."
inside 'timeout'. Prints the boot wall time. Exits 0 only if the guest printed
the marker line $MARKER, QEMU exited by itself (guest 'reboot -f')
before the timeout, and no workload reported a non-zero
'AFTERBURN-SCRIPT-END rc=N'. Otherwise prints the end of the log and fails.

Options:
  -t, --timeout SECS   wall-clock limit (default: 300)
  -l, --log FILE       serial log (default: <dir of VMLINUX>/boot.log)
  -a, --append ARGS    extra kernel command line, e.g.
                       'afterburn_cmd="cat /proc/cpuinfo"' or
                       'afterburn_script=/bench.sh' (see guest/linux/init)
  -m, --memory MB      guest memory (default: 256)
  -q, --qemu-arg ARG   extra QEMU argument (repeatable), e.g. -q -icount -q shift=1,sleep=off
  --qemu PATH          QEMU binary (default: qemu-system-x86_64)
  -h, --help           this help

Writes the wall time in seconds to LOG.seconds.
EOF
}

die() { echo "$PROG: error: $*" >&2; exit 1; }

timeout_s=300
log=""
append=""
mem=256
qemu="qemu-system-x86_64"
qemu_extra=()
pos=()
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "option $1 needs an argument (see -h)"; }
while [ $# -gt 0 ]; do
  case $1 in
    -t|--timeout)   need_arg "$@"; timeout_s=$2; shift 2 ;;
    -l|--log)       need_arg "$@"; log=$2; shift 2 ;;
    -a|--append)    need_arg "$@"; append=$2; shift 2 ;;
    -m|--memory)    need_arg "$@"; mem=$2; shift 2 ;;
    -q|--qemu-arg)  need_arg "$@"; qemu_extra+=("$2"); shift 2 ;;
    --qemu)         need_arg "$@"; qemu=$2; shift 2 ;;
    -h|--help)      usage; exit 0 ;;
    --)             shift; pos+=("$@"); break ;;
    -*)             die "unknown option '$1' (see -h)" ;;
    *)              pos+=("$1"); shift ;;
  esac
done
[ ${#pos[@]} -eq 2 ] || { usage >&2; die "need exactly VMLINUX and INITRAMFS"; }
vmlinux=${pos[0]}
initramfs=${pos[1]}
[ -f "$vmlinux" ] || die "vmlinux '$vmlinux' not found"
[ -f "$initramfs" ] || die "initramfs '$initramfs' not found (guest/linux/make-initramfs.sh builds it)"
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || die "--timeout needs a positive number of seconds"
[[ $mem =~ ^[1-9][0-9]*$ ]] || die "--memory needs a positive number of MB"
command -v "$qemu" >/dev/null 2>&1 || die "'$qemu' not found (install qemu-system-x86: scripts/setup-deps.sh)"
command -v timeout >/dev/null 2>&1 || die "'timeout' (coreutils) not found"
[ -n "$log" ] || log="$(dirname "$vmlinux")/boot.log"
mkdir -p "$(dirname "$log")"
: > "$log"

cmdline="console=ttyS0 panic=-1${append:+ $append}"
cmd=("$qemu" -accel tcg -cpu max -m "$mem" -display none -no-reboot
     -monitor none -serial "file:$log"
     -kernel "$vmlinux" -initrd "$initramfs" -append "$cmdline"
     "${qemu_extra[@]+"${qemu_extra[@]}"}")
echo "$PROG: ${cmd[*]}"

t0=$(date +%s.%N)
set +e
timeout -k 10 "$timeout_s" "${cmd[@]}" < /dev/null
rc=$?
set -e
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "$secs" > "$log.seconds"

fail() {
  echo "----- last 40 lines of $log -----" >&2
  tail -n 40 "$log" | tr -d '\r' >&2
  echo "-----" >&2
  die "$*"
}

# The marker, not counting the echo of the kernel command line.
marker_seen=0
if tr -d '\r' < "$log" | grep -a -v 'Kernel command line' | grep -a "^$MARKER\$" > /dev/null; then
  marker_seen=1
fi
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  fail "QEMU timed out after ${timeout_s} s (marker $( [ $marker_seen -eq 1 ] && echo seen || echo NOT seen ))"
fi
[ "$rc" -eq 0 ] || fail "QEMU exited with status $rc after $secs s"
[ "$marker_seen" -eq 1 ] || fail "no '$MARKER' line in $log: the guest did not reach its /init ($secs s)"
if bad=$(tr -d '\r' < "$log" | grep -a -E '^AFTERBURN-SCRIPT-END rc=[1-9]'); then
  fail "guest workload failed: $bad"
fi
echo "$PROG: guest reached userspace ($MARKER) and rebooted; boot wall time $secs s (log: $log)"
