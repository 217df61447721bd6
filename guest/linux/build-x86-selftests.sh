#!/usr/bin/env bash
# Build the kernel tree's own x86 selftests (tools/testing/selftests/x86),
# 64-bit only and statically linked, for the reference guest's initramfs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=$(basename "$0")

usage() {
  cat <<EOF
Usage: $PROG [options]

Builds the 64-bit x86 selftests of the extracted kernel tree (the one
$HERE/build-kernel.sh uses) with the host gcc, statically linked, through
the selftests' own Makefile:
  1. the tree's UAPI headers: make -C SRC O=OUT/khdr ARCH=x86 headers
  2. each <test>_64 of the Makefile's 64-bit list (TARGETS_C_64BIT_ALL, as the
     Makefile computes it on this host), one make run per test:
       make -C SRC/tools/testing/selftests/x86 OUTPUT=OUT/build CC='gcc -static'
            KHDR_INCLUDES='-isystem OUT/khdr/usr/include' OUT/build/<test>_64
  3. the tests the Makefile builds as 64-bit only when it can also build
     32-bit programs (TARGETS_C_32BIT_NEEDED: ldt_gdt, ptrace_syscall), with
     the Makefile's own 64-bit recipe (they need IA32 emulation at run time)
  4. stripped copies of the binaries that built into OUT/bin/
A test that does not build is listed and skipped; the script fails only if
none builds. Without -DCAN_BUILD_32 (no 32-bit toolchain here, and the guest
kernel has no IA32 emulation), the 64-bit tests leave out their int \$0x80
parts, as they do on any host without gcc-multilib.

Options:
  -w, --work-dir D   work directory of build-kernel.sh (default: ./build/linux)
  --src-dir D        extracted kernel tree (default: <work-dir>/src)
  -o, --out-dir D    output directory (default: <work-dir>/x86-selftests)
  --cc CC            compiler (default: gcc)
  -j N               parallel jobs (default: nproc = $(nproc))
  --initramfs F      then also write an initramfs F (make-initramfs.sh) with
                     the runner $HERE/x86-selftests.sh as
                     /x86-selftests.sh and each built test as /selftests/<test>_64
  -h, --help         this help

Run them in the guest with afterburn_script=/x86-selftests.sh on the kernel
command line (see x86-selftests.sh for x86_selftests_skip= and the others).

Results in OUT: bin/<test>_64 (stripped, for the initramfs), build/ (with
debug info), build/<test>_64.log, tests.txt (the names that built, one a
line), failed.txt (the ones that did not).
EOF
}

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*"; }

work_dir="build/linux"
src_dir=""
out_dir=""
cc=gcc
jobs=$(nproc)
initramfs=""
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "option $1 needs an argument (see -h)"; }
while [ $# -gt 0 ]; do
  case $1 in
    -w|--work-dir) need_arg "$@"; work_dir=$2; shift 2 ;;
    --src-dir)     need_arg "$@"; src_dir=$2; shift 2 ;;
    -o|--out-dir)  need_arg "$@"; out_dir=$2; shift 2 ;;
    --cc)          need_arg "$@"; cc=$2; shift 2 ;;
    -j)            need_arg "$@"; jobs=$2; shift 2 ;;
    -j*)           jobs=${1#-j}; shift ;;
    --initramfs)   need_arg "$@"; initramfs=$2; shift 2 ;;
    -h|--help)     usage; exit 0 ;;
    *)             die "unknown argument '$1' (see -h)" ;;
  esac
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "-j needs a positive number, got '$jobs'"
for tool in make strip "${cc%% *}"; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (run scripts/setup-deps.sh)"
done

[ -n "$src_dir" ] || src_dir="$work_dir/src"
[ -n "$out_dir" ] || out_dir="$work_dir/x86-selftests"
[ -f "$src_dir/Makefile" ] ||
  die "no kernel tree in '$src_dir' (build-kernel.sh extracts it: run it first, or pass --src-dir)"
src_dir=$(cd "$src_dir" && pwd)
st_dir="$src_dir/tools/testing/selftests/x86"
[ -f "$st_dir/Makefile" ] || die "no x86 selftests in '$st_dir'"
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
case $out_dir in *[[:space:]]*) die "output path must not contain whitespace: '$out_dir'" ;; esac

# Is the static C library there? Say so plainly instead of 20 link errors.
probe=$(mktemp "${TMPDIR:-/tmp}/x86-selftests-probe.XXXXXX")
trap 'rm -f "$probe" "$probe.c"' EXIT
printf 'int main(void) { return 0; }\n' > "$probe.c"
$cc -static -o "$probe" "$probe.c" 2>/dev/null ||
  die "'$cc -static' cannot link a trivial program (static libc missing? install libc6-dev)"

t0=$(date +%s)

# ---- 1. UAPI headers of the same tree ------------------------------------
khdr="$out_dir/khdr"
log "[1/3] UAPI headers: make -C $src_dir O=$khdr ARCH=x86 headers"
mkdir -p "$khdr"
make -s -C "$src_dir" O="$khdr" ARCH=x86 headers > "$out_dir/headers.log" 2>&1 ||
  { tail -n 20 "$out_dir/headers.log" >&2; die "make headers failed (log: $out_dir/headers.log)"; }
