#!/bin/bash
# bench/proxy-workers.sh [ROUNDS] [WORKERS_A] [WORKERS_B]
#
# The aio's proxy with WORKERS_A (1) against WORKERS_B (2) workers, a fresh `aio --no-daemons`
# per run, runs alternating, ROUNDS (2) times: the neutral small-objects.sh (4 KiB, 32
# connections, 15 s PUT then GET) and large-objects.sh (8 x 64 MiB, 4 at a time, twice).
# Env: ANCHORS (../shared/anchors), PORT (18480), STORAGE_PORT_BASE (16400), DATA (/tmp/proxy-workers).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ROUNDS=${1:-2}
A=${2:-1}
B=${3:-2}
ANCHORS=${ANCHORS:-$(cd "$REPO/../shared/anchors" 2>/dev/null && pwd || echo /work/shared/anchors)}
PORT=${PORT:-18480}
BASE=${STORAGE_PORT_BASE:-16400}
DATA=${DATA:-/tmp/proxy-workers}
NODE="$REPO/node_modules/.bin/node"
aio=
trap '[ -n "$aio" ] && kill -TERM "$aio"' EXIT
for round in $(seq 1 "$ROUNDS"); do
  for workers in "$A" "$B"; do
    d="$DATA-$round-$workers"
    rm -rf "$d"
    mkdir -p "$d"
    setsid "$NODE" "$REPO/cli/swiftlet.ts" aio --data "$d" --port "$PORT" --storage-port-base "$BASE" --proxy-workers "$workers" --no-daemons > "$d/aio.out" 2>&1 &
    aio=$!
    for _ in $(seq 1 60); do grep -q '^ready:' "$d/aio.out" 2>/dev/null && break; sleep 1; done
    grep -q '^ready:' "$d/aio.out" || { echo "aio did not start; see $d/aio.out" >&2; exit 1; }
    echo "# round $round, $workers proxy workers, load $(cut -d' ' -f1 /proc/loadavg)"
    "$ANCHORS/wrk-bench/small-objects.sh" "127.0.0.1:$PORT" 15 32 4096
    "$ANCHORS/wrk-bench/large-objects.sh" "127.0.0.1:$PORT" 64 8 4 | sed 's/^/first /'
    "$ANCHORS/wrk-bench/large-objects.sh" "127.0.0.1:$PORT" 64 8 4 | sed 's/^/again /'
    kill -TERM "$aio"
    wait "$aio" || true
    aio=
    rm -rf "$d"
  done
done
