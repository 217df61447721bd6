#!/usr/bin/env bash
# Build the reference Linux 6.1 guest (vmlinux) out of tree, natively or
# with every assembler run going through afterburn-as.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=$(basename "$0")

usage() {
  cat <<EOF
Usage: $PROG --variant native|afterburnt|annotated|paravirt [options]

Extracts Debian's linux-source-6.1 once into a cache directory, derives the
kernel config (make tinyconfig + $HERE/afterburn.config, every
fragment symbol verified), and builds vmlinux out of tree in
<work-dir>/<variant>/.

Both variants use the same source tree and the same reference config
(<work-dir>/config/.config, generated with plain gcc); a variant whose config
comes out different under its compiler is an error.

Options:
  --variant V        native      CC=gcc
                     afterburnt  CC="gcc -B<as-dir>/" (needs --as-dir)
                     annotated   CC="gcc -B<as-dir>/ -no-integrated-cpp" with
                                 --as-dir holding 'as' and 'cc1' (e.g.
                                 <cmake-build>/libexec/afterburn-cparse):
                                 afterburn-as plus afterburn-cparse's memory
                                 sites; its unclassified accesses go to
                                 <work-dir>/annotated/cparse-report.txt, the
                                 rewritten ones to cparse-list.txt
                     paravirt    CC=gcc, the reference config plus the Xen
                                 PV dom0 options of --pv-config (Linux's own
                                 para-virtualization, the thesis's XenoLinux);
                                 its config lives in <work-dir>/config-paravirt/
  --as-dir DIR       directory holding the executable 'as' that gcc runs
                     (e.g. <cmake-build>/libexec/afterburn)
  -w, --work-dir D   work directory (default: ./build/linux)
  --src-dir D        extracted kernel source cache (default: <work-dir>/src)
  --tarball F        kernel tarball (default: /usr/src/linux-source-6.1.tar.xz)
  --config F         config fragment (default: $HERE/afterburn.config)
  --pv-config F      paravirt fragment (default: $HERE/paravirt.config)
  -j N               parallel jobs (default: nproc = $(nproc))
  --clean            remove <work-dir>/<variant> first (full rebuild)
  -h, --help         this help

The afterburnt build is wiped and redone automatically when the assembler
(sha256 of the resolved <as-dir>/as) or the compiler changed since the last
build; use --clean if afterburn-as depends on other changed files.

Results in <work-dir>/<variant>/:
  vmlinux, build.log, build-seconds (wall seconds of this run's make vmlinux
  step; an up-to-date tree takes ~2 s, use --clean to time a full build),
  vmlinux.sha256 (sha256sum output)

The build is made reproducible (fixed KBUILD_BUILD_TIMESTAMP/USER/HOST/VERSION),
so a pass-through assembler yields a vmlinux identical to the native one.
EOF
}

die() { echo "$PROG: error: $*" >&2; exit 1; }
log() { echo "$PROG: $*"; }

variant=""
as_dir=""
work_dir="build/linux"
src_dir=""
tarball="/usr/src/linux-source-6.1.tar.xz"
fragment="$HERE/afterburn.config"
pv_fragment="$HERE/paravirt.config"
jobs=$(nproc)
clean=0

need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "option $1 needs an argument (see -h)"; }
while [ $# -gt 0 ]; do
  case $1 in
    --variant)     need_arg "$@"; variant=$2; shift 2 ;;
    --variant=*)   variant=${1#*=}; shift ;;
    --as-dir)      need_arg "$@"; as_dir=$2; shift 2 ;;
    --as-dir=*)    as_dir=${1#*=}; shift ;;
    -w|--work-dir) need_arg "$@"; work_dir=$2; shift 2 ;;
    --work-dir=*)  work_dir=${1#*=}; shift ;;
    --src-dir)     need_arg "$@"; src_dir=$2; shift 2 ;;
    --src-dir=*)   src_dir=${1#*=}; shift ;;
    --tarball)     need_arg "$@"; tarball=$2; shift 2 ;;
    --tarball=*)   tarball=${1#*=}; shift ;;
    --config)      need_arg "$@"; fragment=$2; shift 2 ;;
    --config=*)    fragment=${1#*=}; shift ;;
    --pv-config)   need_arg "$@"; pv_fragment=$2; shift 2 ;;
    --pv-config=*) pv_fragment=${1#*=}; shift ;;
    -j)            need_arg "$@"; jobs=$2; shift 2 ;;
    -j*)           jobs=${1#-j}; shift ;;
    --clean)       clean=1; shift ;;
    -h|--help)     usage; exit 0 ;;
    *)             die "unknown argument '$1' (see -h)" ;;
  esac
