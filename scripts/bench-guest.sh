#!/usr/bin/env bash
# Guest microbenchmarks (LMbench2-style, tests/bench/guest/), in one run:
# Linux 6.1 built natively, through the afterburner, and para-virtualized for
# Xen, with the benchmarks in its initramfs, in four configurations:
#   native      the native vmlinux under QEMU TCG
#   afterburnt  the afterburnt vmlinux under QEMU TCG
#   paravirt    the same source and reference config plus Linux's Xen PV
#               support (guest/linux/paravirt.config), booted as the PV
#               dom0 of Xen 4.17 under QEMU TCG: the thesis's XenoLinux
#   xen         the same afterburnt vmlinux under the VAM on Xen 4.17 (Xen
#               under QEMU TCG; tests/xen/run-xen.sh, vam-pack, vam-xen.elf)
# each in two modes:
#   wall    plain TCG, the guest's clock is the host's TSC (real time)
#   icount  -icount shift=1,sleep=off: deterministic virtual time, every
#           guest instruction counts 2 ns (so NOP padding shows as time)
# and the kernel-build benchmark (tests/bench/guest/make-kbuild-initramfs.sh:
# a slice of the Linux tree compiled in the guest with gcc, binutils and
# make) booted once more per mode and configuration.
# Results: <build>/bench/guest-results.{md,csv,svg} (ratios to native beside
# the thesis's LMbench2 ratios, and the VAM's per-site-kind counters beside
# the thesis's Table 5.6), logs in <build>/bench/guest/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
modes="wall icount"
configs="native afterburnt paravirt xen"
pct=100
icount_pct=""
xen_pct=""
rounds=1
timeout_s=1800
jobs=$(nproc)
linux_work=""
kbuild=1
kbuild_objs=""

cmdline_args="$*"

usage() {
  cat <<EOF
Usage: $(basename "$0") [options]
  --build-dir DIR     CMake build directory (default: $build; or BUILD_DIR)
  --linux-work DIR    kernel work directory (default: <build>/linux, shared with ctest)
  --modes "M..."      modes to run, of: wall icount (default: "$modes")
  --configs "C..."    configurations, of: native afterburnt paravirt xen annotated
                      (default: "$configs"; native is always run: ratios are to it;
                      annotated = the annotated kernel (afterburn-as + afterburn-cparse)
                      under the VAM twice, with its page-table write log and with
                      vam.ptlog=off)
  --pct N             iteration counts in percent of the defaults (default $pct)
  --icount-pct N      the same for icount mode only (default: --pct)
  --xen-pct N         the same for the two Xen configurations (paravirt, xen),
                      both modes (default: 1/20 of the mode's native
                      percentage, at least 1: Linux on Xen under QEMU runs
                      5-330 times slower per operation)
  --rounds N          boots per mode and configuration, alternating; the
                      fastest of the rounds is kept (default $rounds)
  --timeout S         limit per boot in seconds (default $timeout_s)
  --no-kbuild         leave out the kernel-build benchmark
  --kbuild-objs "..." its slice: objects of the native kernel tree (default:
                      12 files of kernel/, mm/, fs/, lib/; see
                      tests/bench/guest/make-kbuild-initramfs.sh)
  -j N                kernel build jobs (default $jobs)
Builds afterburn-as (and vam-xen.elf, vam-pack for xen), the kernels
(reused when up to date), the benchmark programs and their initramfs, then
boots each configuration once per mode and round. At 100% each native boot
takes 1-1.5 minutes on an idle 2-core host (2-3 when it is busy); a Xen boot
at the default 5% about 3.5 minutes in wall mode and 5 in icount mode, a
paravirt boot about 1. The kernel build takes about 2 minutes natively, 3 as
paravirt and 5 under the VAM (wall mode; icount: about 1.5 times that). With
the kernels up to date the whole run takes about 60 minutes (a kernel
rebuild adds 3 to 8 each); --no-kbuild: 16.
A failed Xen boot (paravirt or xen) does not stop the run: its column shows what it measured,
the report lists the problems and the VAM's last lines, and the script
exits 1 after writing it.
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
    --configs) need "$@"; configs=$2; shift 2 ;;
    --xen-pct) need "$@"; xen_pct=$2; shift 2 ;;
    --pct) need "$@"; pct=$2; shift 2 ;;
    --icount-pct) need "$@"; icount_pct=$2; shift 2 ;;
    --rounds) need "$@"; rounds=$2; shift 2 ;;
    --timeout) need "$@"; timeout_s=$2; shift 2 ;;
    --no-kbuild) kbuild=0; shift ;;
    --kbuild-objs) need "$@"; kbuild_objs=$2; shift 2 ;;
    -j) need "$@"; jobs=$2; shift 2 ;;
    -j*) jobs=${1#-j}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
for n in "$pct" "$rounds" "$timeout_s" "$jobs" ${icount_pct:+"$icount_pct"} ${xen_pct:+"$xen_pct"}; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || die "'$n' is not a positive number"
done
[ -n "$icount_pct" ] || icount_pct=$pct
for m in $modes; do
  case $m in wall|icount) ;; *) die "unknown mode '$m' (wall, icount)" ;; esac
