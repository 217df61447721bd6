#!/usr/bin/env bash
# The main demonstration, from a fresh Debian 12 machine:
#   1. installs the Debian packages that are missing,
#   2. builds and installs the tools (afterburn-as, afterburn-inspect) under build/install,
#   3. builds Linux 6.1 twice from the same source and config: through the
#      afterburner (gcc -B build/install/libexec/afterburn/) and natively,
#   4. verifies and audits every annotation in the afterburnt vmlinux,
#   5. boots that same vmlinux file natively under QEMU and runs a workload
#      in it (guest/linux/smoke.sh: fork/exec, pipes, signals, tmpfs, /proc),
#   6. boots the very same vmlinux file under the VAM on Xen (bin/vam-xen.elf
#      as dom0 of Xen 4.17 under QEMU) with the same initramfs and workload,
#      ending with a clean power-off,
#   7. boots every test guest from one ELF file each natively and under the VAM.
#
# BUILD_DIR selects the build directory (default: build/ in the checkout).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
prefix=$build/install
work=$build/linux

step() { printf '\n== %s\n' "$*"; }

step "1/7 Debian packages"
"$root/scripts/setup-deps.sh"

step "2/7 build and install the afterburner tools into $prefix"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX="$prefix"
cmake --build "$build" -j"$(nproc)"
cmake --install "$build" > /dev/null
ls -l "$prefix/bin" "$prefix/libexec/afterburn"

step "3/7 Linux 6.1: afterburnt and native builds (same source, same config)"
bash "$root/guest/linux/build-kernel.sh" --variant afterburnt --as-dir "$prefix/libexec/afterburn" --work-dir "$work"
bash "$root/guest/linux/build-kernel.sh" --variant native --work-dir "$work"
bash "$root/guest/linux/make-initramfs.sh" -o "$work/initramfs.cpio" \
  --add "$root/guest/linux/smoke.sh:/smoke.sh" --add "$root/guest/linux/load.sh:/load.sh"

step "4/7 afterburn-inspect: counts, verification of every site, audit of all code"
"$prefix/bin/afterburn-inspect" --counts --verify --audit "$work/afterburnt/vmlinux"

step "5/7 boot the afterburnt vmlinux natively (QEMU, software emulation), with a workload"
bash "$root/guest/linux/boot.sh" --log "$work/afterburnt/boot.log" --append "afterburn_script=/smoke.sh" \
  "$work/afterburnt/vmlinux" "$work/initramfs.cpio"
grep -a '^smoke:' "$work/afterburnt/boot.log" | tr -d '\r'
bash "$root/guest/linux/boot.sh" --log "$work/native/boot.log" "$work/native/vmlinux" "$work/initramfs.cpio"

step "6/7 the same afterburnt vmlinux under the VAM on Xen 4.17 (QEMU), same initramfs and workload"
"$prefix/bin/vam-pack" -o "$work/afterburnt/demo.pack" --kernel "$work/afterburnt/vmlinux" \
  --initrd "$work/initramfs.cpio" \
  --cmdline "console=ttyS0 panic=-1 afterburn_script=/smoke.sh afterburn_end=poweroff"
vam_status=0
bash "$root/tests/xen/run-xen.sh" --timeout 600 --shutdown poweroff --log "$work/afterburnt/vam.log" \
  --expect "^smoke: [0-9]+ checks, 0 failed" --expect "AFTERBURN-SCRIPT-END rc=0" \
  "$build/bin/vam-xen.elf" "demo" -- "$work/afterburnt/demo.pack" || vam_status=$?
tr -d '\r' < "$work/afterburnt/vam.log" | grep -aE '^(VAM: (guest validated|rewrote|Linux boot|entries|VAM entries|guest halted|error)|smoke:|AFTERBURN-INIT-OK)'

step "7/7 test guests: the same ELF natively and under the VAM on Xen"
guests_status=0
bash "$root/scripts/guests-both.sh" "$build" || guests_status=$?

printf '\n== summary\n'
printf 'afterburnt vmlinux: %s\n' "$(cat "$work/afterburnt/vmlinux.sha256")"
printf 'native     vmlinux: %s\n' "$(cat "$work/native/vmlinux.sha256")"
printf 'build seconds: afterburnt %s, native %s\n' "$(cat "$work/afterburnt/build-seconds")" "$(cat "$work/native/build-seconds")"
printf 'afterburnt vmlinux as booted under the VAM: %s\n' "$(sha256sum "$work/afterburnt/vmlinux" | cut -d' ' -f1)"
echo "The afterburnt file above booted natively and under the VAM on Xen and ran the same workload."
echo "Test guests: the table above shows each file's checksum and its result on both platforms."
[ $vam_status -eq 0 ] || { echo "demo: Linux under the VAM FAILED (log: $work/afterburnt/vam.log)"; exit 1; }
exit $guests_status
