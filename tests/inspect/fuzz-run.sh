#!/bin/sh
# A short, deterministic libFuzzer run of the afterburn-inspect parser,
# seeded with the test inputs.  New corpus entries and crash artifacts go to
# WORKDIR, never into the seed directory.
#
#   fuzz-run.sh FUZZER WORKDIR RUNS SEED...
set -eu

fuzzer=$1
work=$2
runs=$3
shift 3
rm -rf "$work"
mkdir -p "$work/corpus" "$work/seeds"
cp "$@" "$work/seeds/"
exec "$fuzzer" -seed=1 -runs="$runs" -max_len=16384 -timeout=10 \
    -artifact_prefix="$work/" "$work/corpus" "$work/seeds"
