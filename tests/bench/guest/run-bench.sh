#!/bin/sh
# Runs every guest microbenchmark in a fixed order (busybox sh, inside the
# reference guest). Boot with  afterburn_script=/bench/run-bench.sh
#
# Kernel command line parameters (they reach /init and this script as
# environment variables):
#   bench_pct=N     scale every iteration count to N percent (default 100)
#   bench_only="a b"  run only these benchmarks (default: all, in order)
#
# Prints one line per result (see abbench.c):
#   BENCH name=<name> us=<per op> med_us=<median batch> iters=<n> batches=<b> ...
# framed by BENCH-INFO lines and a final BENCH-DONE line with the number
# of failed benchmarks. Exit status 0 only if every benchmark succeeded.
dir=/bench
pct=${bench_pct:-100}
all="null_syscall null_io stat open_close sig_install sig_handle fork exec sh pipe_rtt ctx_2p"
list=${bench_only:-$all}

csfile=/sys/devices/system/clocksource/clocksource0/current_clocksource
# The kernel replaces tsc-early by tsc about a second after boot; wait for
# that (at most 5 s) so no benchmark straddles the switch.
n=0
while [ "$(cat $csfile 2>/dev/null)" = tsc-early ] && [ $n -lt 5 ]; do
    sleep 1
    n=$((n + 1))
done
cs=$(cat $csfile 2>/dev/null)
echo "BENCH-INFO kernel=$(uname -r) pct=$pct clocksource=${cs:-unknown} benchmarks=$(echo $list | wc -w)"

failed=0
for b in $list; do
    if ! "$dir/abbench" -p "$pct" -x "$dir/hello" -s /bin/sh "$b"; then
        echo "BENCH-ERROR name=$b exit status non-zero"
        failed=$((failed + 1))
    fi
done
cs=$(cat $csfile 2>/dev/null)
echo "BENCH-INFO end clocksource=${cs:-unknown}"
echo "BENCH-DONE failed=$failed"
[ "$failed" -eq 0 ]
