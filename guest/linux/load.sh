#!/bin/sh
# A sustained load for the reference guest (/init: afterburn_script=/load.sh):
# for afterburn_load_seconds (default 600) four workers fork processes,
# push data through pipes, fault in and free memory in a tmpfs, and signal
# each other, while a fifth sleeps in short steps (timers).  Afterwards the
# guest must still answer: the last lines are the rounds each worker did and
# "load: responsive after N s"; exit status 0 if every worker made progress.
duration=${afterburn_load_seconds:-600}
mkdir -p /tmp/load
mount -t tmpfs -o size=32m tmpfs /tmp/load || exit 1
now() { cut -d. -f1 /proc/uptime; }
start=$(now)
end=$((start + duration))
echo "load: $duration s, 4 workers and a timer loop"

worker() {
    n=0
    while [ "$(now)" -lt "$end" ]; do
        seq 1 300 | sort -r | md5sum > /dev/null                     # fork, exec, pipes
        dd if=/dev/zero of=/tmp/load/w$1 bs=64k count=32 2>/dev/null  # page faults in tmpfs
        cat /tmp/load/w$1 > /dev/null && rm -f /tmp/load/w$1
        sh -c 'trap "exit 0" USR1; while :; do sleep 1; done' &      # signals
        p=$!
        kill -USR1 $p 2>/dev/null
        wait $p
        n=$((n + 1))
        echo $n > /tmp/load/rounds$1
    done
}
timer_loop() {
    n=0
    while [ "$(now)" -lt "$end" ]; do
        usleep 20000
        n=$((n + 1))
    done
    echo $n > /tmp/load/ticks
}
for w in 1 2 3 4; do
    worker $w &
done
timer_loop &
wait
ok=0
for w in 1 2 3 4; do
    r=$(cat /tmp/load/rounds$w 2>/dev/null || echo 0)
    echo "load: worker $w: $r rounds"
    [ "$r" -gt 0 ] || ok=1
done
echo "load: timer loop: $(cat /tmp/load/ticks 2>/dev/null || echo 0) sleeps of 20 ms"
grep -E '^(MemFree|MemAvailable):' /proc/meminfo | sed 's/^/load: /'
[ "$(sh -c 'echo responsive')" = responsive ] || ok=1
echo "load: responsive after $(( $(now) - start )) s"
umount /tmp/load
exit $ok