done
[ -n "$modes" ] || die "--modes is empty"
run_afterburnt=0 run_xen=0 run_paravirt=0 run_annotated=0
for c in $configs; do
  case $c in
    native) ;;
    afterburnt) run_afterburnt=1 ;;
    paravirt) run_paravirt=1 ;;
    xen) run_xen=1 ;;
    annotated) run_annotated=1 ;;
    *) die "unknown configuration '$c' (native, afterburnt, paravirt, xen, annotated)" ;;
  esac
done
cfg_list="native"
[ $run_afterburnt -eq 0 ] || cfg_list="$cfg_list afterburnt"
[ $run_paravirt -eq 0 ] || cfg_list="$cfg_list paravirt"
[ $run_xen -eq 0 ] || cfg_list="$cfg_list xen"
[ $run_annotated -eq 0 ] || cfg_list="$cfg_list xen_annotated_nolog xen_annotated"
# Iteration percentage of the Xen configurations in a mode whose native runs use $1.
xen_pct_for() {
  if [ -n "$xen_pct" ]; then echo "$xen_pct"; else echo $(( $1 / 20 > 0 ? $1 / 20 : 1 )); fi
}
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

# 1. afterburn-as (the kernel build needs nothing else); for xen also the
# VAM (vam-xen.elf) and vam-pack.
targets=(afterburn-as)
vam_xen=$build/bin/vam-xen.elf
vam_pack=$build/bin/vam-pack
[ $run_xen -eq 0 ] && [ $run_annotated -eq 0 ] || targets+=(vam-xen.elf vam-pack)
[ $run_annotated -eq 0 ] || targets+=(afterburn-cparse afterburn-cc1)
if [ $run_xen -eq 1 ] || [ $run_paravirt -eq 1 ] || [ $run_annotated -eq 1 ]; then
  [ -f "${XEN_GZ:-/boot/xen-4.17-amd64.gz}" ] ||
    die "${XEN_GZ:-/boot/xen-4.17-amd64.gz} missing (xen-hypervisor-4.17-amd64: scripts/setup-deps.sh), or leave paravirt and xen out of --configs"
