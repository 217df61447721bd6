#!/usr/bin/env bash
# Build the guest microbenchmarks (static glibc programs) and an initramfs of
# the reference guest with them added under /bench:
#   /bench/abbench  /bench/hello  /bench/run-bench.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PROG=$(basename "$0")

usage() {
  cat <<EOF
Usage: $PROG -o OUT.cpio [--cc CC]

Compiles $HERE/abbench.c and hello.c with 'CC -static -O2' into the
directory of OUT (OUT.bin/), then runs guest/linux/make-initramfs.sh with
them and run-bench.sh added under /bench.
EOF
}
die() { echo "$PROG: error: $*" >&2; exit 1; }

out=""
cc=gcc
while [ $# -gt 0 ]; do
  case $1 in
    -o|--output) [ $# -ge 2 ] || die "$1 needs an argument"; out=$2; shift 2 ;;
    --cc) [ $# -ge 2 ] || die "$1 needs an argument"; cc=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument '$1' (see -h)" ;;
  esac
done
[ -n "$out" ] || { usage >&2; die "-o OUT is required"; }
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || die "glibc's libc.a not found (install libc6-dev)"

bin="$out.bin"
mkdir -p "$bin"
flags=(-static -O2 -Wall -Wextra -Werror)
"$cc" "${flags[@]}" -o "$bin/abbench" "$HERE/abbench.c"
"$cc" "${flags[@]}" -o "$bin/hello" "$HERE/hello.c"
if readelf -l "$bin/abbench" | grep -q 'Requesting program interpreter'; then
  die "$bin/abbench is not static"
fi
bash "$ROOT/guest/linux/make-initramfs.sh" -o "$out" \
  --add "$bin/abbench:/bench/abbench" \
  --add "$bin/hello:/bench/hello" \
  --add "$HERE/run-bench.sh:/bench/run-bench.sh"
chmod 0755 "$bin/abbench" "$bin/hello"
