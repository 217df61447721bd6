#!/usr/bin/env bash
# Boots every test guest twice from the same ELF file: natively (QEMU loads
# it through its PVH note) and under the VAM on Xen (Xen under QEMU, the VAM
# as dom0, the guest as its module), and prints one table: the file's
# sha256, its annotation sites, each platform's result and the time from
# starting QEMU to the guest's result line.
#
# usage: scripts/guests-both.sh [BUILD_DIR]     (default: build/ in the checkout)
# Exit status 0 when every guest passed on both platforms.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${BUILD_DIR:-$root/build}}
guests=$build/tests/guests/bin
vam=$build/bin/vam-xen.elf
inspect=$build/bin/afterburn-inspect
run=$root/tests/guests/run-guest.sh
logs=$build/tests/guests/logs/both
[ -d "$guests" ] || { echo "guests-both: no test guests in $guests: build first" >&2; exit 1; }
[ -f "$vam" ] || { echo "guests-both: no $vam: build first" >&2; exit 1; }
mkdir -p "$logs"

# "SUCCESS (1.68 s, result line after 1.26 s, ...)" -> "SUCCESS 1.26 s"
summary() {
  local line=$1 verdict t
  verdict=$(sed -n 's/^run-guest.sh: [^:]*: \([A-Z]*\).*/\1/p' <<< "$line")
  t=$(sed -n 's/.*result line after \([0-9.]*\) s.*/\1/p' <<< "$line")
  [ -n "$t" ] || t=$(sed -n 's/.*(\([0-9.]*\) s,.*/\1/p' <<< "$line")
  printf '%s %s s' "${verdict:-?}" "${t:-?}"
}

status=0
printf '%-13s %-16s %6s  %-16s %-16s %s\n' guest sha256 sites native "VAM on Xen" "(in the guest)"
for elf in "$guests"/*.elf; do
  name=$(basename "$elf" .elf)
  sum=$(sha256sum "$elf" | cut -c1-16)
  sites=$("$inspect" --counts "$elf" 2>/dev/null | awk '$1 == "total" { print $2; exit }')
  n=$(bash "$run" --platform native --timeout 60 --log "$logs/$name.native.log" "$elf" 2>&1 | tail -n1)
  [[ $n == *": SUCCESS "* ]] || status=1
  x=$(bash "$run" --platform xen --vam "$vam" --timeout 90 --log "$logs/$name.xen.log" "$elf" 2>&1 | tail -n1)
  [[ $x == *": SUCCESS "* ]] || status=1
  # the file must be the same one after both boots
  [ "$(sha256sum "$elf" | cut -c1-16)" = "$sum" ] || { echo "guests-both: $elf changed" >&2; status=1; }
  # the VAM's own clock: from entering the guest to its exit-port write
  inguest=$(tr -d '\r' < "$logs/$name.xen.log" | sed -n 's/^VAM: guest wrote .* after \([0-9]*\) ms.*/\1 ms/p')
  printf '%-13s %-16s %6s  %-16s %-16s %s\n' "$name" "$sum" "${sites:-?}" "$(summary "$n")" \
    "$(summary "$x")" "${inguest:-?}"
done
echo "(sha256: first 16 hex digits; times: QEMU start to the result line, which on Xen includes"
echo " booting Xen; in the guest: the VAM's clock from entering the guest to its exit; logs in $logs)"
exit $status