fi
log "building ${targets[*]} in $build"
src_rev=$(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')
if ! { cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       cmake --build "$build" -j"$jobs" --target "${targets[@]}"; } > "$gdir/cmake.log" 2>&1; then
  tail -n 20 "$gdir/cmake.log" >&2
  [ -x "$build/libexec/afterburn/as" ] ||
    die "building afterburn-as failed (log: $gdir/cmake.log)"
  [ $run_xen -eq 0 ] || { [ -f "$vam_xen" ] && [ -x "$vam_pack" ]; } ||
    die "building vam-xen.elf/vam-pack failed (log: $gdir/cmake.log)"
  log "WARNING: configuring/building failed (log: $gdir/cmake.log); using the existing binaries in $build"
fi

# 2. The kernels (incremental: an up-to-date tree takes seconds).
kernels=native
[ $run_afterburnt -eq 0 ] && [ $run_xen -eq 0 ] || kernels="$kernels afterburnt"
[ $run_paravirt -eq 0 ] || kernels="$kernels paravirt"
[ $run_annotated -eq 0 ] || kernels="$kernels annotated"
for variant in $kernels; do
  args=(--variant "$variant" --work-dir "$linux_work" -j "$jobs")
  [ "$variant" = afterburnt ] && args+=(--as-dir "$build/libexec/afterburn")
  [ "$variant" = annotated ] && args+=(--as-dir "$build/libexec/afterburn-cparse")
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

# 3b. The kernel-build initramfs: the toolchain and the slice, from the
# native tree's Kbuild command files.
kb_initramfs=$gdir/kbuild-initramfs.cpio
if [ $kbuild -eq 1 ]; then
  kb_args=(-o "$kb_initramfs" --obj-dir "$linux_work/native")
  [ -z "$kbuild_objs" ] || kb_args+=(--objs "$kbuild_objs")
  bash "$benchsrc/make-kbuild-initramfs.sh" "${kb_args[@]}" > "$gdir/kbuild-initramfs.log" 2>&1 ||
    { grep -v ': added ' "$gdir/kbuild-initramfs.log" | tail -n 20 >&2; die "building the kernel-build initramfs failed"; }
  log "$(tail -n 1 "$gdir/kbuild-initramfs.log")"
fi

# 4. The guest's TSC rate. Under TCG the guest reads the host's TSC; under
# icount a TSC that counts virtual nanoseconds (1 GHz). Passing it as
# tsc_early_khz= (and tsc=reliable, so the jiffies watchdog cannot demote it)
# keeps the guest on the TSC clocksource even when the host is busy, where
# its PIT calibration fails and it would fall back to 4 ms jiffies.
gcc -O2 -Wall -Wextra -Werror -o "$gdir/host-tsc-khz" "$benchsrc/host-tsc-khz.c"
host_khz=$("$gdir/host-tsc-khz") || die "could not measure the host TSC rate"
log "host TSC $host_khz kHz"

# 5. Boots: per round, per mode, native, afterburnt, the paravirt kernel as
# Xen's dom0, then the afterburnt kernel under the VAM on Xen. norandmaps: no user address-space
# randomization (the thesis's 2.6.9 had none); with it two icount boots of
# one kernel give identical numbers (without it fork, exec, open/close and
# signal delivery vary by 1-3% from boot to boot).
#
# Xen: vam-pack puts the afterburnt vmlinux, the same initramfs and the
# same guest parameters into one module; run-xen.sh boots Xen with the VAM
# as dom0 (Xen's machine: -cpu max,-smap,-smep -m 512, dom0_mem=128M, of
# which the VAM gives Linux 94 MiB) and passes when Xen reports the dom0's
# power-off (afterburn_end=poweroff). Under icount QEMU gets the same
# -icount option (XQ_QEMU_ARGS, tests/xen/xen-qemu.sh).
#
# Paravirt: run-xen.sh boots Xen with the paravirt vmlinux as dom0 (the same
# machine and dom0_mem=128M) and the initramfs as its module, console=hvc0;
# it powers the machine off through ACPI S5.
runs=()
xen_failed=()
# xen_boot CFG LOG DOM0 DOM0_ARGS MODULE [CHECK_ARG...]: one boot under Xen,
# checked; a failure is recorded, not fatal. xb_append (Xen options) and
# xb_qemu (QEMU options) add to the machine.
xb_append="" xb_qemu=""
xen_boot() {
  local cfg=$1 lg=$2 dom0=$3 dom0_args=$4 module=$5 ok=1 t0 secs
  shift 5
  rm -f "$lg.seconds"
  t0=$(date +%s.%N)
  XQ_QEMU_ARGS="$xq_args${xb_qemu:+ $xb_qemu}" bash "$root/tests/xen/run-xen.sh" --timeout "$timeout_s" \
    --shutdown poweroff ${xb_append:+--append "$xb_append"} --log "$lg" "$dom0" "$dom0_args" -- "$module" > "$lg.boot" 2>&1 || ok=0
  secs=$(sed -n 's/^run-xen: passed in \([0-9.]*\) s.*/\1/p' "$lg.boot")
  [ -n "$secs" ] || secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  echo "$secs" > "$lg.seconds"
  python3 "$benchsrc/bench-report.py" check "$@" "$lg" > "$lg.check" 2>&1 || ok=0
  if [ $ok -eq 0 ]; then
    log "  FAILED after $secs s: $mode/$cfg (log: $lg)"
    grep -a '^run-xen:' "$lg.boot" >&2 || true
    cat "$lg.check" >&2
    if [ "$cfg" != paravirt ]; then
      log "  the VAM's last lines:"
      tr -d '\r' < "$lg" | grep -a '^VAM: ' | tail -n 6 | sed 's/^/    /' >&2 || true
    else
      log "  the log's last lines:"
      tr -d '\r' < "$lg" | tail -n 6 | sed 's/^/    /' >&2 || true
    fi
    xen_failed+=("$mode/$cfg/r$r")
  else
    log "  done in $secs s"
  fi
}
for r in $(seq 1 "$rounds"); do
  for mode in $modes; do
    for cfg in $cfg_list; do
      qargs=() xq_args=""
      if [ "$mode" = icount ]; then
        qargs=(-q -icount -q shift=1,sleep=off)
        xq_args="-icount shift=1,sleep=off"
        khz=1000000 p=$icount_pct
      else
        khz=$host_khz p=$pct
      fi
      case $cfg in xen|paravirt|xen_annotated*) p=$(xen_pct_for "$p") ;; esac
      workloads=bench
      [ $kbuild -eq 0 ] || workloads="bench kbuild"
      for wl in $workloads; do
        if [ "$wl" = bench ]; then
          lg=$gdir/logs/$mode-$cfg-r$r.log
          gparams="afterburn_script=/bench/run-bench.sh bench_pct=$p tsc_early_khz=$khz tsc=reliable norandmaps"
          img=$initramfs mem=() xb_qemu="" xb_append="" check=() runflag=--run
          log "round $r/$rounds, $mode, $cfg: booting (pct $p)"
        else
          # The toolchain and the slice need more memory than the
          # microbenchmarks: 512 MiB natively, 512 MiB for dom0 on Xen.
          lg=$gdir/logs/$mode-$cfg-kbuild-r$r.log
          gparams="afterburn_script=/bench/run-kbuild.sh tsc_early_khz=$khz tsc=reliable norandmaps"
          img=$kb_initramfs mem=(-m 512) xb_qemu="-m 1024" xb_append="dom0_mem=512M"
          check=(--names kbuild) runflag=--kbuild
          log "round $r/$rounds, $mode, $cfg: booting the kernel build"
        fi
        if [ "$cfg" = xen_annotated ] || [ "$cfg" = xen_annotated_nolog ]; then
          # the annotated kernel, the same pack, with and without the page-table log
          pack=$gdir/xen-annotated-$mode-$wl.pack
          "$vam_pack" -o "$pack" --kernel "$linux_work/annotated/vmlinux" --initrd "$img" \
            --cmdline "console=ttyS0 panic=-1 $gparams afterburn_end=poweroff" > "$lg.pack" 2>&1 ||
            { cat "$lg.pack" >&2; die "vam-pack failed"; }
          vam_args=$wl
          [ "$cfg" = xen_annotated ] || vam_args="$wl vam.ptlog=off"
          xen_boot "$cfg" "$lg" "$vam_xen" "$vam_args" "$pack" --vam "${check[@]}"
          rm -f "$pack"
          runs+=("$runflag" "$mode:$cfg:$lg")
          continue
        fi
        if [ "$cfg" = xen ]; then
          pack=$gdir/xen-$mode-$wl.pack
          "$vam_pack" -o "$pack" --kernel "$linux_work/afterburnt/vmlinux" --initrd "$img" \
            --cmdline "console=ttyS0 panic=-1 $gparams afterburn_end=poweroff" > "$lg.pack" 2>&1 ||
            { cat "$lg.pack" >&2; die "vam-pack failed"; }
          xen_boot xen "$lg" "$vam_xen" "$wl" "$pack" --vam "${check[@]}"
          rm -f "$pack"
          runs+=("$runflag" "$mode:xen_afterburnt:$lg")
          continue
        fi
        if [ "$cfg" = paravirt ]; then
          xen_boot paravirt "$lg" "$linux_work/paravirt/vmlinux" \
            "console=hvc0 panic=-1 $gparams afterburn_end=poweroff" "$img" "${check[@]}"
          runs+=("$runflag" "$mode:paravirt:$lg")
          continue
        fi
        if ! bash "$guest/boot.sh" --timeout "$timeout_s" --log "$lg" "${qargs[@]}" "${mem[@]}" \
               -a "$gparams" "$linux_work/$cfg/vmlinux" "$img" > "$lg.boot" 2>&1; then
          cat "$lg.boot" >&2
          die "$mode/$cfg boot failed (log: $lg)"
        fi
        python3 "$benchsrc/bench-report.py" check "${check[@]}" "$lg" > "$lg.check" 2>&1 ||
          { cat "$lg.check" >&2; die "$mode/$cfg: benchmark results incomplete (log: $lg)"; }
        log "  done in $(cat "$lg.seconds") s"
        runs+=("$runflag" "$mode:$cfg:$lg")
      done
    done
  done
