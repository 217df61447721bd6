#!/bin/sh
# Checks that a relocatable object and the files linked from it have the
# same sites: afterburn-inspect --list of each, with the address column
# dropped (it is a section offset in the object, an address once linked),
# must agree row for row on section, symbol+offset, lengths, kind, mode and
# instruction.  Each file must also pass --verify.
#
#   same-sites.sh INSPECT FILE FILE...
set -u

inspect=$1
shift
first=
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
for f in "$@"; do
    i=$((i + 1))
    if ! "$inspect" --verify --list "$f" >"$tmp/raw$i"; then
        echo "FAIL: $f does not verify:"
        cat "$tmp/raw$i"
        exit 1
    fi
    # Rows start with the address; drop it and the header line.
    sed -n 's/^0x[0-9a-f]*  *//p' "$tmp/raw$i" | sort >"$tmp/rows$i"
    if [ ! -s "$tmp/rows$i" ]; then
        echo "FAIL: $f lists no sites"
        exit 1
    fi
    if [ -z "$first" ]; then
        first=$f
    elif ! diff -u "$tmp/rows1" "$tmp/rows$i"; then
        echo "FAIL: sites of $f differ from those of $first"
        exit 1
    fi
done
echo "ok: $(wc -l <"$tmp/rows1") identical site rows in $*"
