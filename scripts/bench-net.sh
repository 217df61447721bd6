#!/usr/bin/env bash
# Network benchmark (issue: DP83820, thesis Table 5.7 and the Netperf
# comparison): iperf3 throughput and the guest's CPU load, each direction in
# its own boot, side by side in one run, for
#   native    the afterburnt guest on QEMU, its virtio-net driver on QEMU's NIC
#   native-e1000  the same with QEMU's e1000 and the guest's e1000 driver
#   xen       the same guest binary under the VAM on Xen: its ns83820 driver
#             on the VAM's DP83820 model, the VAM (dom0) driving QEMU's NIC
#   passthrough  the same guest binary under the VAM with QEMU's e1000 passed
#             through: its own e1000 driver drives the machine's NIC
#   paravirt  the para-virtualized kernel as dom0 driving QEMU's NIC itself
#   paravirt-e1000  the same with QEMU's e1000
# plus, for xen, the DP83820 register accesses and back-end notifications
# per packet (the VAM's counters at power-off).
#
# usage: scripts/bench-net.sh [--seconds N]
#          [--modes "native native-e1000 xen passthrough paravirt paravirt-e1000"]
#                             [--out FILE] [BUILD_DIR]
# Needs the built tree (cmake --build), the afterburnt and paravirt kernels
# (ctest -L slow, or guest/linux/build-kernel.sh) and iperf3.  QEMU runs
# without icount here: iperf3 talks to the host in real time.  All numbers
# come from software emulation on this machine; compare the rows with each
# other, not with hardware.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=10 modes="native native-e1000 xen passthrough paravirt paravirt-e1000" out=""
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) secs=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench-net: unknown option '$1'" >&2; exit 2 ;;
    *) break ;;
  esac
done
build=${1:-${BUILD_DIR:-$root/build}}
work=$build/linux
[ -n "$out" ] || out=$build/bench/net-results.md
die() { echo "bench-net: $*" >&2; exit 1; }
for f in "$build/bin/vam-xen.elf" "$build/bin/vam-pack"; do
  [ -f "$f" ] || die "$f missing: build first (cmake --build $build)"
done
mkdir -p "$(dirname "$out")" "$build/bench/net"
initrd=$work/net-initramfs.cpio
echo "bench-net: building $initrd"
bash "$root/guest/linux/make-net-initramfs.sh" "$initrd" > /dev/null

