#!/bin/sh
# Runs a command and checks its exit status and output.
#
#   expect.sh STATUS REGEX [REGEX...] -- COMMAND...
#
# Every extended regular expression must match a line of the combined
# stdout and stderr.
set -u
want=$1
shift
res=$(mktemp)
out=$(mktemp)
trap 'rm -f "$res" "$out"' EXIT
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    printf '%s\n' "$1" >>"$res"
    shift
done
shift
"$@" >"$out" 2>&1
status=$?
failed=0
if [ "$status" -ne "$want" ]; then
    echo "FAIL: exit status $status, expected $want"
    failed=1
fi
while IFS= read -r re; do
    if ! grep -Eq -e "$re" "$out"; then
        echo "FAIL: no line matches: $re"
        failed=1
    fi
done <"$res"
echo "---- $*"
cat "$out"
exit $failed
