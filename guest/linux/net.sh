#!/bin/sh
# The network workload of the reference guest (afterburn_script=/net.sh in
# the initramfs of guest/linux/make-net-initramfs.sh): brings eth0 up, gets
# its address from QEMU's user-mode network by DHCP (10.0.2.15, gateway
# 10.0.2.2), pings the gateway, then serves iperf3 for the host
# (tests/net/run-net.sh) once per run it announces.  Lines start "net: ";
# "net: FAIL ..." marks a failure and the exit status counts them.
#
# Parameters (kernel command line, see /init):
#   afterburn_net_runs=N   iperf3 runs to serve (default 2: send, receive)
failed=0
fail() { echo "net: FAIL $*"; failed=$((failed + 1)); }

mount -t tmpfs tmpfs /tmp || fail "mount tmpfs on /tmp"
dev=eth0
if [ ! -d /sys/class/net/$dev ]; then
    fail "no $dev (interfaces: $(ls /sys/class/net | tr '\n' ' '))"
    exit 1
fi
drv=$(basename "$(readlink /sys/class/net/$dev/device/driver)")
ip link set lo up
ip link set $dev up || fail "link up on $dev"
echo "net: up $dev driver $drv mac $(cat /sys/class/net/$dev/address)"

# the address from QEMU's DHCP server (10.0.2.15, which the host's port is
# forwarded to): broadcast out and in through the NIC
cat > /tmp/dhcp.sh <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
ip route add default via "${router%% *}"
echo "net: dhcp $ip router ${router%% *}"
SCRIPT
chmod +x /tmp/dhcp.sh
if ! udhcpc -i $dev -n -q -f -t 10 -T 2 -s /tmp/dhcp.sh > /tmp/dhcp.out 2>&1; then
    fail "DHCP on $dev"
    sed 's/^/net:   /' /tmp/dhcp.out
fi
grep -a '^net: dhcp' /tmp/dhcp.out
ip -4 addr show dev $dev | grep -q 'inet 10\.0\.2\.15/' || fail "address 10.0.2.15 on $dev"

# the link may need a moment (autonegotiation): up to 10 tries
i=0
while [ $i -lt 10 ] && ! ping -c 1 -W 2 10.0.2.2 > /tmp/ping.out 2>&1; do
    i=$((i + 1))
done
if ping -c 3 -W 5 10.0.2.2 > /tmp/ping.out 2>&1; then
    echo "net: ok ping $(grep -a 'packets transmitted' /tmp/ping.out)"
else
    fail "ping 10.0.2.2"
    sed 's/^/net:   /' /tmp/ping.out
fi

# CPU ticks from /proc/stat: busy (all but idle and iowait) and total
cpu_ticks() {
    read -r _ u n s idle io irq sirq steal _ < /proc/stat
    echo "$((u + n + s + irq + sirq + steal)) $((u + n + s + idle + io + irq + sirq + steal))"
}

runs=${afterburn_net_runs:-2}
r=1
while [ $r -le "$runs" ]; do
    echo "net: iperf3 server ready (run $r of $runs)"
    set -- $(cpu_ticks)
    b0=$1 t0=$2
    iperf3 -s -1 > /tmp/iperf3.out 2>&1 || { fail "iperf3 server run $r"; sed 's/^/net:   /' /tmp/iperf3.out; }
    set -- $(cpu_ticks)
    echo "net: run $r guest cpu busy $(($1 - b0)) of $(($2 - t0)) ticks"
    grep -a -E 'receiver|sender' /tmp/iperf3.out | sed 's/^/net:   /'
    r=$((r + 1))
done
grep -a "$dev" /proc/net/dev | sed 's/^ */net: counters /'
grep -a -E "$drv|$dev" /proc/interrupts | sed 's/^ */net: interrupts /'
echo "net: $failed failed"
exit $failed
