#!/usr/bin/env bash
# The reference guest's initramfs for the network tests: make-initramfs.sh's
# image plus guest/linux/net.sh and Debian's iperf3 with the shared
# libraries and loader it needs (as ldd lists them on this machine).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=$(basename "$0")
die() { echo "$PROG: error: $*" >&2; exit 1; }
[ $# -eq 1 ] && [ "$1" != -h ] && [ "$1" != --help ] || {
  echo "usage: $PROG OUT.cpio"; [ $# -eq 1 ]; exit $?; }
out=$1
iperf=$(command -v iperf3) || die "iperf3 not found (install iperf3: scripts/setup-deps.sh)"
adds=(--add "$HERE/net.sh:/net.sh" --add "$iperf:/usr/bin/iperf3")
libs=$(ldd "$iperf" | awk '/=>/ { print $3 } /^\t\/lib/ { print $1 }')
[ -n "$libs" ] || die "ldd lists no libraries for $iperf"
for lib in $libs; do
  [ -f "$lib" ] || die "library $lib of iperf3 not found"
  adds+=(--add "$(readlink -f "$lib"):$lib")
done
exec bash "$HERE/make-initramfs.sh" -o "$out" "${adds[@]}"
