#!/bin/sh
# prog.c built natively and through the hook (gcc -B<dir>/ -no-integrated-cpp)
# at -O0, -O2 and -Os: the programs must print the same, every record must
# verify, and the memory sites must be there (at -O0, one per rewritten
# access: pt_read 25, pt_write 11, pt_rmw 6, dev_read 4, dev_write 3, dev_rmw 2).
#
#   run.sh GCC_DIR INSPECT CONFIG PROG.c WORKDIR
set -u
gccdir=$1 inspect=$2 conf=$3 src=$4 work=$5
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }

count() {   # count KIND FILE.o: memory sites of KIND in the --counts output
    "$inspect" --counts "$2" | awk -v k="$1" '
        /^memory sites by kind:/ { on = 1; next }
        on && $1 == k { print $2; found = 1; exit }
        on && !/^  / { exit }
        END { if (!found) print 0 }'
}

gcc -O2 -o "$work/native" "$src" || fail "native build"
"$work/native" >"$work/native.out" || fail "native run"
for opt in -O0 -O2 -Os; do
    AFTERBURN_CPARSE_CONFIG=$conf gcc -B"$gccdir/" -no-integrated-cpp $opt -Wall \
        -c "$src" -o "$work/prog$opt.o" 2>"$work/prog$opt.err" ||
        { cat "$work/prog$opt.err"; fail "$opt: build through the hook"; }
    grep -q "prog.c:[0-9]*:[0-9]*: warning: afterburn-cparse: page-table pte_t\[64\] object passed to memcpy" \
        "$work/prog$opt.err" || { cat "$work/prog$opt.err"; fail "$opt: the memcpy is not reported"; }
    gcc -o "$work/prog$opt" "$work/prog$opt.o" || fail "$opt: link"
    "$work/prog$opt" >"$work/prog$opt.out" || fail "$opt: run"
    cmp "$work/native.out" "$work/prog$opt.out" || fail "$opt: output differs from the native build"
    "$inspect" "$work/prog$opt.o" >"$work/prog$opt.inspect" ||
        { cat "$work/prog$opt.inspect"; fail "$opt: afterburn-inspect"; }
    tail -n 1 "$work/prog$opt.inspect"
    "$inspect" --counts "$work/prog$opt.o" | grep -q "^  cli " || fail "$opt: no cli site"
    for k in pt_read pt_write pt_rmw dev_read dev_write dev_rmw; do
        n=$(count $k "$work/prog$opt.o")
        [ "$n" -ge 1 ] || fail "$opt: no $k memory site"
    done
done
for pair in pt_read:25 pt_write:11 pt_rmw:6 dev_read:4 dev_write:3 dev_rmw:2; do
    k=${pair%:*} want=${pair#*:}
    n=$(count "$k" "$work/prog-O0.o")
    [ "$n" = "$want" ] || fail "-O0: $n $k memory sites, expected $want"
done
"$inspect" --list "$work/prog-O2.o" | grep -q "pt_read .*  mov (%r[a-z0-9]*), %r[a-z0-9]*  \[split\]" ||
    fail "-O2: no split read-modify-write listed"
"$inspect" --list "$work/prog-O2.o" | grep -q "pt_read .*\[volatile\]" ||
    fail "-O2: no volatile read listed"
echo "ok: same output at -O0, -O2, -Os; memory sites verified"
