#!/bin/sh
# Runs a command that prints a JSON document, checks its exit status, that
# the output is valid JSON, and that the jq expression is true for it.
#
#   json-check.sh JQ STATUS EXPRESSION -- COMMAND...
set -u

jq=$1
want_status=$2
expr=$3
shift 3
[ "$1" = "--" ] && shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$@" >"$out"
status=$?
if [ "$status" -ne "$want_status" ]; then
    echo "FAIL: exit status $status, expected $want_status"
    cat "$out"
    exit 1
fi
if ! "$jq" -e "$expr" "$out" >/dev/null; then
    echo "FAIL: not true for the output: $expr"
    cat "$out"
    exit 1
fi
echo "ok: $expr"
