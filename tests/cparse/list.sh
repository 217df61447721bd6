#!/bin/sh
# One snippet: preprocess it, rewrite it, and require
#   - the --list of rewritten accesses to equal snippets/NAME.expected,
#   - the same number of lines (no line moves),
#   - the output to compile with -Wall -Wextra -Werror like the input,
#   - every memory site of the object to verify (afterburn-inspect), or no
#     note at all when nothing was rewritten.
#
#   list.sh CPARSE INSPECT CONFIG SNIPPET.c WORKDIR      (UPDATE=1 rewrites the .expected)
set -u
cparse=$1 inspect=$2 conf=$3 src=$4 work=$5
name=$(basename "$src" .c)
dir=$(dirname "$src")
mkdir -p "$work"
fail() { echo "FAIL: $name: $*"; exit 1; }

(cd "$dir" && gcc -E "$name.c" -o "$work/$name.i") || fail "gcc -E"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -c "$work/$name.i" -o "$work/$name.orig.o" ||
    fail "the snippet itself does not compile cleanly"
"$cparse" --config "$conf" -o "$work/$name.out.i" --list "$work/$name.i" \
    >"$work/$name.list" 2>"$work/$name.err" || { cat "$work/$name.err"; fail "afterburn-cparse failed"; }
if [ -s "$work/$name.err" ]; then
    cat "$work/$name.err"
    fail "unexpected diagnostics"
fi
[ "${UPDATE:-0}" = 1 ] && cp "$work/$name.list" "$dir/$name.expected"
diff -u "$dir/$name.expected" "$work/$name.list" || fail "rewrites differ from $name.expected"
[ "$(wc -l <"$work/$name.i")" = "$(wc -l <"$work/$name.out.i")" ] || fail "line count changed"
gcc -std=gnu11 -O2 -Wall -Wextra -Werror -c "$work/$name.out.i" -o "$work/$name.o" ||
    fail "the rewritten file does not compile"
if [ -s "$work/$name.list" ]; then
    "$inspect" --verify "$work/$name.o" || fail "afterburn-inspect --verify"
    "$inspect" --counts "$work/$name.o" | sed -n '/^memory sites by kind/,/total/p'
else
    if readelf -S "$work/$name.o" | grep -q note.afterburn; then
        fail "nothing rewritten, yet the object has .note.afterburn"
    fi
fi
echo "ok: $name: $(wc -l <"$work/$name.list") rewrites"