done

# ---- Arguments -------------------------------------------------------------
case $variant in
  native|paravirt)
    [ -z "$as_dir" ] || die "--as-dir is only for --variant afterburnt or annotated"
    ;;
  afterburnt|annotated)
    [ -n "$as_dir" ] || die "--variant $variant needs --as-dir DIR (the directory holding afterburn-as as 'as')"
    [ -d "$as_dir" ] || die "as-dir '$as_dir' does not exist (build the project first: it creates <build>/libexec/afterburn/as)"
    as_dir=$(cd "$as_dir" && pwd)
    [ -f "$as_dir/as" ] && [ -x "$as_dir/as" ] ||
      die "as-dir '$as_dir' has no executable 'as' (expected a symlink to afterburn-as)"
    if [ "$variant" = annotated ]; then
      [ -f "$as_dir/cc1" ] && [ -x "$as_dir/cc1" ] ||
        die "as-dir '$as_dir' has no executable 'cc1' (expected <cmake-build>/libexec/afterburn-cparse, which holds afterburn-cc1 as 'cc1')"
    fi
    case $as_dir in *[[:space:]]*) die "as-dir path must not contain whitespace: '$as_dir'" ;; esac
    ;;
  "") die "--variant is required (native, afterburnt, annotated or paravirt); see -h" ;;
  *)  die "unknown variant '$variant' (native, afterburnt, annotated or paravirt)" ;;
esac
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "-j needs a positive number, got '$jobs'"
[ -f "$fragment" ] || die "config fragment '$fragment' not found"
fragment=$(cd "$(dirname "$fragment")" && pwd)/$(basename "$fragment")
if [ "$variant" = paravirt ]; then
  [ -f "$pv_fragment" ] || die "paravirt config fragment '$pv_fragment' not found"
  pv_fragment=$(cd "$(dirname "$pv_fragment")" && pwd)/$(basename "$pv_fragment")
fi
[ -f "$tarball" ] || die "kernel tarball '$tarball' not found (install linux-source-6.1: scripts/setup-deps.sh)"
for tool in gcc make tar xz flock sha256sum flex bison bc; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (run scripts/setup-deps.sh)"
done