done

# 6. Tables and chart.
qemu_v=$(qemu-system-x86_64 --version | head -n 1)
cpu=$(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
elapsed=$(( $(date +%s) - start ))
sha12() { [ -f "$1" ] && sha256sum "$1" | cut -c1-12 || echo "?"; }
kinfo="native vmlinux $(cut -c1-12 "$linux_work/native/vmlinux.sha256")"
case " $kernels " in *" afterburnt "*)
  kinfo="$kinfo, afterburnt $(cut -c1-12 "$linux_work/afterburnt/vmlinux.sha256")" ;; esac
case " $kernels " in *" annotated "*)
  kinfo="$kinfo, annotated $(cut -c1-12 "$linux_work/annotated/vmlinux.sha256")" ;; esac
iters="${pct}% of the defaults (wall), ${icount_pct}% (icount)"
meta=()
if [ $run_paravirt -eq 1 ]; then
  ndiff=$(grep -c . "$linux_work/config-paravirt/diff-from-reference.txt" 2>/dev/null || echo '?')
  meta+=(--meta "para-virt=vmlinux $(cut -c1-12 "$linux_work/paravirt/vmlinux.sha256") built from the same source with the reference config + guest/linux/paravirt.config (CONFIG_XEN_PV, XEN_DOM0 and the PCI and ACPI support Linux 6.1 requires for dom0: $ndiff symbols differ, listed in $linux_work/config-paravirt/diff-from-reference.txt), booted as the PV dom0 of $(basename "${XEN_GZ:-/boot/xen-4.17-amd64.gz}" .gz) on the same QEMU machine, dom0_mem=128M, console=hvc0, the same initramfs and parameters")
