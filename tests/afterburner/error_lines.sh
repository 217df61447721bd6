#!/usr/bin/env bash
# A statement afterburn-as does not understand reaches `as` verbatim, and
# `as` reports it on the user's line, with sites before and after it.
set -euo pipefail
ab=$1 work=$2
mkdir -p "$work"
cat > "$work/bad.s" <<'ASM'
	cli
	sti ; frobnicate %eax, %ebx
	movq %rax, %cr3

	wrmsr ; mov %ax, %ds ; bogus_op
ASM
if "$ab" --64 -o "$work/bad.o" "$work/bad.s" 2> "$work/err.txt"; then
  echo "FAIL: bad input assembled"; exit 1
fi
cat "$work/err.txt"
grep -q "bad.s:2: Error: no such instruction: \`frobnicate %eax,%ebx'" "$work/err.txt" || { echo "FAIL: line 2 not reported"; exit 1; }
grep -q "bad.s:5: Error: no such instruction: \`bogus_op'" "$work/err.txt" || { echo "FAIL: line 5 not reported"; exit 1; }
[ "$(grep -c Error "$work/err.txt")" = 2 ] || { echo "FAIL: unexpected extra errors"; exit 1; }
echo "error lines: OK"
