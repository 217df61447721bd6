#!/bin/sh
# A workload for the reference guest (run by /init with
# afterburn_script=/smoke.sh): process creation, pipes, signals, a file
# system in RAM, /proc.  Each check prints "smoke: ok <what>" or
# "smoke: FAIL <what>"; the last line is "smoke: N checks, M failed" and the
# exit status is the number of failures.
n=0
failed=0
check() { # $1 = what, rest = command that must succeed
    what=$1
    shift
    n=$((n + 1))
    if "$@" > /tmp/smoke.out 2>&1; then
        echo "smoke: ok $what"
    else
        failed=$((failed + 1))
        echo "smoke: FAIL $what"
        sed 's/^/smoke:   /' /tmp/smoke.out
    fi
}

mkdir -p /tmp
mount -t tmpfs tmpfs /tmp || echo "smoke: FAIL mount tmpfs"

# fork/exec: 50 children, each an exec of busybox
forks() {
    i=0
    while [ $i -lt 50 ]; do
        /bin/true || return 1
        i=$((i + 1))
    done
    [ "$(sh -c 'echo $((6 * 7))')" = 42 ]
}
check "fork/exec 50 processes" forks

# pipes: data through a pipeline of four processes
pipes() {
    out=$(seq 1 2000 | grep 7 | sort -n -r | head -n 1)
    [ "$out" = 1997 ]
}
check "pipeline seq|grep|sort|head" pipes

# signals: a trap in a child shell, and SIGKILL of a sleeping process
signals() {
    r=$(sh -c 'trap "echo caught; exit 0" USR1; kill -USR1 $$; sleep 5; echo missed')
    [ "$r" = caught ] || return 1
    sleep 30 &
    pid=$!
    kill -KILL $pid
    wait $pid
    [ $? -eq 137 ]
}
check "signals: USR1 handler, SIGKILL" signals

# a file system in RAM: write, copy, compare, remove
tmpfs() {
    dd if=/dev/zero of=/tmp/a bs=1024 count=512 2>/dev/null || return 1
    seq 1 10000 > /tmp/b && cp /tmp/b /tmp/c && cmp /tmp/b /tmp/c || return 1
    [ "$(wc -l < /tmp/c)" -eq 10000 ] || return 1
    mkdir -p /tmp/d/e/f && mv /tmp/c /tmp/d/e/f/c && [ -f /tmp/d/e/f/c ] || return 1
    rm -r /tmp/d /tmp/a /tmp/b && [ ! -e /tmp/d ]
}
check "tmpfs: write, copy, compare, rename, remove" tmpfs

# /proc: the kernel's view of itself
procfs() {
    grep -q '^MemTotal:' /proc/meminfo || return 1
    grep -q 'processor' /proc/cpuinfo || return 1
    [ -r /proc/self/status ] && grep -q '^Pid:' /proc/self/status || return 1
    [ "$(cat /proc/sys/kernel/ostype)" = Linux ] || return 1
    cat /proc/uptime /proc/loadavg /proc/interrupts > /dev/null
}
check "/proc reads" procfs

# time passes and sleeping works (timer interrupts reach the guest)
timers() {
    a=$(cut -d. -f1 /proc/uptime)
    sleep 1
    b=$(cut -d. -f1 /proc/uptime)
    [ "$b" -ge $((a + 1)) ]
}
check "sleep 1 and /proc/uptime advance" timers

echo "smoke: $n checks, $failed failed"
umount /tmp 2>/dev/null
exit $failed
