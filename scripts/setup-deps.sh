#!/usr/bin/env bash
# Install the Debian 12 packages this project needs that are not yet installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config libelf-dev libzydis-dev
  clang                 # libFuzzer (-fsanitize=fuzzer)
  libclang-14-dev       # afterburn-cparse: libclang's C API (clang-c/Index.h, libclang-14.so)
  qemu-system-x86 busybox-static linux-source-6.1
  iperf3                # network throughput: on the host and, copied in, in the guest
  flex bison bc cpio kmod libssl-dev xz-utils python3 patch
  xen-hypervisor-4.17-amd64 libxen-dev   # Xen booted by QEMU; public headers for vam-xen
)

usage() {
  cat <<EOF
Usage: $(basename "$0") [-n] [-h]

Installs the Debian packages the project needs that are missing:
  ${PACKAGES[*]}

Checks each with dpkg-query first; runs 'apt-get update' and
'apt-get install' only if something is missing. Runs as root, or through
sudo when not root.

  -n   dry run: only report what is missing, install nothing
  -h   show this help
EOF
}

dry_run=0
while getopts ":nh" opt; do
  case $opt in
    n) dry_run=1 ;;
    h) usage; exit 0 ;;
    *) echo "error: unknown option -$OPTARG" >&2; usage >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -ne 0 ]; then
  echo "error: unexpected argument: $1" >&2; usage >&2; exit 2
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "error: dpkg-query not found; this script supports Debian (12) only" >&2
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [ "$status" != "installed" ]; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${#PACKAGES[@]} required packages are already installed."
  exit 0
fi

echo "setup-deps: missing packages: ${missing[*]}"
if [ "$dry_run" -eq 1 ]; then
  echo "setup-deps: dry run, nothing installed."
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1; then
  SUDO=(sudo)
  echo "setup-deps: not root, using sudo"
else
  echo "error: not running as root and sudo is not available." >&2
  echo "       Run as root: apt-get install ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "setup-deps: apt-get update"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
echo "setup-deps: installing: ${missing[*]}"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"

# Confirm.
still=()
for pkg in "${missing[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "installed" ] || still+=("$pkg")
done
if [ ${#still[@]} -ne 0 ]; then
  echo "error: still not installed after apt-get: ${still[*]}" >&2
  exit 1
fi
echo "setup-deps: installed: ${missing[*]}"
