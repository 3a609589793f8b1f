#!/usr/bin/env bash
# npm run conformance: starts a fresh all-in-one cluster, runs the real clients against it
# (python-swiftclient, rclone, restic: ../shared/conformance when present, else the copy in
# test/clients/), stops the cluster, and exits with the clients' result.
# Needs the Debian packages python3-swiftclient, rclone and restic (.ci/run installs them).
set -u
cd "$(dirname "$0")/.."
PORT=${CONFORMANCE_PORT:-18080}
BASE=${CONFORMANCE_STORAGE_PORT_BASE:-26000}
DATA=$(mktemp -d -t swiftlet-conformance.XXXXXX)
CLIENTS=../shared/conformance
[ -x "$CLIENTS/run-all.sh" ] || CLIENTS=test/clients
node cli/swiftlet.ts aio --data "$DATA" --port "$PORT" --storage-port-base "$BASE" > "$DATA/aio.out" 2>&1 &
AIO=$!
cleanup() { kill -TERM "$AIO" 2>/dev/null; wait "$AIO" 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT
for _ in $(seq 1 3000); do
  grep -q '^ready:' "$DATA/aio.out" && break
  kill -0 "$AIO" 2>/dev/null || { cat "$DATA/aio.out"; echo "the cluster did not start"; exit 1; }
  sleep 0.1
done
grep -q '^ready:' "$DATA/aio.out" || { cat "$DATA/aio.out"; echo "the cluster was not ready in 300 s"; exit 1; }
SWIFT_AUTH_URL="http://127.0.0.1:$PORT/auth/v1.0" "$CLIENTS/run-all.sh"
