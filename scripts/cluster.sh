#!/usr/bin/env bash
# The topology of hiserve on several machines, on one: a redis-server holding the
# visitor count, N hiserve instances sharing it (--counter redis://...), and nginx in
# front as the load balancer. With --sentinel, Redis with failover instead: a master,
# a replica and three sentinels (redis-sentinel), and the instances on
# redis-sentinel://...?replicas=1. Everything on loopback, in a temporary directory,
# stopped on exit.
#
#   scripts/cluster.sh [--sentinel] [N]                  # N instances (default 3); Ctrl-C stops all
#   scripts/cluster.sh [--sentinel] --check REQUESTS [N] # drive REQUESTS requests through
#                                                        # nginx; every visitor number unique
#
# HISERVE=path/to/hiserve picks the binary (default build/hiserve).
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
sentinel=0
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=$2; shift 2 ;;
    --sentinel) sentinel=1; shift ;;
    *) break ;;
  esac
done
instances=${1:-3}
hiserve=${HISERVE:-build/hiserve}
nginx=$(command -v nginx || echo /usr/sbin/nginx)
work=$(mktemp -d /tmp/hiserve-cluster-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
# A signal ends the script (a trap alone would run cleanup and carry on starting things).
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no \
  --logfile "$work/redis.log" &
pids+=($!)
wait_port "$redis_port"
counter="redis://127.0.0.1:$redis_port"
what="redis-server on 127.0.0.1:$redis_port"

if [ "$sentinel" = 1 ]; then
  replica_port=$(free_port)
  redis-server --port "$replica_port" --bind 127.0.0.1 --dir "$work" --dbfilename replica.rdb --save "" \
    --appendonly no --logfile "$work/replica.log" --replicaof 127.0.0.1 "$redis_port" &
  pids+=($!)
  wait_port "$replica_port"
  sentinels=""
  for i in 1 2 3; do
    port=$(free_port)
    printf '%s\n' "port $port" "bind 127.0.0.1" "dir $work" "logfile $work/sentinel-$i.log" \
      "sentinel monitor hiserve 127.0.0.1 $redis_port 2" "sentinel down-after-milliseconds hiserve 1000" \
      "sentinel failover-timeout hiserve 5000" >"$work/sentinel-$i.conf"
    redis-sentinel "$work/sentinel-$i.conf" &
    pids+=($!)
    wait_port "$port"
    sentinels+="${sentinels:+,}127.0.0.1:$port"
  done
  # replicas=1: a lease counts once the replica has it, so it must be connected first.
  for _ in $(seq 100); do
    redis-cli -p "$redis_port" INFO replication | grep -q '^connected_slaves:1' && break
    sleep 0.05
  done
  counter="redis-sentinel://$sentinels/0?sentinelMasterId=hiserve&replicas=1"
  what="redis-server master 127.0.0.1:$redis_port, replica 127.0.0.1:$replica_port, sentinels $sentinels"
fi

upstreams=""
for i in $(seq "$instances"); do
  port=$(free_port)
  "$hiserve" --port "$port" --threads 1 --counter "$counter" 2>"$work/hiserve-$i.log" &
  pids+=($!)
  wait_port "$port"
  # Serving once its first lease has come (Redis's arrives after a connect).
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/hi")" = 200 ] && break
    sleep 0.05
  done
  upstreams+="        server 127.0.0.1:$port;"$'\n'
done

lb_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid nginx.pid;
error_log error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path body;
    proxy_temp_path proxy;
    fastcgi_temp_path fastcgi;
    uwsgi_temp_path uwsgi;
    scgi_temp_path scgi;
    upstream hiserve {
$upstreams        keepalive 16;
    }
    server {
        listen 127.0.0.1:$lb_port;
        location / {
            proxy_pass http://hiserve;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            add_header X-Upstream \$upstream_addr always;
        }
    }
}
EOF
"$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)
wait_port "$lb_port"

url="http://127.0.0.1:$lb_port/hi"
if [ "$check" = 0 ]; then
  echo "$what, $instances hiserve instances, nginx on $url (Ctrl-C stops all)"
  wait
  exit 0
fi

# Concurrent keep-alive clients through nginx; every number must be unique, and
# every instance must have served some.
python3 - "$lb_port" "$check" "$instances" <<'EOF'
import collections, http.client, re, sys, threading
port, total, instances = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
numbers, upstreams, lock = [], collections.Counter(), threading.Lock()
def client(n):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    mine, seen = [], collections.Counter()
    for _ in range(n):
        conn.request("GET", "/hi?color=teal")
        r = conn.getresponse()
        body = r.read().decode()
        if r.status != 200:
            sys.exit(f"status {r.status}: {body!r}")
        mine.append(int(re.search(r"visitor number (\d+)!", body).group(1)))
        seen[r.getheader("X-Upstream")] += 1
    with lock:
        numbers.extend(mine)
        upstreams.update(seen)
threads = [threading.Thread(target=client, args=(total // 8,)) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
dupes = [n for n, c in collections.Counter(numbers).items() if c > 1]
print(f"{len(numbers)} requests through nginx to {len(upstreams)} instances {dict(upstreams)}: "
      f"{len(set(numbers))} distinct visitor numbers, {len(dupes)} repeated")
sys.exit(1 if dupes or len(numbers) != total // 8 * 8 or len(upstreams) != instances else 0)
EOF
