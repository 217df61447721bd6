#!/usr/bin/env bash
# Round trip: each input assembled by plain `as` and through afterburn-as
# (or compiled by gcc with and without -B<afterburn dir>) must give the same
# instruction stream once padding is removed.
# usage: roundtrip.sh AB_ROUNDTRIP AFTERBURN_GCC_DIR WORK_DIR FILE.s|FILE.c ...
set -euo pipefail
rt=$1 abdir=$2 work=$3; shift 3
mkdir -p "$work"
pairs=()
for src in "$@"; do
  name=$(basename "$src"); name=${name%.*}
  case "$src" in
    *.s) as --64 -o "$work/$name.orig.o" "$src"
         "$abdir/as" --64 -o "$work/$name.ab.o" "$src" ;;
    *.c) gcc -O2 -c -o "$work/$name.orig.o" "$src"
         gcc -O2 -B"$abdir/" -c -o "$work/$name.ab.o" "$src" ;;
  esac
  pairs+=("$work/$name.orig.o" "$work/$name.ab.o")
done
"$rt" "${pairs[@]}"
