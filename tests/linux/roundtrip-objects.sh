#!/usr/bin/env bash
# Round trip over a whole kernel build: every object file of the afterburnt
# build must have the same instruction stream as the native build's object
# once padding is removed (ab-roundtrip), and at least one must differ in
# bytes (so the afterburner really ran).
# usage: roundtrip-objects.sh AB_ROUNDTRIP NATIVE_OBJ_DIR AFTERBURNT_OBJ_DIR
set -euo pipefail
rt=$1 native=$2 ab=$3
[ -d "$native" ] && [ -d "$ab" ] || { echo "roundtrip-objects: missing build dir" >&2; exit 1; }
# Host tools (tools/, scripts/) are not built with the afterburner.  The
# real-mode trampoline (arch/x86/realmode/rm/) mixes .code16/.code32 in
# 32-bit objects, which ab-roundtrip cannot decode without mode information;
# it is copied to low memory at run time and never executed by a VAM (which
# enters the 64-bit entry point), and afterburn-inspect checks its sites in
# the right mode from the mode markers.
mapfile -t objs < <(cd "$ab" && find . -name '*.o' -not -path './tools/*' -not -path './scripts/*' \
                      -not -path './arch/x86/realmode/rm/*' | sort)
skipped=$(cd "$ab" && find ./arch/x86/realmode/rm -name '*.o' 2>/dev/null | wc -l)
echo "roundtrip-objects: skipping $skipped real-mode objects (arch/x86/realmode/rm)"
[ ${#objs[@]} -gt 0 ] || { echo "roundtrip-objects: no objects in $ab" >&2; exit 1; }
pairs=() changed=0 missing=0
for o in "${objs[@]}"; do
  if [ ! -f "$native/$o" ]; then
    echo "roundtrip-objects: $o exists only in the afterburnt build" >&2; missing=$((missing + 1)); continue
  fi
  cmp -s "$native/$o" "$ab/$o" || changed=$((changed + 1))
  pairs+=("$native/$o" "$ab/$o")
done
echo "roundtrip-objects: ${#objs[@]} objects, $changed changed by the afterburner, $missing unmatched"
[ "$missing" -eq 0 ] || exit 1
[ "$changed" -gt 0 ] || { echo "roundtrip-objects: no object differs: afterburn-as did not run?" >&2; exit 1; }
printf '%s\n' "${pairs[@]}" | xargs -d '\n' -n 200 "$rt"
