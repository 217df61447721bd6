#!/bin/sh
# In-guest runner of the kernel's x86 selftests (busybox sh), started by
# guest/linux/init as afterburn_script=/x86-selftests.sh. The binaries come
# from guest/linux/build-x86-selftests.sh, put into /selftests by
# make-initramfs.sh --add.
#
# Runs every executable in $x86_selftests_dir (default /selftests), in name
# order, each under busybox `timeout`, and prints
#   x86-selftest: <name>: PASS|FAIL|SKIP (<exit status or reason>) [<s> s]
# then one summary line
#   x86-selftests: N run, P passed, F failed, S skipped
# and exits with the number of failures.
#   exit 0                   PASS
#   exit 4 (KSFT_SKIP)       SKIP
#   anything else            FAIL; 128+n means the test died of signal n
#                            (143 or 137 at the time limit: "timeout"; the
#                            test gets SIGTERM, then SIGKILL 10 s later)
#
# Settings, from the kernel command line (init gets them as environment
# variables) or the environment:
#   x86_selftests_skip=a,b   do not run these (names with or without _64);
#                            each counts as SKIP (excluded)
#   x86_selftests_only=a,b   run only these
#   x86_selftests_timeout=S  per-test limit in seconds (default 300)
#   x86_selftests_dir=D      directory of the binaries (default /selftests)
#   x86_selftests_quiet=1    print a test's own output only when it fails

dir=${x86_selftests_dir:-/selftests}
limit=${x86_selftests_timeout:-300}
skip=",$(echo "${x86_selftests_skip:-}" | tr -d ' '),"
only=",$(echo "${x86_selftests_only:-}" | tr -d ' '),"
quiet=${x86_selftests_quiet:-0}

listed() { # $1 = ",a,b,", $2 = name: is the name (or name without _64) in?
    case $1 in *",$2,"*|*",${2%_64},"*) return 0 ;; esac
    return 1
}

if [ ! -d "$dir" ]; then
    echo "x86-selftests: no directory $dir (build-x86-selftests.sh, make-initramfs.sh --add)"
    echo "x86-selftests: 0 run, 0 passed, 1 failed, 0 skipped"
    exit 1
fi

echo "x86-selftests: kernel $(uname -r), timeout ${limit}s per test"
[ "$skip" = ",," ] || echo "x86-selftests: excluded: ${x86_selftests_skip}"
[ "$only" = ",," ] || echo "x86-selftests: only: ${x86_selftests_only}"

out=/tmp/x86-selftest.out
run=0 pass=0 fail=0 skipped=0 failed_names=""
t_all=$(date +%s)
for path in "$dir"/*; do
    [ -f "$path" ] && [ -x "$path" ] || continue
    name=${path##*/}
    if [ "$only" != ",," ] && ! listed "$only" "$name"; then
        continue
    fi
    if listed "$skip" "$name"; then
        echo "x86-selftest: $name: SKIP (excluded)"
        skipped=$((skipped + 1))
        continue
    fi
    echo "x86-selftest: $name: start"
    t0=$(date +%s)
    # Each test in a scratch directory (some write files), stdin from
    # /dev/null; its output goes to the console (unless quiet).
    wd=/tmp/x86-selftest.wd
    rm -rf "$wd"
    mkdir -p "$wd"
    if [ "$quiet" = 1 ]; then
        (cd "$wd" && exec timeout -k 10 "$limit" "$path") < /dev/null > "$out" 2>&1
    else
        (cd "$wd" && exec timeout -k 10 "$limit" "$path") < /dev/null 2>&1
    fi
    rc=$?
    secs=$(( $(date +%s) - t0 ))
    rm -rf "$wd"
    run=$((run + 1))
    case $rc in
        0) verdict=PASS; why=0; pass=$((pass + 1)) ;;
        4) verdict=SKIP; why="4: KSFT_SKIP"; skipped=$((skipped + 1)) ;;
        *)
            verdict=FAIL; fail=$((fail + 1)); failed_names="$failed_names $name"
            if { [ "$rc" -eq 143 ] || [ "$rc" -eq 137 ]; } && [ "$secs" -ge "$limit" ]; then
                why="$rc: timeout after ${limit}s"
            elif [ "$rc" -gt 128 ]; then
                why="$rc: signal $((rc - 128))"
            else
                why=$rc
            fi
            if [ "$quiet" = 1 ]; then cat "$out"; fi ;;
    esac
    echo "x86-selftest: $name: $verdict ($why) [${secs} s]"
done
rm -f "$out"

[ -z "$failed_names" ] || echo "x86-selftests: failed:$failed_names"
echo "x86-selftests: $run run, $pass passed, $fail failed, $skipped skipped [$(( $(date +%s) - t_all )) s]"
exit "$fail"
