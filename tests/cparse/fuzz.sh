#!/bin/sh
# Robustness: mutants of each seed (truncated, spans deleted, duplicated or
# swapped, bytes replaced, tokens inserted; see mutate.c), and each seed
# itself, through afterburn-cparse built with AddressSanitizer and
# UndefinedBehaviorSanitizer.  Every run must end in one of two ways:
#   exit 0 with an output file; when gcc compiles the mutant, it must compile
#          the output too, and the object's records must verify;
#   exit 1 (does not parse) with no output file.
# Anything else (another status, a sanitizer report, a timeout) fails.
#
#   fuzz.sh CPARSE_ASAN MUTATE INSPECT CONFIG WORKDIR PER_SEED SEED.c...
set -u
cparse=$1 mutate=$2 inspect=$3 conf=$4 work=$5 per=$6
shift 6
rm -rf "$work"
mkdir -p "$work"
export ASAN_OPTIONS=exitcode=99:detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:exitcode=98:print_stacktrace=1
n=0 rejected=0 rewritten=0 compiled=0 bad=0 seedno=0
failed() {
    echo "FAIL: $1: $2"
    [ -f "$3" ] && head -n 20 "$3"
    bad=$((bad + 1))
}
for src in "$@"; do
    seedno=$((seedno + 1))
    name=$(basename "$src" .c)
    d=$work/$name
    mkdir -p "$d"
    (cd "$(dirname "$src")" && gcc -E "$(basename "$src")" -o "$d/seed.i") || {
        echo "FAIL: gcc -E $src"; exit 1; }
    "$mutate" "$d/seed.i" "$per" "$seedno" "$d" || exit 1
    cp "$d/seed.i" "$d/mut-seed.i"
    for m in "$d"/mut-*.i; do
        n=$((n + 1))
        base=${m%.i}
        out=$base.out.i
        timeout 120 "$cparse" --config "$conf" -o "$out" "$m" >"$base.log" 2>&1
        st=$?
        if grep -q "AddressSanitizer\|LeakSanitizer\|runtime error:" "$base.log"; then
            failed "$m" "sanitizer report" "$base.log"
            continue
        fi
        case $st in
        0)
            rewritten=$((rewritten + 1))
            [ -f "$out" ] || { failed "$m" "exit 0 but no output" "$base.log"; continue; }
            if gcc -std=gnu11 -fpreprocessed -w -O1 -c -o "$base.orig.o" "$m" 2>/dev/null; then
                compiled=$((compiled + 1))
                if ! gcc -std=gnu11 -fpreprocessed -w -O1 -c -o "$base.o" "$out" 2>"$base.gcc"; then
                    failed "$m" "gcc compiles the input but not the rewritten output" "$base.gcc"
                    continue
                fi
                if readelf -S "$base.o" | grep -q note.afterburn &&
                    ! "$inspect" --verify --quiet "$base.o" >"$base.inspect" 2>&1; then
                    failed "$m" "afterburn-inspect --verify fails on the object" "$base.inspect"
                fi
            fi
            ;;
        1)
            rejected=$((rejected + 1))
            [ -e "$out" ] && failed "$m" "exit 1 but an output file was written" "$base.log"
            ls "$out".tmp* >/dev/null 2>&1 && failed "$m" "a temporary output was left" "$base.log"
            ;;
        *)
            failed "$m" "exit status $st" "$base.log"
            ;;
        esac
    done
done
echo "fuzz: $n inputs: $rewritten rewritten ($compiled compiled by gcc, checked), $rejected rejected, $bad failures"
[ "$bad" -eq 0 ]