mkdir -p "$work_dir"
work_dir=$(cd "$work_dir" && pwd)
[ -n "$src_dir" ] || src_dir="$work_dir/src"
case $src_dir in /*) ;; *) src_dir="$PWD/$src_dir" ;; esac
obj_dir="$work_dir/$variant"
ref_dir="$work_dir/config"

if [ "$variant" = afterburnt ]; then
  CC="gcc -B$as_dir/"
elif [ "$variant" = annotated ]; then
  CC="gcc -B$as_dir/ -no-integrated-cpp"
  # The cc1 hook: which rewriter and configuration, and where the accesses
  # it cannot classify are collected (kept out of the build's output).
  cparse_bin=$(readlink -f "$as_dir/../../bin/afterburn-cparse" 2>/dev/null || true)
  cparse_conf=$(readlink -f "$as_dir/../../share/afterburn/cparse/linux-6.1.conf" 2>/dev/null || true)
  [ -x "$cparse_bin" ] || die "afterburn-cparse not found next to $as_dir (expected $as_dir/../../bin/afterburn-cparse)"
  [ -f "$cparse_conf" ] || die "cparse configuration not found (expected $as_dir/../../share/afterburn/cparse/linux-6.1.conf)"
  export AFTERBURN_CPARSE=$cparse_bin AFTERBURN_CPARSE_CONFIG=$cparse_conf AFTERBURN_CPARSE_QUIET=1
else
  CC="gcc"
fi

# Reproducible build: identical inputs give an identical vmlinux.
export KBUILD_BUILD_TIMESTAMP="Thu Jan  1 00:00:00 UTC 1970"
export KBUILD_BUILD_USER=afterburn
export KBUILD_BUILD_HOST=afterburn
export KBUILD_BUILD_VERSION=1
MAKE_ARGS=(ARCH=x86)

# ---- Source cache and reference config (serialised between builds) -------
mkdir -p "$(dirname "$src_dir")"
exec 8>"$src_dir.lock"
flock -n 8 || { log "waiting for lock $src_dir.lock (another build is extracting or checking the source)"; flock 8; }

# The guest patches (guest-patches/linux-6.1, soft-layered: no effect on bare
# metal) are part of the source: a changed patch means a fresh extraction.
patch_dir="$HERE/../../guest-patches/linux-6.1"
patches=()
for p in "$patch_dir"/*.patch; do [ -f "$p" ] && patches+=("$p"); done
patch_id=$( [ ${#patches[@]} -eq 0 ] || cat "${patches[@]}" | sha256sum | cut -c1-16)
src_id="$(basename "$tarball") $(stat -c '%s %Y' "$tarball") $(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || echo unknown) patches:${#patches[@]}:${patch_id:-none}"
stamp="$src_dir/.afterburn-extracted"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$src_id" ]; then
  log "reusing kernel source in $src_dir"
else
  log "extracting $tarball into $src_dir (one time; ~1.5 GB, dots show progress)"
  tmp_src="$src_dir.tmp.$$"
  rm -rf "$tmp_src"
  mkdir -p "$tmp_src"
  t0=$(date +%s)
  tar -xJf "$tarball" -C "$tmp_src" --strip-components=1 \
      --checkpoint=2000 --checkpoint-action=dot
  echo
  for p in "${patches[@]+"${patches[@]}"}"; do
    log "applying guest patch $(basename "$p")"
    patch -d "$tmp_src" -p1 -s --no-backup-if-mismatch < "$p" ||
      die "guest patch $p does not apply to $(basename "$tarball")"
  done
  rm -rf "$src_dir"
  mv "$tmp_src" "$src_dir"
  echo "$src_id" > "$stamp"
  log "extracted in $(( $(date +%s) - t0 )) s"
fi
[ -f "$src_dir/Makefile" ] || die "no kernel Makefile in $src_dir"
[ ! -f "$src_dir/.config" ] || die "source tree $src_dir has a .config; out-of-tree builds need a clean tree (make -C $src_dir mrproper)"

# Verify every line of a fragment against a .config; print failures.
verify_config() { # $1 = .config [$2 = fragment, default: the reference fragment]
  local cfg=$1 frag=${2:-$fragment} bad=0 line sym want got
  while IFS= read -r line || [ -n "$line" ]; do
    if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
      sym=${BASH_REMATCH[1]}; want=${BASH_REMATCH[2]}
      if ! grep -qxF "$sym=$want" "$cfg"; then
        got=$(grep -E "^$sym=|^# $sym is not set" "$cfg" || true)
        echo "  $sym: wanted '$want', got '${got:-<absent: dependency missing?>}'" >&2
        bad=1
      fi
    elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
      sym=${BASH_REMATCH[1]}
      if got=$(grep -E "^$sym=" "$cfg"); then
        echo "  $sym: wanted 'is not set', got '$got'" >&2
        bad=1
      fi
    fi
  done < "$frag"
  return $bad
}

flock -u 8

# config_current DIR ID: DIR/.config was generated from the inputs ID.
config_current() {
  [ -f "$1/.config" ] && [ -f "$1/.afterburn-config-id" ] && [ "$(cat "$1/.afterburn-config-id")" = "$2" ]
}
# kconfig_make DIR TARGET: a Kconfig target in DIR, output in DIR/config.log.
kconfig_make() {
  make -s -C "$src_dir" O="$1" "${MAKE_ARGS[@]}" CC=gcc "$2" >> "$1/config.log" 2>&1 ||
    { tail -n 30 "$1/config.log" >&2; die "make $2 failed (log: $1/config.log)"; }
}
# merge_fragment DIR BASE FRAGMENT: DIR/.config = BASE + FRAGMENT, then
# olddefconfig, and every line of FRAGMENT verified in the result.
merge_fragment() {
  "$src_dir/scripts/kconfig/merge_config.sh" -m -O "$1" "$2" "$3" >> "$1/config.log" 2>&1 ||
    { tail -n 30 "$1/config.log" >&2; die "merge_config.sh failed (log: $1/config.log)"; }
  kconfig_make "$1" olddefconfig
  verify_config "$1/.config" "$3" ||
    die "$(basename "$3") symbols above did not take in $1/.config (check their dependencies)"
}

exec 9>"$work_dir/.lock"
flock -n 9 || { log "waiting for lock $work_dir/.lock (another build is generating the reference config)"; flock 9; }
ref_id="$src_id $(sha256sum < "$fragment" | cut -d' ' -f1) $(gcc --version | head -n1)"
if config_current "$ref_dir" "$ref_id"; then
  log "reusing reference config $ref_dir/.config"
else
  log "generating reference config: tinyconfig + $(basename "$fragment")"
  rm -rf "$ref_dir"
  mkdir -p "$ref_dir"
  kconfig_make "$ref_dir" tinyconfig
  merge_fragment "$ref_dir" "$ref_dir/.config" "$fragment"
  echo "$ref_id" > "$ref_dir/.afterburn-config-id"
  log "reference config OK: every symbol of $(basename "$fragment") is set ($(grep -c '^CONFIG_.*=' "$ref_dir/.config") symbols set)"
fi

# The paravirt variant's config: the reference config plus the PV fragment.
if [ "$variant" = paravirt ]; then
  pv_dir="$work_dir/config-paravirt"
  pv_id="$ref_id $(sha256sum < "$pv_fragment" | cut -d' ' -f1)"
  if config_current "$pv_dir" "$pv_id"; then
    log "reusing paravirt config $pv_dir/.config"
  else
    log "generating paravirt config: reference config + $(basename "$pv_fragment")"
    rm -rf "$pv_dir"
    mkdir -p "$pv_dir"
    merge_fragment "$pv_dir" "$ref_dir/.config" "$pv_fragment"
    # What the PV options changed beyond themselves (for the benchmark report).
    "$src_dir/scripts/diffconfig" "$ref_dir/.config" "$pv_dir/.config" > "$pv_dir/diff-from-reference.txt" || true
    echo "$pv_id" > "$pv_dir/.afterburn-config-id"
    log "paravirt config OK: $(grep -c . "$pv_dir/diff-from-reference.txt") symbols differ from the reference (list: $pv_dir/diff-from-reference.txt)"
  fi
  ref_dir=$pv_dir
fi
flock -u 9

# ---- Variant build ---------------------------------------------------------
tool_id="$(gcc --version | head -n1) | $(as --version | head -n1)"
if [ "$variant" = afterburnt ] || [ "$variant" = annotated ]; then
  tool_id="$tool_id | as=$(readlink -f "$as_dir/as") $(sha256sum < "$(readlink -f "$as_dir/as")" | cut -d' ' -f1)"
fi
if [ "$variant" = annotated ]; then
  tool_id="$tool_id | cc1=$(sha256sum < "$(readlink -f "$as_dir/cc1")" | cut -d' ' -f1) cparse=$(sha256sum < "$cparse_bin" | cut -d' ' -f1) conf=$(sha256sum < "$cparse_conf" | cut -d' ' -f1)"
fi
if [ "$clean" -eq 1 ]; then
  log "--clean: removing $obj_dir"
  rm -rf "$obj_dir"
elif [ -f "$obj_dir/.afterburn-toolchain" ] && [ "$(cat "$obj_dir/.afterburn-toolchain")" != "$tool_id" ]; then
  log "toolchain changed since last build; removing $obj_dir for a full rebuild"
  log "  was: $(cat "$obj_dir/.afterburn-toolchain")"
  log "  now: $tool_id"
  rm -rf "$obj_dir"
fi
mkdir -p "$obj_dir"
echo "$tool_id" > "$obj_dir/.afterburn-toolchain"

# Copy only when different: a fresh .config mtime makes Kbuild re-sync.
cmp -s "$ref_dir/.config" "$obj_dir/.config" || cp "$ref_dir/.config" "$obj_dir/.config"
rm -f "$obj_dir/build-seconds" "$obj_dir/vmlinux.sha256"
log "[$variant] syncing config with CC='$CC'"
make -s -C "$src_dir" O="$obj_dir" "${MAKE_ARGS[@]}" CC="$CC" olddefconfig > "$obj_dir/config.log" 2>&1 ||
  { tail -n 30 "$obj_dir/config.log" >&2; die "[$variant] make olddefconfig failed (log: $obj_dir/config.log)"; }
if ! cmp -s "$ref_dir/.config" "$obj_dir/.config"; then
  diff -u "$ref_dir/.config" "$obj_dir/.config" >&2 || true
  die "[$variant] config differs from the reference config under CC='$CC' (diff above); the compiler/assembler answers Kconfig's probes differently"
fi
log "[$variant] config identical to reference ($(wc -c < "$obj_dir/.config") bytes)"

if [ "$variant" = annotated ]; then
  # Appended to by every file compiled; it goes with the tree when that is
  # wiped (read it with sort -u: a recompiled file reports again).
  export AFTERBURN_CPARSE_REPORT="$obj_dir/cparse-report.txt"
  export AFTERBURN_CPARSE_LIST="$obj_dir/cparse-list.txt"
fi
log "[$variant] building vmlinux: make -C $src_dir O=$obj_dir ARCH=x86 CC='$CC' -j$jobs vmlinux"
t0=$(date +%s.%N)
set +e
make -C "$src_dir" O="$obj_dir" "${MAKE_ARGS[@]}" CC="$CC" -j"$jobs" vmlinux 2>&1 | tee "$obj_dir/build.log"
rc=${PIPESTATUS[0]}
set -e
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
if [ "$rc" -ne 0 ]; then
  echo "----- last errors from $obj_dir/build.log -----" >&2
  grep -E -i 'error|fatal|\*\*\*' "$obj_dir/build.log" | tail -n 20 >&2 || true
  die "[$variant] make vmlinux failed (exit $rc) after $secs s (full log: $obj_dir/build.log)"
fi
[ -f "$obj_dir/vmlinux" ] || die "[$variant] make succeeded but $obj_dir/vmlinux is missing"

echo "$secs" > "$obj_dir/build-seconds"
(cd "$obj_dir" && sha256sum vmlinux > vmlinux.sha256)
log "[$variant] vmlinux built in $secs s: $obj_dir/vmlinux ($(stat -c %s "$obj_dir/vmlinux") bytes)"
log "[$variant] sha256 $(cut -d' ' -f1 "$obj_dir/vmlinux.sha256")"
