#!/usr/bin/env bash
# Network test of the reference guest: boots it with guest/linux/net.sh
# behind QEMU's user-mode network (a legacy virtio-net NIC; the host's
# 127.0.0.1:PORT forwarded to the guest's iperf3 port 5201, so all traffic
# stays on this machine), waits until the guest serves iperf3, and runs
# iperf3 against it in both directions.
#
#   xen     the guest under the VAM, the VAM as Xen's dom0 (the guest's
#           ns83820 driver on the VAM's DP83820 model, whose frames the VAM
#           sends through QEMU's NIC)
#   passthrough  the guest under the VAM with QEMU's e1000 passed through
#           (thesis 4.2.5): its own e1000 driver drives the machine's NIC,
#           the VAM forwards configuration space, ports and the interrupt and
#           maps the register BAR (vam.passthrough=8086:100e)
#   native  the guest on QEMU directly (its virtio-net driver on QEMU's NIC)
#   paravirt  the para-virtualized kernel (build-kernel.sh --variant paravirt)
#           as Xen's dom0, its virtio-net driver on QEMU's NIC (the thesis's
#           "XenoLinux driving the device itself")
#
# usage: run-net.sh --mode xen|passthrough|native|paravirt --kernel VMLINUX --initrd CPIO
#                   [--vam VAM_ELF --pack-tool VAM_PACK] [--seconds N]
#                   [--timeout S] [--log FILE] [--expect-driver NAME]
#                   [--direction both|send|receive] [--nic virtio|e1000]
# Passes when the guest brought eth0 up (with NAME as its driver, if given),
# pinged the gateway, served the iperf3 runs (receive: host to guest, send:
# guest to host; both by default), and ended without failures.  Prints one
# line "run-net: MODE send X Mbit/s receive Y Mbit/s guest-cpu-busy Z% ..."
# (a direction not run shows "-"); guest CPU busy is the guest's own
# /proc/stat over the iperf3 runs.  --nic picks QEMU's NIC for native and
# paravirt (default virtio: legacy virtio-net); xen needs virtio (the VAM's
# own driver), passthrough e1000.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mode="" kernel="" initrd="" vam="" pack_tool="" secs=5 timeout=900 log="" driver="" dir=both nicmodel=""
while [ $# -gt 0 ]; do
  case $1 in
    --mode) mode=$2; shift 2 ;;
    --kernel) kernel=$2; shift 2 ;;
    --initrd) initrd=$2; shift 2 ;;
    --vam) vam=$2; shift 2 ;;
    --pack-tool) pack_tool=$2; shift 2 ;;
    --seconds) secs=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --expect-driver) driver=$2; shift 2 ;;
    --direction) dir=$2; shift 2 ;;
    --nic) nicmodel=$2; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run-net: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
die() { echo "run-net: $*" >&2; exit 1; }
case $mode in xen|passthrough|native|paravirt) ;; *) die "--mode takes xen, passthrough, native or paravirt" ;; esac
[ -f "$kernel" ] || die "no kernel '$kernel'"
[ -f "$initrd" ] || die "no initramfs '$initrd' (guest/linux/make-net-initramfs.sh)"
command -v iperf3 > /dev/null || die "iperf3 not found (scripts/setup-deps.sh)"
[[ $secs =~ ^[1-9][0-9]*$ ]] || die "--seconds needs a positive number"
case $dir in both) runs=2 ;; send|receive) runs=1 ;; *) die "--direction takes both, send or receive" ;; esac
[ -n "$log" ] || log=$(dirname "$kernel")/net.$mode.log

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
case $mode in xen) nicmodel=${nicmodel:-virtio} ;; passthrough) nicmodel=${nicmodel:-e1000} ;; esac
case $mode:${nicmodel:-virtio} in
  xen:virtio|native:virtio|paravirt:virtio) model=virtio-net-pci,disable-modern=on ;;
  passthrough:e1000|native:e1000|paravirt:e1000) model=e1000 ;;
  *) die "--nic ${nicmodel} does not go with --mode $mode" ;;
esac
nic="-netdev user,id=net0,hostfwd=tcp:127.0.0.1:$port-10.0.2.15:5201 -device $model,netdev=net0"
# natively the guest ends with reboot -f (QEMU runs with -no-reboot); under
# the VAM with poweroff -f (the VAM powers the machine off)
guest_args="afterburn_script=/net.sh afterburn_net_runs=$runs"

