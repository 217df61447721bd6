#!/bin/sh
# check-freestanding.sh 'OBJ;OBJ;...': every symbol the objects use must be
# defined by one of them.  The VAM links the models without a C library.
set -eu
objs=$(printf '%s' "$1" | tr ';' ' ')
[ -n "$objs" ] || { echo "no objects given" >&2; exit 1; }
for o in $objs; do
	[ -f "$o" ] || { echo "missing object $o (build devmodels_freestanding)" >&2; exit 1; }
done
# shellcheck disable=SC2086
defined=$(nm --defined-only -g $objs | awk 'NF == 3 { print $3 }' | sort -u)
# shellcheck disable=SC2086
undefined=$(nm -u $objs | awk 'NF == 2 && $1 == "U" { print $2 }' | sort -u)
missing=$(printf '%s\n' "$undefined" | grep -vxF -e "$defined" -e '' || true)
if [ -n "$missing" ]; then
	echo "freestanding device models reference external symbols:" >&2
	printf '  %s\n' $missing >&2
	exit 1
fi
echo "$(printf '%s\n' $objs | wc -l) objects, no external references"