fi
if [ $kbuild -eq 1 ]; then
  meta+=(--meta "kernel build=$(sed -n 's/^OBJS := //p' "$kb_initramfs.kbuild/Makefile") with Kbuild's commands, then ld -r into slice.o (image $(( $(stat -c %s "$kb_initramfs") / 1048576 )) MiB: gcc $(gcc -dumpfullversion), $(as --version | head -n 1 | sed 's/^GNU assembler //'), make $(make --version | head -n 1 | cut -d' ' -f3))")
fi
if [ $run_xen -eq 1 ] || [ $run_paravirt -eq 1 ] || [ $run_annotated -eq 1 ]; then
  iters="$iters; Xen: $(xen_pct_for "$pct")% (wall), $(xen_pct_for "$icount_pct")% (icount)"
fi
if [ $run_xen -eq 1 ]; then
  meta+=(--meta "Xen=the afterburnt vmlinux packed with the same initramfs and parameters (vam-pack), VAM $build/bin/vam-xen.elf $(sha12 "$vam_xen") (built $(date -u -r "$vam_xen" '+%H:%M UTC' 2>/dev/null || echo '?'); tree $src_rev at the run's start) as dom0 of $(basename "${XEN_GZ:-/boot/xen-4.17-amd64.gz}" .gz) under QEMU -cpu max,-smap,-smep -m 512, dom0_mem=128M, 94 MiB for Linux")
fi
if [ $run_annotated -eq 1 ]; then
  meta+=(--meta "annotated=the annotated vmlinux (guest/linux/build-kernel.sh --variant annotated: afterburn-as and afterburn-cparse, $(sed -n 's/.*page-table tracking: \([0-9]* memory sites, [0-9]* page-table writes\).*/\1/p' "$(ls "$gdir"/logs/*-xen_annotated-r1.log 2>/dev/null | head -n 1)" 2>/dev/null | tr -d '\r' | head -n 1)) under the same VAM and machine as Xen, once with the page-table log and once with vam.ptlog=off")
fi
rc=0
python3 "$benchsrc/bench-report.py" report --out "$out/guest-results" "${runs[@]}" \
  --meta "date=$(date -u '+%Y-%m-%d %H:%M UTC')" \
  --meta "host=$cpu, $(nproc) cores, TSC $host_khz kHz; $qemu_v" \
  --meta "guest=Linux $(tr -d '\r' < "$gdir/logs/$(echo "$modes" | awk '{print $1}')-native-r1.log" | sed -n 's/^BENCH-INFO kernel=\([^ ]*\).*/\1/p' | head -n 1), tinyconfig + guest/linux/afterburn.config, 1 vCPU, 256 MB; $kinfo" \
  "${meta[@]}" \
  --meta "iterations=$iters; $rounds round(s)" \
  --meta "command=scripts/bench-guest.sh${cmdline_args:+ $cmdline_args}, ${elapsed} s until the report (builds included)" || rc=$?
log "written: $out/guest-results.md, .csv, .svg (logs: $gdir/logs/); $(( $(date +%s) - start )) s in all"
if [ ${#xen_failed[@]} -gt 0 ]; then
  die "Xen run(s) failed: ${xen_failed[*]} (see the report's Problems section)"
fi
exit "$rc"