[ -f "$khdr/usr/include/asm/unistd_64.h" ] || die "make headers produced no $khdr/usr/include/asm/unistd_64.h"

# ---- 2./3. The tests -------------------------------------------------------
bld="$out_dir/build"
mkdir -p "$bld"
# A second makefile read after the selftests' own: prints its variables and,
# when the Makefile itself has no rule for them (no 32-bit toolchain), gives
# the 32BIT_NEEDED tests the Makefile's 64-bit recipe.
extra_mk="$out_dir/extra.mk"
cat > "$extra_mk" <<'EOF'
print-%:
	@echo $($*)
ifneq ($(CAN_BUILD_I386)$(CAN_BUILD_X86_64),11)
$(TARGETS_C_32BIT_NEEDED:%=$(OUTPUT)/%_64): $(OUTPUT)/%_64: %.c helpers.h
	$(CC) -m64 -o $@ $(CFLAGS) $(EXTRA_CFLAGS) $^ -lrt -ldl
endif
EOF
mk=(make -C "$st_dir" -f Makefile -f "$extra_mk" --no-print-directory
    OUTPUT="$bld" CC="$cc -static" KHDR_INCLUDES="-isystem $khdr/usr/include")
var() { "${mk[@]}" -s "print-$1"; }
[ "$(var CAN_BUILD_X86_64)" = 1 ] || die "the selftests' Makefile says '$cc' cannot build 64-bit programs (check_cc.sh)"
main_tests=$(var TARGETS_C_64BIT_ALL)
needed=$(var TARGETS_C_32BIT_NEEDED)
extra_tests=""
for t in $needed; do
  case " $main_tests " in *" $t "*) ;; *) extra_tests="$extra_tests $t" ;; esac
done
tests=$(echo $main_tests $extra_tests)
ntests=$(echo $tests | wc -w)
[ "$ntests" -gt 0 ] || die "the selftests' Makefile lists no 64-bit tests"
log "[2/3] $ntests tests (Makefile 64-bit list: $(echo $main_tests | wc -w); 32BIT_NEEDED added:${extra_tests:- none})"

# One make per test, $jobs at a time, each with its own log.
build_one() { # $1 = test
  local t=$1 rc=0
  rm -f "$bld/${t}_64"
  "${mk[@]}" "$bld/${t}_64" > "$bld/${t}_64.log" 2>&1 || rc=$?
  if [ $rc -eq 0 ] && [ -x "$bld/${t}_64" ]; then echo "$PROG:   built  ${t}_64"
  else echo "$PROG:   FAILED ${t}_64 (exit $rc, log: $bld/${t}_64.log)"; fi
}
running=0
for t in $tests; do
  build_one "$t" &
  running=$((running + 1))
  if [ $running -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait

# ---- 4. Stripped copies ----------------------------------------------------
log "[3/3] installing stripped binaries into $out_dir/bin"
rm -rf "$out_dir/bin"
mkdir -p "$out_dir/bin"
: > "$out_dir/tests.txt"
: > "$out_dir/failed.txt"
for t in $tests; do
  if [ -x "$bld/${t}_64" ]; then
    if readelf -l "$bld/${t}_64" 2>/dev/null | grep -q 'Requesting program interpreter'; then
      echo "$PROG:   ${t}_64 is dynamically linked; not installed" >&2
      echo "${t}_64" >> "$out_dir/failed.txt"
      continue
    fi
    strip -o "$out_dir/bin/${t}_64" "$bld/${t}_64"
    echo "${t}_64" >> "$out_dir/tests.txt"
  else
    echo "${t}_64" >> "$out_dir/failed.txt"
  fi
done
nok=$(wc -l < "$out_dir/tests.txt")
nbad=$(wc -l < "$out_dir/failed.txt")
if [ "$nbad" -gt 0 ]; then
  log "did not build ($nbad), skipped: $(echo $(cat "$out_dir/failed.txt"))"
  for t in $(cat "$out_dir/failed.txt"); do
    [ -f "$bld/$t.log" ] || continue
    echo "----- $bld/$t.log (last lines) -----" >&2
    grep -E -i 'error|undefined' "$bld/$t.log" | head -n 5 >&2 || tail -n 5 "$bld/$t.log" >&2
  done
fi
[ "$nok" -gt 0 ] || die "no test built"
log "$nok of $ntests tests built in $(( $(date +%s) - t0 )) s: $out_dir/bin ($(du -sk "$out_dir/bin" | cut -f1) KiB)"

# ---- Optional initramfs ----------------------------------------------------
if [ -n "$initramfs" ]; then
  adds=(--add "$HERE/x86-selftests.sh:/x86-selftests.sh")
  for t in $(cat "$out_dir/tests.txt"); do
    adds+=(--add "$out_dir/bin/$t:/selftests/$t")
  done
  log "initramfs: $initramfs (runner /x86-selftests.sh, $nok tests in /selftests)"
  mk_out=$(bash "$HERE/make-initramfs.sh" -o "$initramfs" "${adds[@]}" 2>&1) ||
    { echo "$mk_out" >&2; die "make-initramfs.sh failed"; }
  echo "$mk_out" | grep -v ': added ' || true
fi
