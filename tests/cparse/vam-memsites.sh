#!/bin/sh
# The VAM's memory-site loader and rewriter on a program afterburn-cparse
# built: vamprog.c through the gcc hook; vam-memsite-test --image checks that
# its memory sites load (as many as afterburn-inspect counts), that
# corrupted copies of a record are refused with the right error, and that
# its page-table write sites rewrite into stub calls.
#
#   vam-memsites.sh VAM_MEMSITE_TEST GCC_DIR INSPECT CONFIG VAMPROG.c WORKDIR
set -u
test=$1 gccdir=$2 inspect=$3 conf=$4 src=$5 work=$6
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
AFTERBURN_CPARSE_CONFIG=$conf gcc -B"$gccdir/" -no-integrated-cpp -O2 -ffreestanding \
    -fno-pie -no-pie -nostdlib -static -Wl,--build-id=none -o "$work/prog" "$src" 2>"$work/build.err" || { cat "$work/build.err"; fail "build"; }
"$inspect" "$work/prog" >"$work/inspect.out" || { cat "$work/inspect.out"; fail "afterburn-inspect"; }
mem=$(sed -n 's/^.*: [0-9]* sites, 0 mode markers, \([0-9]*\) memory sites; .*OK$/\1/p' "$work/inspect.out")
[ -n "$mem" ] && [ "$mem" -gt 0 ] || { cat "$work/inspect.out"; fail "no memory sites"; }
"$test" --image "$work/prog" >"$work/test.out" 2>&1
st=$?
cat "$work/test.out"
[ "$st" = 0 ] || fail "vam-memsite-test --image (exit $st)"
grep -q "^$work/prog: $mem memory sites " "$work/test.out" ||
    fail "the VAM does not load the $mem memory sites afterburn-inspect counts"
echo "ok: the VAM loads and rewrites the $mem memory sites"