declare -A mbit cpu regs notes pkts ints
for mode in $modes; do
  case $mode in
    native|native-e1000|xen|passthrough) kernel=$work/afterburnt/vmlinux ;;
    paravirt|paravirt-e1000) kernel=$work/paravirt/vmlinux ;;
    *) die "unknown mode '$mode' (native, native-e1000, xen, passthrough, paravirt, paravirt-e1000)" ;;
  esac
  [ -f "$kernel" ] || die "$kernel missing (guest/linux/build-kernel.sh)"
  for d in receive send; do
    log=$build/bench/net/$mode-$d.log
    echo "bench-net: $mode, $d, $secs s"
    rmode=$mode nic=()
    case $mode in *-e1000) rmode=${mode%-e1000} nic=(--nic e1000) ;; esac
    line=$(bash "$root/tests/net/run-net.sh" --mode "$rmode" "${nic[@]}" --kernel "$kernel" --initrd "$initrd" \
             --vam "$build/bin/vam-xen.elf" --pack-tool "$build/bin/vam-pack" \
             --direction $d --seconds "$secs" --timeout 900 --log "$log" | grep '^run-net: ') ||
      die "$mode $d failed (log $log)"
    echo "  $line"
    if [ $d = receive ]; then v=$(awk '{ print $7 }' <<< "$line"); else v=$(awk '{ print $4 }' <<< "$line"); fi
    mbit[$mode,$d]=$v
    cpu[$mode,$d]=$(sed -E 's/.*guest-cpu-busy ([0-9?]+)%.*/\1/' <<< "$line")
    if [ $mode = xen ]; then
      clean=$(tr -d '\r' < "$log")
      # "VAM: net: DP83820 R register reads, W writes; sent T packets ... received X packets ... interrupts I"
      read -r r w t x i < <(grep -a '^VAM: net: DP83820 [0-9]' <<< "$clean" |
        sed -E 's/.*DP83820 ([0-9]+) register reads, ([0-9]+) writes; sent ([0-9]+) packets.*received ([0-9]+) packets.*interrupts ([0-9]+)$/\1 \2 \3 \4 \5/') ||
        die "no DP83820 counters in $log"
      read -r bt bn _ < <(grep -a '^VAM: net: back end sent' <<< "$clean" |
        sed -E 's/.*sent ([0-9]+) frames with ([0-9]+) notifications.*/\1 \2/') ||
        die "no back-end counters in $log"
      read -r br bi bf < <(grep -a '^VAM: net: back end sent' <<< "$clean" |
        sed -E 's/.*received ([0-9]+) frames in ([0-9]+) interrupts with ([0-9]+) refill.*/\1 \2 \3/') ||
        die "no back-end counters in $log"
      pkts[$d]=$((t + x)) regs[$d]=$((r + w)) ints[$d]=$i
      notes[$d]="$bn $bi $bf"
    fi
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
{
  echo "# Network benchmark"
  echo
  echo "\`scripts/bench-net.sh --seconds $secs --modes \"$modes\"\`, $(date -u +%Y-%m-%d), $(nproc) cores,"
  echo "$(qemu-system-x86_64 --version | head -n 1), TCG without icount; iperf3 $(iperf3 --version | head -n1 | awk '{print $2}')"
  echo "from this machine through QEMU's user network (a forwarded port) to the guest; each"
  echo "direction its own boot.  Guest CPU: busy share of the guest's own /proc/stat during the run."
  echo
  echo "| configuration | receive (host to guest) Mbit/s | guest CPU | send (guest to host) Mbit/s | guest CPU |"
  echo "|---|---:|---:|---:|---:|"
  for mode in $modes; do
    case $mode in
      native) name="native (virtio-net driver, QEMU's virtio-net)" ;;
      native-e1000) name="native (e1000 driver, QEMU's e1000)" ;;
      xen) name="Xen + VAM, DP83820 model (ns83820 driver; VAM drives QEMU's virtio-net)" ;;
      passthrough) name="Xen + VAM, pass-through (e1000 driver on QEMU's e1000)" ;;
      paravirt) name="para-virtualized dom0 (virtio-net driver, QEMU's virtio-net)" ;;
      paravirt-e1000) name="para-virtualized dom0 (e1000 driver, QEMU's e1000)" ;;
    esac
    echo "| $name | ${mbit[$mode,receive]} | ${cpu[$mode,receive]}% | ${mbit[$mode,send]} | ${cpu[$mode,send]}% |"
  done
  if [[ " $modes " == *" xen "* ]]; then
    echo
    echo "DP83820 model under the VAM (thesis Table 5.7): per packet the guest's register"
    echo "accesses (each a trapped and emulated MMIO access) and the back end's notifications"
    echo "(doorbells on the NIC and NIC interrupts), counted by the VAM over the whole boot."
    echo
    echo "| direction | packets | register accesses / packet | DP83820 interrupts / packet | back-end doorbells (tx) | NIC interrupts | refill doorbells | notifications / packet |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for d in receive send; do
      read -r bn bi bf <<< "${notes[$d]}"
      echo "| $d | ${pkts[$d]} | $(ratio "${regs[$d]}" "${pkts[$d]}") | $(ratio "${ints[$d]}" "${pkts[$d]}") | $bn | $bi | $bf | $(ratio $((bn + bi + bf)) "${pkts[$d]}") |"
    done
  fi
} > "$out"
echo "bench-net: wrote $out"
cat "$out"