out=$(mktemp -d "${TMPDIR:-/tmp}/run-net.XXXXXX")
bootpid=""
cleanup() { [ -z "$bootpid" ] || kill "$bootpid" 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT
: > "$log"
if [ $mode = xen ] || [ $mode = passthrough ]; then
  [ -f "$vam" ] && [ -x "$pack_tool" ] || die "--mode $mode needs --vam and --pack-tool"
  vam_args="net test"
  [ $mode != passthrough ] || vam_args="net test vam.passthrough=8086:100e"
  pack=$out/net.pack
  "$pack_tool" -o "$pack" --kernel "$kernel" --initrd "$initrd" --cmdline "console=ttyS0 panic=-1 $guest_args afterburn_end=poweroff" > /dev/null
  XQ_QEMU_ARGS="${XQ_QEMU_ARGS:-} $nic" bash "$root/tests/xen/run-xen.sh" --timeout "$timeout" \
    --shutdown poweroff --log "$log" --expect "AFTERBURN-SCRIPT-END rc=0" \
    "$vam" "$vam_args" -- "$pack" > "$out/boot.out" 2>&1 &
elif [ $mode = paravirt ]; then
  XQ_QEMU_ARGS="${XQ_QEMU_ARGS:-} $nic" bash "$root/tests/xen/run-xen.sh" --timeout "$timeout" \
    --shutdown poweroff --log "$log" --expect "AFTERBURN-SCRIPT-END rc=0" \
    "$kernel" "console=hvc0 panic=-1 $guest_args afterburn_end=poweroff" -- "$initrd" \
    > "$out/boot.out" 2>&1 &
else
  read -r -a qargs <<< "$nic"
  qa=()
  for a in "${qargs[@]}"; do qa+=(-q "$a"); done
  bash "$root/guest/linux/boot.sh" --timeout "$timeout" --log "$log" \
    --append "$guest_args" "${qa[@]}" "$kernel" "$initrd" \
    > "$out/boot.out" 2>&1 &
fi
bootpid=$!

# wait for the guest's "server ready" line number N
wait_ready() {
  local n=$1 t0=$SECONDS
  while ! tr -d '\r' < "$log" | grep -aq "^net: iperf3 server ready (run $n "; do
    kill -0 "$bootpid" 2>/dev/null || return 1
    ((SECONDS - t0 < timeout)) || return 1
    sleep 1
  done
}

# one iperf3 client run; the server may not listen yet when slirp accepts
mbits() { # $1 = run number, rest = extra iperf3 options; prints Mbit/s
  local n=$1 try
  shift
  wait_ready "$n" || return 1
  for try in 1 2 3 4 5 6 7 8 9 10; do
    if iperf3 -c 127.0.0.1 -p "$port" -t "$secs" -f m "$@" > "$out/client.$n" 2>&1 &&
       grep -q receiver "$out/client.$n"; then
      awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i+1) == "Mbits/sec") v = $i } END { print v }' "$out/client.$n"
      return 0
    fi
    sleep 2
  done
  sed 's/^/run-net:   /' "$out/client.$n" >&2
  return 1
}

send=- recv=- ok=1 n=1
if [ $dir != send ]; then
  recv=$(mbits $n) || { echo "run-net: iperf3 host -> guest failed" >&2; ok=0; }
  n=2
fi
if [ $ok = 1 ] && [ $dir != receive ]; then
  send=$(mbits $n -R) || { echo "run-net: iperf3 guest -> host failed" >&2; ok=0; }
fi
rc=0
wait "$bootpid" || rc=$?
bootpid=""
clean=$(tr -d '\r' < "$log")
cat "$out/boot.out"
grep -a -E '^net: ' <<< "$clean" || true
[ "$rc" = 0 ] || die "the boot failed (status $rc; log $log)"
[ $ok = 1 ] || die "iperf3 failed (log $log)"
grep -aq '^net: ok ping' <<< "$clean" || die "the guest's ping of the gateway failed"
grep -aq '^net: 0 failed' <<< "$clean" || die "the guest's network script reported failures"
if [ -n "$driver" ]; then
  grep -aqE "^net: up eth0 driver $driver " <<< "$clean" || die "eth0's driver is not $driver"
fi
busy=$(grep -a -E '^net: run [12] guest cpu busy' <<< "$clean" | awk '{ b += $7; t += $9 } END { if (t) printf "%.0f", 100 * b / t }')
echo "run-net: $mode send $send Mbit/s receive $recv Mbit/s guest-cpu-busy ${busy:-?}% ($secs s each, log $log)"
