#!/usr/bin/env bash
# Guest microbenchmarks (LMbench2-style, tests/bench/guest/), in one run:
# Linux 6.1 built natively and through the afterburner, each booted under
# QEMU TCG with the benchmarks in its initramfs, in two modes:
#   wall    plain TCG, the guest's clock is the host's TSC (real time)
#   icount  -icount shift=1,sleep=off: deterministic virtual time, every
#           guest instruction counts 2 ns (so NOP padding shows as time)
# Results: <build>/bench/guest-results.{md,csv,svg} (ratios to native beside
# the thesis's LMbench2 ratios; para-virt and Xen-afterburnt columns are
# "pending" until those configurations exist), logs in <build>/bench/guest/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
modes="wall icount"
pct=100
icount_pct=""
rounds=1
timeout_s=1800
jobs=$(nproc)
linux_work=""

usage() {
  cat <<EOF
Usage: $(basename "$0") [options]
  --build-dir DIR     CMake build directory (default: $build; or BUILD_DIR)
  --linux-work DIR    kernel work directory (default: <build>/linux, shared with ctest)
  --modes "M..."      modes to run, of: wall icount (default: "$modes")
  --pct N             iteration counts in percent of the defaults (default $pct)
  --icount-pct N      the same for icount mode only (default: --pct)
  --rounds N          boots per mode and configuration, alternating; the
                      fastest of the rounds is kept (default $rounds)
  --timeout S         limit per boot in seconds (default $timeout_s)
  -j N                kernel build jobs (default $jobs)
Builds afterburn-as, both kernels (reused when up to date), the benchmark
programs and their initramfs, then boots 2 configurations per mode and round.
At 100% each boot takes 1-1.5 minutes on an idle 2-core host (2-3 when it is
busy); with both kernels up to date the whole run takes about 5 minutes.
EOF
}
die() { echo "bench-guest: error: $*" >&2; exit 1; }
log() { echo "bench-guest: $*" >&2; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || die "option $1 needs an argument"; }
while [ $# -gt 0 ]; do
  case $1 in
    --build-dir) need "$@"; build=$2; shift 2 ;;
    --linux-work) need "$@"; linux_work=$2; shift 2 ;;
    --modes) need "$@"; modes=$2; shift 2 ;;
    --pct) need "$@"; pct=$2; shift 2 ;;
    --icount-pct) need "$@"; icount_pct=$2; shift 2 ;;
    --rounds) need "$@"; rounds=$2; shift 2 ;;
    --timeout) need "$@"; timeout_s=$2; shift 2 ;;
    -j) need "$@"; jobs=$2; shift 2 ;;
    -j*) jobs=${1#-j}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
for n in "$pct" "$rounds" "$timeout_s" "$jobs" ${icount_pct:+"$icount_pct"}; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive number"
done
[ -n "$icount_pct" ] || icount_pct=$pct
for m in $modes; do
  case $m in wall|icount) ;; *) die "unknown mode '$m' (wall, icount)" ;; esac
done
[ -n "$modes" ] || die "--modes is empty"
for tool in cmake gcc python3 qemu-system-x86_64 cpio; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (run scripts/setup-deps.sh)"
done

start=$(date +%s)
mkdir -p "$build"
build=$(cd "$build" && pwd)
[ -n "$linux_work" ] || linux_work=$build/linux
out=$build/bench
gdir=$out/guest
mkdir -p "$gdir/logs"
guest=$root/guest/linux
benchsrc=$root/tests/bench/guest

# 1. afterburn-as (only that target: the kernel build needs nothing else).
log "building afterburn-as in $build"
if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build "$build" -j"$jobs" --target afterburn-as; } > "$gdir/cmake.log" 2>&1; then
  tail -n 20 "$gdir/cmake.log" >&2
  [ -x "$build/libexec/afterburn/as" ] ||
    die "building afterburn-as failed (log: $gdir/cmake.log)"
  log "WARNING: configuring/building failed (log: $gdir/cmake.log); using the existing $build/libexec/afterburn/as"
fi

