#!/usr/bin/env bash
# Memory figures (docs/performance.md): RSS per idle keep-alive connection, and RSS
# after a burst of connections has gone. Usage: bench/memory.sh [BUILD_DIR] [N]
# Loopback only; about 20 s.
set -euo pipefail
BUILD=${1:-build}
N=${2:-5000}
PORT=${PORT:-18181}
ulimit -n "$(ulimit -Hn)"
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
work=$(mktemp -d /tmp/hiserve-memory-XXXXXX)
"$BUILD/hiserve" --port "$PORT" --threads 1 --max-connections $((N + 100)) \
  --counter "file:$work/hiserve.counter" 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/hi" && break; sleep 0.05; done
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$PORT/hi?color=warm"; done
base=$(rss_kb $PID)
coproc HOLD { "$BUILD/bench/hold_connections" "$PORT" "$N" 600; }
read -r line <&"${HOLD[0]}"  # "held N"
sleep 1
held=$(rss_kb $PID)
kill "$HOLD_PID"; wait "$HOLD_PID" 2>/dev/null || true
sleep 21  # two 10 s trim periods: blocks unused for a whole period go back
after=$(rss_kb $PID)
per=$(awk -v a="$held" -v b="$base" -v n="$N" 'BEGIN { printf "%.2f", (a - b) * 1024 / n / 1024 }')
echo "build=$BUILD $line: RSS idle ${base} KiB, with $N idle keep-alive ${held} KiB (${per} KiB/conn), after they left ${after} KiB"
