#!/usr/bin/env bash
# Installs the Debian 12 packages hiserve needs and configures build/ (safe to run
# twice; run as root).
#   scripts/setup.sh            everything: the build, tests, fuzzer, benches and their peers
#   scripts/setup.sh --server   only what building and running the server needs (build/
#                               then has no tests; a later plain run adds them)
set -euo pipefail
cd "$(dirname "$0")/.."
server=(
  meson ninja-build pkg-config cmake g++ curl
  libuv1-dev node-llhttp libmimalloc-dev libhiredis-dev libsystemd-dev libgoogle-perftools-dev
)
everything=(
  "${server[@]}"
  doctest-dev redis-server redis-sentinel prometheus systemd mandoc
  libbenchmark-dev libbenchmark-tools wrk
  google-perftools golang-golang-x-tools python3-scipy python3-matplotlib graphviz
  golang-go nginx-light heaptrack linux-perf valgrind gcovr
  dpkg-dev debhelper lintian fakeroot logrotate
  clang libclang-rt-14-dev
)
tests=true
packages=("${everything[@]}")
if [ "${1:-}" = "--server" ]; then
  tests=false
  packages=("${server[@]}")
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ ! -f build/build.ninja ]; then
  meson setup build -Dtests=$tests
elif [ $tests = true ]; then
  meson configure build -Dtests=true  # a build/ set up by --server gains its tests
fi
