# Sourced by vam-skip.sh and vam-memsites.sh: builds vamprog.c through the
# gcc hook into $work/prog and inspects it into $work/inspect.out; sets
# $prog_sites and $prog_memsites from afterburn-inspect's summary line.
# Needs: gccdir inspect conf src work; defines fail().
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*"; exit 1; }
AFTERBURN_CPARSE_CONFIG=$conf gcc -B"$gccdir/" -no-integrated-cpp -O2 -ffreestanding \
    -fno-pie -no-pie -nostdlib -static -Wl,--build-id=none -o "$work/prog" "$src" 2>"$work/build.err" || { cat "$work/build.err"; fail "build"; }
"$inspect" "$work/prog" >"$work/inspect.out" || { cat "$work/inspect.out"; fail "afterburn-inspect"; }
counts=$(sed -n 's/^.*: \([0-9]*\) sites, 0 mode markers, \([0-9]*\) memory sites; .*OK$/\1 \2/p' \
         "$work/inspect.out")
[ -n "$counts" ] || { cat "$work/inspect.out"; fail "no summary with memory sites"; }
prog_sites=${counts% *}
prog_memsites=${counts#* }
[ "$prog_memsites" -gt 0 ] || { cat "$work/inspect.out"; fail "no memory sites"; }
