#!/bin/sh
# check-symbols.sh LD NM OUT BACKEND_H "OBJ..."
# Links the freestanding vam/cpu objects partially into OUT and fails if any
# undefined symbol is not a function declared in backend.h (no libc, no
# libgcc helpers, no memcpy/memset from structure copies).
set -eu
ld=$1 nm=$2 out=$3 backend=$4
shift 4
# shellcheck disable=SC2086  # the object list is one space-separated word
"$ld" -r -o "$out" $*
allowed=$(sed -n 's/.*\b\(be_[a-z_]*\)(.*/\1/p' "$backend" | sort -u)
status=0
for sym in $("$nm" -u "$out" | awk '{print $2}'); do
    if ! printf '%s\n' "$allowed" | grep -qx "$sym"; then
        echo "undefined symbol not from backend.h: $sym"
        status=1
    fi
done
defined=$("$nm" --defined-only "$out" | awk '$2 ~ /[TD]/ {print $3}' | wc -l)
echo "$(basename "$out"): $defined global definitions, undefined: $("$nm" -u "$out" | awk '{print $2}' | tr '\n' ' ')"
exit $status
