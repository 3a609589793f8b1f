#!/bin/bash
# bench/storage-memory.sh [AIO ARGS...]
#
# The storage processes' memory through the loads of bench/vs-swift.sh, without Swift beside
# it: a fresh `swiftlet aio --no-daemons`, then small-objects.sh EP 15 32 4096 (4 KiB PUT and
# GET flood) and large-objects.sh EP 64 8 4 twice. Prints each storage process's resident and
# peak memory (kB) and CPU ticks when idle, after the flood and after the 64 MiB runs, with the
# loads' own lines. AIO ARGS go to `swiftlet aio`, e.g. `--storage-processes 4` (one node per
# process, as a real deployment runs them).
#
# Env: ANCHORS (../shared/anchors), PORT (18180), STORAGE_PORT_BASE (16100), DATA
# (/tmp/swiftlet-storage-memory-<time>, removed at the end).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ANCHORS=${ANCHORS:-$(cd "$REPO/../shared/anchors" 2>/dev/null && pwd || echo /work/shared/anchors)}
PORT=${PORT:-18180}
BASE=${STORAGE_PORT_BASE:-16100}
DATA=${DATA:-/tmp/swiftlet-storage-memory-$(date +%s)}
NODE="$REPO/node_modules/.bin/node"

# shellcheck source=bench/aio-start.sh
. "$HERE/aio-start.sh"
aio_pid=
trap '[ -n "$aio_pid" ] && kill -TERM "$aio_pid" 2> /dev/null && wait "$aio_pid" 2> /dev/null; rm -rf "$DATA" "$DATA.log"' EXIT
start_aio "$DATA" --port "$PORT" --storage-port-base "$BASE" "$@"

storage() {  # label
  local pidfile pid
  for pidfile in "$DATA"/run/storage*.pid; do
    pid=$(cat "$pidfile")
    echo "$1 $(basename "$pidfile" .pid) rss_kb=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status") peak_kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status") cpu_ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")"
  done
}

echo "# $(date -u +%FT%TZ) swiftlet $(git -C "$REPO" rev-parse --short HEAD) aio $*"
sleep 5
storage idle
"$ANCHORS/wrk-bench/small-objects.sh" "127.0.0.1:$PORT" 15 32 4096
storage after-small
"$ANCHORS/wrk-bench/large-objects.sh" "127.0.0.1:$PORT" 64 8 4
"$ANCHORS/wrk-bench/large-objects.sh" "127.0.0.1:$PORT" 64 8 4
storage after-large
