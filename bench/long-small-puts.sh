#!/bin/bash
# bench/long-small-puts.sh [RUNS] [SMALL_OBJECT_MAX]
#
# A longer small-object load on one fresh `swiftlet aio` (no daemons): RUNS (6) wrk runs of 15 s
# in a row, 4 KiB PUTs of incompressible bodies (put-random.lua), 32 connections. After each run:
# PUT/s, p99, the storage and proxy processes' CPU per PUT (from /proc) and the size of the
# four object databases, so LevelDB's compactions show as they grow; then the storage CPU of 30
# idle seconds (compaction catching up). SMALL_OBJECT_MAX (the config's default when not given;
# 0 keeps every object in files) is written into the nodes' [object-server] section.
#
# Env: PORT (18080), STORAGE_PORT_BASE (16000), DATA (/tmp/swiftlet-long-puts-<time>, left in place).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
RUNS=${1:-6}
SMALL_MAX=${2:-}
PORT=${PORT:-18080}
BASE=${STORAGE_PORT_BASE:-16000}
DATA=${DATA:-/tmp/swiftlet-long-puts-$(date +%s)}
NODE="$REPO/node_modules/.bin/node"
EP=127.0.0.1:$PORT

start() {
  setsid "$NODE" "$REPO/cli/swiftlet.ts" aio --data "$DATA" --port "$PORT" --storage-port-base "$BASE" --no-daemons > "$DATA.log" 2>&1 &
  AIO=$!
  for _ in $(seq 1 60); do grep -q '^ready:' "$DATA.log" 2>/dev/null && return; sleep 1; done
  echo "swiftlet aio did not start; see $DATA.log" >&2
  kill "$AIO"
  exit 1
}
stop() {
  kill -TERM "$AIO"
  wait "$AIO" || true
  : > "$DATA.log"
}

# user+system CPU ticks of a process and its children (the proxy's workers).
ticks() {
  local sum=0 pid
  for pid in $(ps -eo pid=,ppid= | awk -v p="$1" '$1 == p || $2 == p {print $1}'); do
    sum=$((sum + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$sum"
}

start
if [ -n "$SMALL_MAX" ]; then
  stop
  sed -i "s/^\[object-server\]\$/[object-server]\nsmall_object_max = $SMALL_MAX/" "$DATA"/etc/node*.conf
  start
fi
hdrs=$(curl -s -D - -o /dev/null -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' "http://$EP/auth/v1.0")
TOKEN=$(printf '%s' "$hdrs" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-auth-token"{print $2}')
export SWIFT_TOKEN=$TOKEN OBJ_SIZE=4096
storage=$(cat "$DATA"/run/storage*.pid | tr '\n' ' ')
proxy=$(cat "$DATA/run/proxy.pid")
hz=$(getconf CLK_TCK)
echo "# $(date -u +%FT%TZ) $(nproc) CPUs; swiftlet $(git -C "$REPO" rev-parse --short HEAD); small_object_max=${SMALL_MAX:-default}"
for run in $(seq 1 "$RUNS"); do
  # A container per run: wrk's object names start again at o-1-1, and every object is new.
  export SWIFT_PATH=/v1/AUTH_test/long-$run
  curl -s -o /dev/null -X PUT -H "X-Auth-Token: $TOKEN" "http://$EP$SWIFT_PATH"
  s0=0; for p in $storage; do s0=$((s0 + $(ticks "$p"))); done
  p0=$(ticks "$proxy")
  out=$(wrk -t2 -c32 -d15s -s "$HERE/put-random.lua" "http://$EP" | grep RESULT)
  s1=0; for p in $storage; do s1=$((s1 + $(ticks "$p"))); done
  p1=$(ticks "$proxy")
  reqs=$(echo "$out" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
  db=$({ du -smc "$DATA"/nodes/*/*/objects-db 2>/dev/null || true; } | awk 'END {print $1 + 0}')
  awk -v r="$run" -v out="${out#RESULT }" -v s=$((s1 - s0)) -v p=$((p1 - p0)) -v n="$reqs" -v hz="$hz" -v db="$db" \
    'BEGIN {printf "run %d %s storage_ms_per_put=%.2f proxy_ms_per_put=%.2f objects_db_mb=%d\n", r, out, s * 1000 / hz / n, p * 1000 / hz / n, db}'
done
s0=0; for p in $storage; do s0=$((s0 + $(ticks "$p"))); done
sleep 30
s1=0; for p in $storage; do s1=$((s1 + $(ticks "$p"))); done
awk -v s=$((s1 - s0)) -v hz="$hz" 'BEGIN {printf "idle 30 s after: storage cpu_s=%.2f\n", s / hz}'
stop
