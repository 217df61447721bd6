#!/bin/sh
# Runs a command and checks its exit status and output.
#
#   check.sh STATUS [--expect REGEX]... [--reject REGEX]... [--lines REGEX N]... -- COMMAND...
#
# STATUS is the required exit status.  Each --expect extended regular
# expression must match a line of the combined stdout and stderr, each
# --reject must match none, and each --lines must match exactly N lines.
set -u

want_status=$1
shift
expects=$(mktemp)
rejects=$(mktemp)
counts=$(mktemp)
out=$(mktemp)
trap 'rm -f "$expects" "$rejects" "$counts" "$out"' EXIT

while [ $# -gt 0 ]; do
    case $1 in
    --expect) printf '%s\n' "$2" >>"$expects"; shift 2 ;;
    --reject) printf '%s\n' "$2" >>"$rejects"; shift 2 ;;
    --lines) printf '%s\t%s\n' "$3" "$2" >>"$counts"; shift 3 ;;
    --) shift; break ;;
    *) echo "check.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

"$@" >"$out" 2>&1
status=$?
failed=0

if [ "$status" -ne "$want_status" ]; then
    echo "FAIL: exit status $status, expected $want_status"
    failed=1
fi
while IFS= read -r re; do
    if ! grep -Eq -e "$re" "$out"; then
        echo "FAIL: no line matches: $re"
        failed=1
    fi
done <"$expects"
while IFS= read -r re; do
    if grep -Eq -e "$re" "$out"; then
        echo "FAIL: a line matches the rejected: $re"
        failed=1
    fi
done <"$rejects"
while IFS="$(printf '\t')" read -r n re; do
    got=$(grep -Ec -e "$re" "$out")
    if [ "$got" -ne "$n" ]; then
        echo "FAIL: $got lines match, expected $n: $re"
        failed=1
    fi
done <"$counts"

if [ "$failed" -ne 0 ]; then
    echo "---- command: $*"
    echo "---- output:"
    cat "$out"
    exit 1
fi
echo "ok: $*"
exit 0
