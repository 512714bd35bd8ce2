#!/bin/sh
# Build Lethe and run the whole test suite with ctest.
#   tests/run.sh             normal build in build/
#   tests/run.sh --sanitize  AddressSanitizer + UBSan build in build-sanitize/
set -eu
cd "$(dirname "$0")/.."
build=build
options=""
case "${1:-}" in
  "") ;;
  --sanitize) build=build-sanitize; options="-DLETHE_SANITIZE=ON" ;;
  *) echo "usage: tests/run.sh [--sanitize]" >&2; exit 2 ;;
esac
cmake -S . -B "$build" $options
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j 2
