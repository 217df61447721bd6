#!/usr/bin/env bash
# Two real kernel files through the hook: mm/memory.o and arch/x86/mm/pgtable.o
# of Linux 6.1 with the reference configuration, in a build directory of
# their own (make olddefconfig prepare, then the two objects; not vmlinux).
# Every memory site must verify; prints the counts per kind and the
# unclassified accesses.  Exit 77 (skipped) without the source or the
# configuration (guest/linux/build-kernel.sh makes both).
#
#   kernel-files.sh --src DIR --work DIR --gcc-dir DIR --inspect FILE --config FILE --out DIR
#     --src   extracted linux-source-6.1 (empty: <work>/src)
#     --work  the Linux work directory (its config/.config is the reference configuration)
set -euo pipefail
src= work= gccdir= inspect= conf= out=
while [ $# -gt 0 ]; do
    case $1 in
    --src) src=$2 ;;
    --work) work=$2 ;;
    --gcc-dir) gccdir=$2 ;;
    --inspect) inspect=$2 ;;
    --config) conf=$2 ;;
    --out) out=$2 ;;
    *) echo "kernel-files.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift 2
done
[ -n "$src" ] || src=$work/src
refconfig=$work/config/.config
if [ ! -f "$src/Makefile" ] || [ ! -f "$refconfig" ]; then
    echo "skipped: no kernel source ($src) or reference configuration ($refconfig);"
    echo "guest/linux/build-kernel.sh (ctest -R linux.build.native) makes them"
    exit 77
fi
obj=$out/obj
mkdir -p "$obj"
cmp -s "$refconfig" "$obj/.config" || cp "$refconfig" "$obj/.config"
rm -f "$out/report.txt"
cc="gcc -B$gccdir/ -no-integrated-cpp"
export AFTERBURN_CPARSE_CONFIG=$conf AFTERBURN_CPARSE_REPORT=$out/report.txt AFTERBURN_CPARSE_QUIET=1
make -s -C "$src" O="$obj" ARCH=x86 CC="$cc" olddefconfig >"$out/build.log" 2>&1
make -C "$src" O="$obj" ARCH=x86 CC="$cc" -j1 prepare mm/memory.o arch/x86/mm/pgtable.o \
    >>"$out/build.log" 2>&1 || { tail -n 40 "$out/build.log"; echo "FAIL: kernel build"; exit 1; }
status=0
for o in mm/memory.o arch/x86/mm/pgtable.o; do
    "$inspect" --counts --verify "$obj/$o" >"$out/$(basename "$o").inspect" 2>&1 || status=1
    echo "== $o"
    sed -n '/^memory sites by kind:/,$p' "$out/$(basename "$o").inspect"
    grep -E ": (error|warning): " "$out/$(basename "$o").inspect" || true
    grep -q "^memory sites by kind:" "$out/$(basename "$o").inspect" ||
        { echo "FAIL: $o has no memory sites"; status=1; }
done
echo "== unclassified accesses (each file reports the header functions it includes):"
sort "$out/report.txt" | uniq -c | sort -rn
[ "$status" = 0 ] && echo "ok: mm/memory.o and arch/x86/mm/pgtable.o built through afterburn-cparse"
exit $status
