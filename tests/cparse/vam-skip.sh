#!/bin/sh
# The VAM's loader reads only AB_NOTE_TYPE_SITES notes and skips notes of
# other types: a program with memory sites (vamprog.c through the hook) and
# afterburn-as sites loads, with exactly its afterburn-as sites, while
# afterburn-inspect sees both kinds of records.
#
#   vam-skip.sh VAM_LOAD_CHECK GCC_DIR INSPECT CONFIG VAMPROG.c WORKDIR
set -u
check=$1 gccdir=$2 inspect=$3 conf=$4 src=$5 work=$6
. "$(dirname "$0")/vamprog-build.sh"
set -- "$prog_sites" "$prog_memsites"
"$check" "$work/prog" >"$work/load.out" 2>&1
st=$?
cat "$work/load.out"
[ "$st" = 0 ] || fail "the VAM's loader refuses the program (exit $st)"
grep -Eq "^ok: $1 sites \(0 in 16/32-bit code, 0 templates\), 0 mode markers, 1 notes$" \
    "$work/load.out" || fail "the loader does not see exactly the $1 afterburn-as sites"
echo "ok: the loader takes $1 sites and skips the $2 memory sites"
