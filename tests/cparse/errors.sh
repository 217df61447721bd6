#!/bin/sh
# What afterburn-cparse refuses or reports:
#   - a file that does not parse: exit 1, clang's error at the original
#     file:line, no output file (not even a temporary one);
#   - unclassified accesses (memcpy of a pte_t array, an address passed to a
#     bit operation as unsigned long *, an atomic builtin, an asm operand, a
#     pointer cast, a struct copy, bit-fields, a 16-byte type): each reported
#     at its file:line, the file written unchanged; with --werror, exit 1 and
#     no output; with --report, the same lines appended to a file;
#   - configuration errors: exit 2 with the configuration's file:line;
#   - input that is not C text.
#
#   errors.sh CPARSE CONFIG TESTDIR WORKDIR
set -u
cparse=$1 conf=$2 dir=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
bad=0
fail() { echo "FAIL: $*"; bad=1; }
expect_line() {   # expect_line FILE REGEX
    grep -Eq -e "$2" "$1" || { fail "no line of $1 matches: $2"; cat "$1"; }
}

cd "$dir" || exit 1

# ---- does not parse ---------------------------------------------------------
gcc -E errors/unparseable.c -o "$work/unparseable.i" || fail "gcc -E"
"$cparse" --config "$conf" -o "$work/unparseable.out.i" "$work/unparseable.i" 2>"$work/unparseable.err"
st=$?
[ "$st" = 1 ] || fail "unparseable: exit status $st, expected 1"
expect_line "$work/unparseable.err" "^errors/unparseable\.c:6:20: error: expected expression$"
expect_line "$work/unparseable.err" "error: afterburn-cparse: 1 error from the C parser; no output written$"
[ -e "$work/unparseable.out.i" ] && fail "unparseable: an output file was written"
ls "$work"/unparseable.out.i.tmp* >/dev/null 2>&1 && fail "unparseable: a temporary file was left"
# to standard output: nothing at all
"$cparse" --config "$conf" "$work/unparseable.i" >"$work/unparseable.stdout" 2>/dev/null
[ -s "$work/unparseable.stdout" ] && fail "unparseable: something was written to standard output"

# ---- unclassified accesses ------------------------------------------------------
gcc -E errors/unclassified.c -o "$work/unclassified.i" || fail "gcc -E"
"$cparse" --config "$conf" --report "$work/report.txt" -o "$work/unclassified.out.i" \
    "$work/unclassified.i" 2>"$work/unclassified.err"
st=$?
[ "$st" = 0 ] || fail "unclassified: exit status $st, expected 0"
u=errors/unclassified\\.c
w="warning: afterburn-cparse:"
expect_line "$work/unclassified.err" "^$u:16:22: $w page-table pte_t object passed to __builtin_memcpy \(in copy_table\); left unannotated$"
expect_line "$work/unclassified.err" "^$u:16:27: $w page-table pte_t object passed to __builtin_memcpy"
expect_line "$work/unclassified.err" "^$u:21:35: $w page-table pteval_t object passed to clear_bit as 'volatile unsigned long \*' \(in wrprotect\)"
expect_line "$work/unclassified.err" "^$u:26:32: $w page-table pteval_t object passed to the atomic builtin __atomic_exchange_n \(in exchange\)"
expect_line "$work/unclassified.err" "^$u:31:39: $w page-table object of type 'pte_t' is an inline-asm operand \(in asm_operand\)"
expect_line "$work/unclassified.err" "^$u:36:26: $w page-table pmd_t object reached through 'unsigned long \*' \(in cast_away\)"
expect_line "$work/unclassified.err" "^$u:42:5: $w copy of 'struct holder', which contains page-table data \(in struct_copy\)"
expect_line "$work/unclassified.err" "^$u:42:10: $w copy of 'struct holder'"
expect_line "$work/unclassified.err" "^$u:47:5: $w page-table bit-field access of type 'unsigned long' \(in bitfield\)"
expect_line "$work/unclassified.err" "^$u:48:12: $w page-table bit-field access"
expect_line "$work/unclassified.err" "^$u:53:5: $w page-table access of type 'pte_pair_t' \(16 bytes\) is not one general-register move \(in wide\)"
expect_line "$work/unclassified.err" "^$u:53:10: $w page-table access of type 'pte_pair_t'"
expect_line "$work/unclassified.err" "^$u:58:39: $w page-table access of type 'pteval_t' in a context the tool does not classify \(GenericSelectionExpr\) \(in generic\)"
n=$(grep -c "$w" "$work/unclassified.err")
[ "$n" = 13 ] || fail "unclassified: $n reports, expected 13"
cmp "$work/unclassified.i" "$work/unclassified.out.i" || fail "unclassified: the file was changed"
[ "$(grep -c ': unclassified: ' "$work/report.txt")" = 13 ] || fail "--report: not 13 lines"
expect_line "$work/report.txt" "^$u:21:35: unclassified: page-table pteval_t object passed to clear_bit"
rm -f "$work/quiet.txt"
"$cparse" --config "$conf" --quiet --report "$work/quiet.txt" -o "$work/quiet.out.i" \
    "$work/unclassified.i" 2>"$work/quiet.err" || fail "--quiet: failed"
