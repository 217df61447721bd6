#!/bin/sh
# The kernel-build benchmark inside the reference guest (busybox sh): compile
# the slice of Linux 6.1 in /kbuild (make-kbuild-initramfs.sh) with Debian's
# gcc, as, ld and make, timed by /bench/kbtime. Boot with
#   afterburn_script=/bench/run-kbuild.sh
# Prints BENCH-INFO lines, one "BENCH name=kbuild ..." line (microseconds for
# the whole build) and BENCH-DONE failed=0|1. Exit status 0 only if every
# object and the final slice.o were built.
export PATH=/usr/bin:/bin:/usr/sbin:/sbin
# plain diagnostics on the serial console
export GCC_COLORS=
cd /kbuild/obj || { echo "BENCH-ERROR name=kbuild no /kbuild/obj"; echo "BENCH-DONE failed=1"; exit 1; }
n=$(cat /kbuild/nobjs)
csfile=/sys/devices/system/clocksource/clocksource0/current_clocksource
# as run-bench.sh: let the kernel replace tsc-early by tsc first (at most 5 s)
w=0
while [ "$(cat $csfile 2>/dev/null)" = tsc-early ] && [ $w -lt 5 ]; do sleep 1; w=$((w + 1)); done
cs=$(cat $csfile 2>/dev/null)
echo "BENCH-INFO kernel=$(uname -r) clocksource=${cs:-unknown} kbuild_objects=$n toolchain=$(gcc -dumpfullversion) make=$(make --version | head -n 1 | cut -d' ' -f3)"
# the object directories, as Kbuild creates them before compiling
for o in $(sed -n 's/^OBJS := //p' Makefile); do mkdir -p "${o%/*}"; done
rm -f slice.o
failed=0
if /bench/kbtime kbuild -- make -j1 -s slice.o; then
    built=$(find . -name '*.o' ! -name slice.o | wc -l)
    if [ "$built" -ne "$n" ] || [ ! -s slice.o ]; then
        echo "BENCH-ERROR name=kbuild $built of $n objects built, slice.o $( [ -s slice.o ] && echo present || echo missing)"
        failed=1
    else
        echo "BENCH-INFO name=kbuild objects=$built slice_bytes=$(wc -c < slice.o)"
    fi
else
    echo "BENCH-ERROR name=kbuild make failed"
    failed=1
fi
echo "BENCH-DONE failed=$failed"
[ "$failed" -eq 0 ]
