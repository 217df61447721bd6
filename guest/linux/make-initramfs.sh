#!/usr/bin/env bash
# Build the reference guest's initramfs: an uncompressed newc cpio holding
# Debian's static busybox and guest/linux/init. No root needed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROG=$(basename "$0")

usage() {
  cat <<EOF
Usage: $PROG [-o OUT] [--busybox PATH] [--init PATH] [--add SRC[:DEST]]...

Builds an uncompressed newc cpio initramfs:
  /bin/busybox + a symlink per applet, /init ($HERE/init),
  /proc /sys /dev /tmp /root, and a /dev/console node (so init starts with
  its console open; the node is written as a second, concatenated cpio
  archive, which needs no root).

Options:
  -o, --output OUT   output file (default: ./build/linux/initramfs.cpio)
  --busybox PATH     static busybox (default: /bin/busybox from busybox-static)
  --init PATH        init script (default: $HERE/init)
  --add SRC[:DEST]   also put file SRC at DEST in the image (default DEST:
                     /SRC's basename), e.g. a workload for afterburn_script=
  -h, --help         this help
EOF
}

die() { echo "$PROG: error: $*" >&2; exit 1; }

out="build/linux/initramfs.cpio"
busybox=/bin/busybox
init="$HERE/init"
adds=()
need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "option $1 needs an argument (see -h)"; }
while [ $# -gt 0 ]; do
  case $1 in
    -o|--output) need_arg "$@"; out=$2; shift 2 ;;
    --busybox)   need_arg "$@"; busybox=$2; shift 2 ;;
    --init)      need_arg "$@"; init=$2; shift 2 ;;
    --add)       need_arg "$@"; adds+=("$2"); shift 2 ;;
    -h|--help)   usage; exit 0 ;;
    *)           die "unknown argument '$1' (see -h)" ;;
  esac
done

command -v cpio >/dev/null 2>&1 || die "cpio not found (run scripts/setup-deps.sh)"
[ -x "$busybox" ] || die "busybox '$busybox' not found or not executable (install busybox-static)"
busybox=$(readlink -f "$busybox")
if command -v readelf >/dev/null 2>&1 && readelf -l "$busybox" 2>/dev/null | grep -q 'Requesting program interpreter'; then
  die "'$busybox' is dynamically linked; the initramfs needs busybox-static's /bin/busybox"
fi
[ -f "$init" ] || die "init script '$init' not found"

stage=$(mktemp -d "${TMPDIR:-/tmp}/afterburn-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,root,etc,usr/bin,usr/sbin}
chmod 1777 "$root/tmp"

cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
napplets=0
for applet in $("$root/bin/busybox" --list); do
  [ "$applet" = busybox ] && continue
  ln -s busybox "$root/bin/$applet"
  napplets=$((napplets + 1))
done
[ "$napplets" -gt 0 ] || die "'$busybox --list' printed no applets"
[ -e "$root/bin/sh" ] && [ -e "$root/bin/mount" ] && [ -e "$root/bin/reboot" ] ||
  die "busybox lacks one of the applets sh, mount, reboot"

install -m 0755 "$init" "$root/init"

for spec in "${adds[@]+"${adds[@]}"}"; do
  src=${spec%%:*}
  if [ "$src" = "$spec" ]; then dest="/$(basename "$src")"; else dest=${spec#*:}; fi
  [ -f "$src" ] || die "--add: '$src' is not a file"
  case $dest in /*) ;; *) dest="/$dest" ;; esac
  mkdir -p "$root$(dirname "$dest")"
  cp "$src" "$root$dest"
  echo "$PROG: added $src as $dest"
done

# Fixed timestamps: the same inputs give the same image.
find "$root" -exec touch -h -d @0 {} +

mkdir -p "$(dirname "$out")"
tmp_out="$out.tmp.$$"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
   cpio -o -H newc -R 0:0 --reproducible --quiet) > "$tmp_out"

# Second archive: /dev/console (char 5:1, 0600). newc: "070701", 13 fields
# of 8 hex digits, the NUL-terminated name padded to 4, then (no) data.
newc_entry() { # name mode ino rdevmajor rdevminor
  local name=$1 mode=$2 ino=$3 rmaj=$4 rmin=$5 namesize hdr pad
  namesize=$(( ${#name} + 1 ))
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
    "$ino" "$mode" 0 0 1 0 0 0 0 "$rmaj" "$rmin" "$namesize" 0
  printf '%s\0' "$name"
  hdr=$(( 110 + namesize ))
  pad=$(( (4 - hdr % 4) % 4 ))
  [ "$pad" -eq 0 ] || head -c "$pad" /dev/zero
}
{
  newc_entry dev/console $((8#020600)) 1 5 1
  newc_entry 'TRAILER!!!' 0 0 0 0
} >> "$tmp_out"
mv "$tmp_out" "$out"

echo "$PROG: wrote $out ($(stat -c %s "$out") bytes; busybox $("$root/bin/busybox" | head -n1 | awk '{print $2}'), $napplets applets)"
