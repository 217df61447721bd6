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
. "$(dirname "$0")/vamprog-build.sh"
mem=$prog_memsites
"$test" --image "$work/prog" >"$work/test.out" 2>&1
st=$?
cat "$work/test.out"
[ "$st" = 0 ] || fail "vam-memsite-test --image (exit $st)"
grep -q "^$work/prog: $mem memory sites " "$work/test.out" ||
    fail "the VAM does not load the $mem memory sites afterburn-inspect counts"
echo "ok: the VAM loads and rewrites the $mem memory sites"
