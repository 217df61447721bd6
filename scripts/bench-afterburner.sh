#!/usr/bin/env bash
# Afterburner benchmarks (numbers, not tests), in one run on this machine:
#   - afterburn-as rewrite throughput (MB/s) on the kernel's own assembly
#   - assembler stage end to end: GNU as vs afterburn-as over the same files
#   - Linux build time natively vs through the afterburner, clean builds,
#     alternating, same source and config (goal: at most 5% slower)
#   - text growth of vmlinux
#   - site counts per kind beside the thesis's Table 5.5
# Results: printed, and written to <build>/bench/afterburner.md.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
rounds=1

usage() {
  cat <<EOF
Usage: $(basename "$0") [--rounds N] [--build-dir DIR]
  --rounds N       clean native/afterburnt build pairs to time (default 1)
  --build-dir DIR  CMake build directory (default: $build; or BUILD_DIR)
Takes about 3 kernel builds per round plus one for the corpus (~2 min each on 2 cores).
EOF
}
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-afterburner: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench-afterburner: --rounds needs a positive number" >&2; exit 2; }

out=$build/bench
work=$out/linux
src=$build/linux/src   # the extracted source cache shared with the tests
mkdir -p "$out"
log() { echo "bench-afterburner: $*" >&2; }

log "building the tools"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$build" -j"$(nproc)" > /dev/null
asdir=$build/libexec/afterburn
inspect=$build/bin/afterburn-inspect


build_kernel() { # variant workdir [env...]
  local variant=$1 wd=$2; shift 2
  local args=(--variant "$variant" --work-dir "$wd" --src-dir "$src" --clean)
  [ "$variant" = afterburnt ] && args+=(--as-dir "$asdir")
  env "$@" bash "$root/guest/linux/build-kernel.sh" "${args[@]}" > "$wd.$variant.log" 2>&1 ||
    { tail -n 20 "$wd.$variant.log" >&2; log "$variant build failed (log: $wd.$variant.log)"; exit 1; }
  cat "$wd/$variant/build-seconds"
}

# 1. Build times, alternating so drift on the machine hits both alike.
native_times=() ab_times=()
mkdir -p "$work"
for r in $(seq 1 "$rounds"); do
  log "round $r/$rounds: clean native build"
  native_times+=("$(build_kernel native "$work")")
  log "round $r/$rounds: clean afterburnt build"
  ab_times+=("$(build_kernel afterburnt "$work")")
done

# 2. The corpus: every assembler input of an afterburnt build.
corpus=$out/corpus
rm -rf "$corpus" && mkdir -p "$corpus"
log "collecting the kernel's assembler inputs (one more afterburnt build)"
build_kernel afterburnt "$out/corpus-build" AFTERBURN_SAVE_DIR="$corpus" > /dev/null
nfiles=$(find "$corpus" -name '*.s' | wc -l)
corpus_mb=$(du -sm "$corpus" | cut -f1)

log "rewrite throughput over $nfiles files"
tput=$("$build/bin/ab-bench-rewrite" "$corpus" 5)

log "assembler stage: GNU as vs afterburn-as over the same files"
time_as() { # assembler
  local t0 t1 f mode
  t0=$(date +%s.%N)
  for f in "$corpus"/*.s; do
    case $f in *-32.s) mode=--32 ;; *) mode=--64 ;; esac
    "$1" "$mode" -o /dev/null "$f" 2>/dev/null || true
  done
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
as_plain=$(time_as as)
as_ab=$(time_as "$asdir/as")
as_plain2=$(time_as as)

# 3. Sizes and counts.
exec_bytes() { # total size of the executable sections of an ELF file
  local total=0 name type addr off size es flg rest
  while read -r name type addr off size es flg rest; do
    [[ $flg == *X* ]] && total=$((total + 16#$size))
  done < <(readelf -SW "$1" | sed -n 's/^ *\[ *[0-9]*\] //p')
  echo "$total"
}
func_bytes() { # sum of the sizes of the code symbols: the code itself, without alignment fill
  local total=0 addr size type name
  while read -r addr size type name; do total=$((total + 16#$size)); done \
    < <(nm -S "$1" | awk '$3 ~ /^[tTwW]$/ && NF == 4')
  echo "$total"
}
nat_func=$(func_bytes "$work/native/vmlinux")
ab_func=$(func_bytes "$work/afterburnt/vmlinux")
nat_text=$(exec_bytes "$work/native/vmlinux")
ab_text=$(exec_bytes "$work/afterburnt/vmlinux")
nat_file=$(stat -c %s "$work/native/vmlinux")
ab_file=$(stat -c %s "$work/afterburnt/vmlinux")
counts=$("$inspect" --counts "$work/afterburnt/vmlinux" 2>&1 || true)

mean() { printf '%s\n' "$@" | awk '{ s += $1 } END { printf "%.1f", s / NR }'; }
nat_mean=$(mean "${native_times[@]}")
ab_mean=$(mean "${ab_times[@]}")
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f%%", (b - a) * 100 / a }'; }

{
  echo "# Afterburner benchmarks ($(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r))"
  echo
  echo "| measure | native | afterburnt | change |"
  echo "|---|---|---|---|"
  echo "| Linux 6.1 vmlinux clean build, s (mean of $rounds; each: native ${native_times[*]} / afterburnt ${ab_times[*]}) | $nat_mean | $ab_mean | $(pct "$nat_mean" "$ab_mean") |"
  echo "| code bytes (sum of function symbol sizes) | $nat_func | $ab_func | $(pct "$nat_func" "$ab_func") |"
  echo "| executable section bytes (incl. alignment fill) | $nat_text | $ab_text | $(pct "$nat_text" "$ab_text") |"
  echo "| vmlinux file bytes | $nat_file | $ab_file | $(pct "$nat_file" "$ab_file") |"
  echo "| assembler stage over the corpus, s (as / afterburn-as / as again) | $as_plain | $as_ab | $(pct "$as_plain" "$as_ab") (as again: $as_plain2) |"
  echo
  echo "Rewrite throughput (afterburn-as's rewriter alone, best of 5, $nfiles files, $corpus_mb MB on disk):"
  echo
  echo '```'
  echo "$tput"
  echo '```'
  echo
  echo "Sites in the afterburnt vmlinux (afterburn-inspect --counts); the thesis's Table 5.5"
  echo "reports 5181 instruction annotations for Linux 2.6.9 and 3035 for 2.4.28 (x86-32):"
  echo
  echo '```'
  echo "$counts"
  echo '```'
} | tee "$out/afterburner.md"
log "written: $out/afterburner.md"
