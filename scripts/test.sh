#!/usr/bin/env bash
# The whole test suite, from a clean build directory: installs missing
# Debian packages, configures and builds the project, then runs every ctest
# test (unit, fuzz and the slow kernel build + QEMU boot tests).
#
#   scripts/test.sh                 everything (CI runs this)
#   scripts/test.sh -L unit         only the fast host tests (ctest arguments pass through)
#
# BUILD_DIR selects the build directory (default: build/ in the checkout).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

"$root/scripts/setup-deps.sh"
echo "== configure and build in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$(nproc)"
echo "== ctest $*"
cd "$build"
ctest --output-on-failure "$@"