[ -s "$work/quiet.err" ] && fail "--quiet: something on stderr"
[ "$(grep -c ': unclassified: ' "$work/quiet.txt")" = 13 ] || fail "--quiet: not 13 report lines"
gcc -std=gnu11 -fpreprocessed -O2 -c "$work/unclassified.out.i" -o "$work/unclassified.o" ||
    fail "unclassified: the output does not compile"

"$cparse" --werror --config "$conf" -o "$work/werror.out.i" "$work/unclassified.i" 2>"$work/werror.err"
st=$?
[ "$st" = 1 ] || fail "--werror: exit status $st, expected 1"
expect_line "$work/werror.err" "^$u:16:22: error: afterburn-cparse: page-table pte_t object passed"
expect_line "$work/werror.err" "error: afterburn-cparse: 13 unclassified accesses \(--werror\); no output written$"
[ -e "$work/werror.out.i" ] && fail "--werror: an output file was written"

# ---- configuration errors -------------------------------------------------------
conf_error() {   # conf_error NAME TEXT REGEX
    printf '%s\n' "$2" >"$work/$1.conf"
    "$cparse" --config "$work/$1.conf" -o "$work/$1.out.i" "$work/unclassified.i" 2>"$work/$1.err"
    st=$?
    [ "$st" = 2 ] || fail "config $1: exit status $st, expected 2"
    expect_line "$work/$1.err" "$3"
}
conf_error directive "# comment
  kind pte_t page-table" "directive\.conf:2: unknown directive 'kind' \(expected type or accessor\)$"
conf_error class "type pte_t pagetable" "class\.conf:1: unknown class 'pagetable' \(expected page-table or device\)$"
conf_error ident "type pte-t page-table" "ident\.conf:1: 'pte-t' is not a C identifier$"
conf_error twice "type pte_t page-table
type pte_t device" "twice\.conf:2: type pte_t is listed twice$"
conf_error accessor "accessor f pt_fetch" "accessor\.conf:1: unknown class or kind 'pt_fetch'"
conf_error words "type struct page-table" "words\.conf:1: expected 'type NAME CLASS' or 'type struct TAG CLASS'$"
conf_error empty "# nothing" "empty\.conf: no 'type' or 'accessor' lines: nothing is sensitive$"
"$cparse" --config "$work/missing.conf" "$work/unclassified.i" 2>"$work/missing.err"
[ $? = 2 ] || fail "missing config: exit status, expected 2"
expect_line "$work/missing.err" "missing\.conf: cannot open: No such file or directory$"
"$cparse" "$work/unclassified.i" 2>"$work/noconf.err"
[ $? = 2 ] || fail "no config: exit status, expected 2"
expect_line "$work/noconf.err" "no configuration \(--config FILE or AFTERBURN_CPARSE_CONFIG\)$"

# ---- input that is not C text ------------------------------------------------------
printf 'int x;\0int y;\n' >"$work/nul.i"
"$cparse" --config "$conf" -o "$work/nul.out.i" "$work/nul.i" 2>"$work/nul.err"
[ $? = 1 ] || fail "NUL byte: exit status, expected 1"
expect_line "$work/nul.err" "the file contains a NUL byte; not C source$"
"$cparse" --config "$conf" "$work/does-not-exist.i" 2>"$work/nofile.err"
[ $? = 2 ] || fail "missing input: exit status, expected 2"
: >"$work/empty.i"
"$cparse" --config "$conf" -o "$work/empty.out.i" "$work/empty.i" || fail "empty input: failed"
[ -f "$work/empty.out.i" ] && [ ! -s "$work/empty.out.i" ] || fail "empty input: output not empty"

# ---- standard input and output ---------------------------------------------------------
gcc -E snippets/compound.c -o "$work/compound.i" || fail "gcc -E"
"$cparse" --config "$conf" - <"$work/compound.i" >"$work/stdin.out.i" || fail "stdin: failed"
"$cparse" --config "$conf" -o "$work/file.out.i" "$work/compound.i" || fail "file: failed"
cmp "$work/stdin.out.i" "$work/file.out.i" || fail "stdin and file outputs differ"

# an output that is not a regular file (a FIFO here, /dev/null in real use) is
# written, never replaced by a rename
mkfifo "$work/fifo" || fail "mkfifo"
cat "$work/fifo" >"$work/fifo.out" &
reader=$!
"$cparse" --config "$conf" -o "$work/fifo" "$work/compound.i" || fail "FIFO output: failed"
wait "$reader"
[ -p "$work/fifo" ] || fail "the FIFO was replaced"
cmp "$work/fifo.out" "$work/file.out.i" || fail "FIFO output differs"

[ "$bad" = 0 ] && echo "ok: errors and reports"
exit $bad
