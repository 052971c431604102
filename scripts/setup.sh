#!/usr/bin/env bash
# Installs every Debian 12 package hiserve's build, tests, fuzzer and benches need, and
# configures build/ if it is not there yet. Safe to run twice. Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(
  meson ninja-build pkg-config cmake g++ curl
  libuv1-dev node-llhttp libmimalloc-dev doctest-dev libhiredis-dev redis-server prometheus
  libsystemd-dev systemd
  libbenchmark-dev libbenchmark-tools wrk
  libgoogle-perftools-dev google-perftools golang-golang-x-tools python3-scipy python3-matplotlib graphviz
  golang-go nginx-light heaptrack linux-perf valgrind gcovr mandoc
  clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
[ -f build/build.ninja ] || meson setup build
