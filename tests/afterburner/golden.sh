#!/usr/bin/env bash
# Golden rewrite tests: for each golden/NAME.s, the rewrite must equal
# golden/NAME.expected, and the rewritten file must assemble.
# usage: golden.sh AFTERBURN_AS GOLDEN_DIR WORK_DIR   (UPDATE=1 rewrites the goldens)
set -euo pipefail
ab=$1 dir=$2 work=$3
mkdir -p "$work"
fail=0 n=0
for src in "$dir"/*.s; do
  name=$(basename "$src" .s)
  n=$((n + 1))
  # run from the golden dir so the line marker names the file as in the golden
  (cd "$dir" && "$ab" --afterburn-print "$name.s") > "$work/$name.out" 2>/dev/null
  if [ "${UPDATE:-0}" = 1 ]; then cp "$work/$name.out" "$dir/$name.expected"; fi
  if ! diff -u "$dir/$name.expected" "$work/$name.out"; then
    echo "FAIL: $name: rewrite differs from golden"; fail=1; continue
  fi
  if ! "$ab" --64 -o "$work/$name.o" "$src"; then
    echo "FAIL: $name: afterburnt output does not assemble"; fail=1; continue
  fi
done
echo "golden: $n files checked"
exit $fail
