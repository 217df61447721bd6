#!/bin/sh
# The gcc hook: <dir>/cc1 (afterburn-cc1) and <dir>/as (afterburn-as) under
# gcc -B<dir>/ -no-integrated-cpp.
#   - optional: libexec/afterburn/ is unchanged (as only), and without
#     -no-integrated-cpp, or with AFTERBURN_CPARSE_DISABLE=1, or for -E, or
#     for -m32, the wrapper passes everything to the real cc1 (same output);
#   - the rewrite happens for files, standard input and .i files;
#   - failures propagate: #error, a file clang cannot parse, a gcc error
#     after a successful rewrite, a missing real cc1; AFTERBURN_CPARSE_ON_ERROR=pass
#     compiles an unparseable file unchanged;
#   - temporary files: none left in TMPDIR, success or failure.
#
#   hook.sh CPARSE_GCC_DIR AFTERBURN_GCC_DIR INSPECT CONFIG TESTDIR WORKDIR
set -u
gccdir=$1 asdir=$2 inspect=$3 conf=$4 dir=$5 work=$6
rm -rf "$work"
mkdir -p "$work/tmp" "$work/save"
export TMPDIR=$work/tmp
export AFTERBURN_CPARSE_CONFIG=$conf
bad=0
fail() { echo "FAIL: $*"; bad=1; }
hook() { gcc -B"$gccdir/" -no-integrated-cpp "$@"; }
has_memsites() { readelf -n "$1" 2>/dev/null | grep -q "0x41420002"; }
cd "$dir" || exit 1

# ---- optional, pass-through --------------------------------------------------------
[ "$(ls "$asdir")" = "as" ] || fail "libexec/afterburn/ holds more than 'as': $(ls "$asdir")"
[ -x "$gccdir/cc1" ] && [ -x "$gccdir/as" ] || fail "$gccdir lacks cc1 or as"

gcc -O2 -c snippets/compound.c -o "$work/plain.o" || fail "plain gcc"
gcc -B"$gccdir/" -O2 -c snippets/compound.c -o "$work/integrated.o" || fail "integrated cpp"
cmp "$work/plain.o" "$work/integrated.o" || fail "without -no-integrated-cpp the object differs"
gcc -B"$asdir/" -O2 -c snippets/compound.c -o "$work/as-only.o" || fail "afterburn-as path"
cmp "$work/plain.o" "$work/as-only.o" || fail "the afterburn-as path changed the object"

gcc -no-integrated-cpp -O2 -c snippets/compound.c -o "$work/nocpp.o" || fail "gcc -no-integrated-cpp"
AFTERBURN_CPARSE_DISABLE=1 hook -O2 -c snippets/compound.c -o "$work/disabled.o" || fail "disabled"
cmp "$work/nocpp.o" "$work/disabled.o" || fail "AFTERBURN_CPARSE_DISABLE=1: the object differs"

gcc -E snippets/compound.c -o "$work/plain.i" || fail "gcc -E"
hook -E snippets/compound.c -o "$work/hook.i" || fail "hook -E"
cmp "$work/plain.i" "$work/hook.i" || fail "-E output differs"

if gcc -m32 -c -x c /dev/null -o /dev/null 2>/dev/null; then
    hook -m32 -O2 -c snippets/compound.c -o "$work/m32.o" || fail "-m32"
    has_memsites "$work/m32.o" && fail "-m32: memory sites in 32-bit code"
else
    echo "note: no -m32 support in gcc, that check is skipped"
fi

# ---- the rewrite -----------------------------------------------------------------
hook -O2 -c snippets/compound.c -o "$work/hook.o" || fail "hook"
has_memsites "$work/hook.o" || fail "hook: no memory sites"
"$inspect" --verify "$work/hook.o" || fail "hook: afterburn-inspect --verify"
hook -O2 -Isnippets -c -x c - -o "$work/stdin.o" <snippets/compound.c 2>"$work/stdin.err" ||
    { cat "$work/stdin.err"; fail "standard input"; }
has_memsites "$work/stdin.o" || fail "standard input: no memory sites"
gcc -B"$gccdir/" -O2 -c -x cpp-output - -o "$work/stdin-i.o" <"$work/plain.i" ||
    fail "preprocessed standard input"
