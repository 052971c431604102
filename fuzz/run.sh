#!/usr/bin/env bash
# Runs the session fuzzer for SECONDS (default 60) from the seed corpus and fails on
# a finding (its input is left as BUILD/fuzz/crash-*; add it to fuzz/regressions/).
# Configures BUILD (default build-fuzz: clang, ASan+UBSan, libc malloc) if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
seconds=${2:-60}
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$build" -Dfuzz=true -Dtests=false -Dallocator=system \
    -Db_sanitize=address,undefined -Db_lundef=false
fi
meson compile -C "$build" fuzz/session_fuzz
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
# New inputs go to a scratch dir; the committed corpus and past findings only seed it.
"$build/fuzz/session_fuzz" -max_total_time="$seconds" -max_len=16384 -dict=fuzz/http.dict \
  -print_final_stats=1 -artifact_prefix="$build/fuzz/" "$work" fuzz/corpus fuzz/regressions
