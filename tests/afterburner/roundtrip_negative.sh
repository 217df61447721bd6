#!/usr/bin/env bash
# ab-roundtrip must fail when the two objects differ in more than padding.
set -euo pipefail
rt=$1 work=$2
mkdir -p "$work"
printf '\tcli\n\tnop\n\tmovq %%rax, %%cr3\n1:\tjmp 1b\n' > "$work/a.s"
printf '\tcli\n\tnopl 0(%%rax)\n\tmovq %%rax, %%cr3\n1:\tjmp 1b\n' > "$work/b.s"   # padding only
printf '\tcli\n\tmovq %%rbx, %%cr3\n1:\tjmp 1b\n' > "$work/c.s"                    # other register
printf '\tcli\n\tmovq %%rax, %%cr3\n\tjmp 1f\n1:\tret\n' > "$work/d.s"             # other target
for x in a b c d; do as --64 -o "$work/$x.o" "$work/$x.s"; done
"$rt" "$work/a.o" "$work/b.o" || { echo "FAIL: padding-only change rejected"; exit 1; }
if "$rt" "$work/a.o" "$work/c.o"; then echo "FAIL: register change not detected"; exit 1; fi
if "$rt" "$work/a.o" "$work/d.o"; then echo "FAIL: branch target change not detected"; exit 1; fi
echo "roundtrip negative checks: OK"