has_memsites "$work/stdin-i.o" || fail "preprocessed standard input: no memory sites"
gcc -B"$gccdir/" -O2 -c "$work/plain.i" -o "$work/dot-i.o" || fail ".i file"
has_memsites "$work/dot-i.o" || fail ".i file: no memory sites"
AFTERBURN_CPARSE_SAVE_DIR=$work/save hook -O2 -c snippets/compound.c -o "$work/saved.o" ||
    fail "AFTERBURN_CPARSE_SAVE_DIR"
[ "$(ls "$work/save" | wc -l)" = 1 ] || fail "AFTERBURN_CPARSE_SAVE_DIR: no copy kept"
grep -q "__ab_p1 = &(" "$work/save"/* || fail "AFTERBURN_CPARSE_SAVE_DIR: the copy is not the rewrite"
AFTERBURN_CPARSE_STATS=1 hook -O2 -c snippets/compound.c -o "$work/stats.o" 2>"$work/stats.err" ||
    fail "AFTERBURN_CPARSE_STATS"
grep -q "^afterburn-cparse: snippets/compound.c: 3 functions, 15 accesses rewritten" "$work/stats.err" ||
    { cat "$work/stats.err"; fail "AFTERBURN_CPARSE_STATS: no counts"; }

# ---- failures propagate ------------------------------------------------------------
printf '#error boom\n' >"$work/error.c"
hook -c "$work/error.c" -o "$work/error.o" 2>"$work/error.err" && fail "#error: gcc succeeded"
grep -q "#error boom" "$work/error.err" || fail "#error: message lost"

hook -c errors/unparseable.c -o "$work/unparseable.o" 2>"$work/unparseable.err" &&
    fail "unparseable: gcc succeeded"
grep -q "^errors/unparseable.c:6:20: error: expected expression$" "$work/unparseable.err" ||
    { cat "$work/unparseable.err"; fail "unparseable: no file:line error"; }
grep -q "^afterburn-cc1: afterburn-cparse failed on " "$work/unparseable.err" ||
    fail "unparseable: the wrapper does not say so"
[ -e "$work/unparseable.o" ] && fail "unparseable: an object was written"

# gcc accepts nested functions, clang does not
printf 'int outer(int x) { int inner(int y) { return y + 1; } return inner(x); }\n' >"$work/nested.c"
hook -c "$work/nested.c" -o "$work/nested.o" 2>/dev/null && fail "nested function: gcc succeeded"
AFTERBURN_CPARSE_ON_ERROR=pass hook -c "$work/nested.c" -o "$work/nested.o" 2>"$work/nested.err" ||
    fail "AFTERBURN_CPARSE_ON_ERROR=pass: gcc failed"
grep -q "compiled without afterburn-cparse" "$work/nested.err" ||
    fail "AFTERBURN_CPARSE_ON_ERROR=pass: no warning"

# clang is content, gcc is not: cc1's status comes through
printf 'int f(void) { int unused; return 0; }\n' >"$work/unused.c"
hook -Werror=unused-variable -c "$work/unused.c" -o "$work/unused.o" 2>"$work/unused.err" &&
    fail "gcc error after the rewrite: gcc succeeded"
grep -q "unused variable" "$work/unused.err" || fail "gcc error after the rewrite: message lost"

AFTERBURN_REAL_CC1=/nonexistent/cc1 hook -c snippets/compound.c -o "$work/nocc1.o" 2>"$work/nocc1.err" &&
    fail "missing real cc1: gcc succeeded"
grep -q "cannot run /nonexistent/cc1" "$work/nocc1.err" || fail "missing real cc1: no message"
AFTERBURN_REAL_CC1=$gccdir/cc1 hook -c snippets/compound.c -o "$work/self.o" 2>"$work/self.err" &&
    fail "the wrapper as the real cc1: gcc succeeded"
grep -q "is this wrapper" "$work/self.err" || fail "the wrapper as the real cc1: no message"

# ---- nothing left behind ------------------------------------------------------------
left=$(ls -A "$work/tmp")
[ -z "$left" ] || fail "temporary files left in TMPDIR: $left"

[ "$bad" = 0 ] && echo "ok: the gcc hook"
exit $bad