# 2. Both kernels (incremental: an up-to-date tree takes seconds).
for variant in native afterburnt; do
  args=(--variant "$variant" --work-dir "$linux_work" -j "$jobs")
  [ "$variant" = afterburnt ] && args+=(--as-dir "$build/libexec/afterburn")
  log "kernel [$variant]: guest/linux/build-kernel.sh ${args[*]}"
  bash "$guest/build-kernel.sh" "${args[@]}" > "$gdir/build-$variant.log" 2>&1 ||
    { tail -n 20 "$gdir/build-$variant.log" >&2; die "$variant kernel build failed (log: $gdir/build-$variant.log)"; }
  log "kernel [$variant]: $(tail -n 1 "$gdir/build-$variant.log")"
done

# 3. Benchmark programs and the initramfs that carries them.
initramfs=$gdir/initramfs.cpio
bash "$benchsrc/make-bench-initramfs.sh" -o "$initramfs" > "$gdir/initramfs.log" 2>&1 ||
  { cat "$gdir/initramfs.log" >&2; die "building the benchmark initramfs failed"; }
log "$(tail -n 1 "$gdir/initramfs.log")"

# 4. The guest's TSC rate. Under TCG the guest reads the host's TSC; under
# icount a TSC that counts virtual nanoseconds (1 GHz). Passing it as
# tsc_early_khz= (and tsc=reliable, so the jiffies watchdog cannot demote it)
# keeps the guest on the TSC clocksource even when the host is busy, where
# its PIT calibration fails and it would fall back to 4 ms jiffies.
gcc -O2 -Wall -Wextra -Werror -o "$gdir/host-tsc-khz" "$benchsrc/host-tsc-khz.c"
host_khz=$("$gdir/host-tsc-khz") || die "could not measure the host TSC rate"
log "host TSC $host_khz kHz"

# 5. Boots: per round, per mode, native then afterburnt. norandmaps: no
# user address-space randomization (the thesis's 2.6.9 had none); with it two
# icount boots of one kernel give identical numbers (without it fork, exec,
# open/close and signal delivery vary by 1-3% from boot to boot).
runs=()
for r in $(seq 1 "$rounds"); do
  for mode in $modes; do
    for cfg in native afterburnt; do
      vmlinux=$linux_work/$cfg/vmlinux
      lg=$gdir/logs/$mode-$cfg-r$r.log
      qargs=()
      if [ "$mode" = icount ]; then
        qargs=(-q -icount -q shift=1,sleep=off)
        khz=1000000 p=$icount_pct
      else
        khz=$host_khz p=$pct
      fi
      log "round $r/$rounds, $mode, $cfg: booting (pct $p)"
      if ! bash "$guest/boot.sh" --timeout "$timeout_s" --log "$lg" "${qargs[@]}" \
             -a "afterburn_script=/bench/run-bench.sh bench_pct=$p tsc_early_khz=$khz tsc=reliable norandmaps" \
             "$vmlinux" "$initramfs" > "$lg.boot" 2>&1; then
        cat "$lg.boot" >&2
        die "$mode/$cfg boot failed (log: $lg)"
      fi
      python3 "$benchsrc/bench-report.py" check "$lg" > "$lg.check" 2>&1 ||
        { cat "$lg.check" >&2; die "$mode/$cfg: benchmark results incomplete (log: $lg)"; }
      log "  done in $(cat "$lg.seconds") s"
      runs+=(--run "$mode:$cfg:$lg")
    done
  done
done

# 6. Tables and chart.
qemu_v=$(qemu-system-x86_64 --version | head -n 1)
cpu=$(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
elapsed=$(( $(date +%s) - start ))
python3 "$benchsrc/bench-report.py" report --out "$out/guest-results" "${runs[@]}" \
  --meta "date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
  --meta "host=$cpu, $(nproc) cores, TSC $host_khz kHz; $qemu_v" \
  --meta "guest=Linux $(tr -d '\r' < "$gdir/logs/$(echo "$modes" | awk '{print $1}')-native-r1.log" | sed -n 's/^BENCH-INFO kernel=\([^ ]*\).*/\1/p' | head -n 1), tinyconfig + guest/linux/afterburn.config, 1 vCPU, 256 MB; native vmlinux $(cut -c1-12 "$linux_work/native/vmlinux.sha256"), afterburnt $(cut -c1-12 "$linux_work/afterburnt/vmlinux.sha256")" \
  --meta "iterations=${pct}% of the defaults (wall), ${icount_pct}% (icount); $rounds round(s)" \
  --meta "command=scripts/bench-guest.sh, ${elapsed} s until the report (builds included)"
log "written: $out/guest-results.md, .csv, .svg (logs: $gdir/logs/); $(( $(date +%s) - start )) s in all"
