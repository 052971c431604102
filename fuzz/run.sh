#!/usr/bin/env bash
# Runs a fuzzer for SECONDS (default 60) from its seed corpus and fails on a finding
# (its input is left as BUILD/fuzz/crash-*; add it to the target's corpus).
#   fuzz/run.sh [BUILD] [SECONDS] [TARGET]
# TARGET: session (the default: the HTTP session), counter_file, counter_url or cli.
# Configures BUILD (default build-fuzz: clang, ASan+UBSan, libc malloc) if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
seconds=${2:-60}
target=${3:-session}
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$build" -Dfuzz=true -Dtests=false -Dallocator=system \
    -Db_sanitize=address,undefined -Db_lundef=false
fi
case "$target" in
  session) seeds=(fuzz/corpus fuzz/regressions); extra=(-max_len=16384 -dict=fuzz/http.dict) ;;
  counter_file) seeds=(fuzz/corpus-counter-file); extra=(-max_len=512) ;;
  counter_url) seeds=(fuzz/corpus-counter-url); extra=(-max_len=512) ;;
  cli) seeds=(fuzz/corpus-cli); extra=(-max_len=1024) ;;
  *) echo "fuzz/run.sh: no target $target" >&2; exit 2 ;;
esac
meson compile -C "$build" "fuzz/${target}_fuzz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
# New inputs go to a scratch dir; the committed corpus and past findings only seed it.
"$build/fuzz/${target}_fuzz" -max_total_time="$seconds" "${extra[@]}" \
  -print_final_stats=1 -artifact_prefix="$build/fuzz/" "$work" "${seeds[@]}"
