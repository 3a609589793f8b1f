#!/usr/bin/env bash
# npm run conformance: starts a fresh all-in-one cluster, runs the real clients against it
# (python-swiftclient, rclone, restic: ../shared/conformance when present, else the copy in
# test/clients/; then openstackclient against the identity service, test/clients/openstack.sh,
# and swift --auth-version 3 into a project's account, test/clients/swiftclient-v3.sh)
# and the README's client lines, stops the cluster; runs docs/deployment.md on loopback
# machines (test/docs/deployment.ts); runs Swift's functional tests of keystoneauth with
# Keystone v3 auth on a cluster of its own (scripts/functests.sh --keystone, the files of
# test/functests/ratchet-keystone-auth.json); exits with the combined result.
# Needs the Debian packages python3-swiftclient, rclone, restic and python3-openstackclient
# (.ci/run installs them), and for the functional tests python3-keystoneclient and Swift's
# source (test/functests/get-source.sh fetches both).
set -u
cd "$(dirname "$0")/.."
PORT=${CONFORMANCE_PORT:-18080}
IDENTITY_PORT=${CONFORMANCE_IDENTITY_PORT:-18500}
IMAGE_PORT=${CONFORMANCE_IMAGE_PORT:-18600}
NETWORK_PORT=${CONFORMANCE_NETWORK_PORT:-18696}
COMPUTE_PORT=${CONFORMANCE_COMPUTE_PORT:-18774}
VOLUME_PORT=${CONFORMANCE_VOLUME_PORT:-18776}
BASE=${CONFORMANCE_STORAGE_PORT_BASE:-26000}
DATA=$(mktemp -d -t swiftlet-conformance.XXXXXX)
CLIENTS=../shared/conformance
[ -x "$CLIENTS/run-all.sh" ] || CLIENTS=test/clients
node cli/swiftlet.ts aio --data "$DATA" --port "$PORT" --identity-port "$IDENTITY_PORT" --image-port "$IMAGE_PORT" --network-port "$NETWORK_PORT" --compute-port "$COMPUTE_PORT" --volume-port "$VOLUME_PORT" --storage-port-base "$BASE" > "$DATA/aio.out" 2>&1 &
AIO=$!
cleanup() { kill -TERM "$AIO" 2>/dev/null; wait "$AIO" 2>/dev/null; rm -rf "$DATA"; }
trap cleanup EXIT
# The proxy and storage nodes, then the identity service's first bootstrap through the proxy.
for _ in $(seq 1 6000); do
  grep -q '^ready:' "$DATA/aio.out" && break
  kill -0 "$AIO" 2>/dev/null || { cat "$DATA/aio.out"; echo "the cluster did not start"; exit 1; }
  sleep 0.1
done
grep -q '^ready:' "$DATA/aio.out" || { cat "$DATA/aio.out"; echo "the cluster was not ready in 600 s"; exit 1; }
# The clients, then the README's client lines on the same cluster, then docs/deployment.md
# on loopback machines of its own; one combined "N passed, M failed" line at the end.
total_p=0; total_f=0
count() {
  local line p f
  line=$(printf '%s\n' "$1" | tail -1)
  p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p'); f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
  [ -n "$p" ] || { p=0; f=1; }
  total_p=$((total_p+p)); total_f=$((total_f+f))
}
out=$(SWIFT_AUTH_URL="http://127.0.0.1:$PORT/auth/v1.0" "$CLIENTS/run-all.sh" 2>&1); echo "$out"; count "$out"
echo "== openstack"
out=$(OS_CLIENT_CONFIG_FILE="$DATA/etc/clouds.yaml" SWIFTLET_DATA="$DATA" test/clients/openstack.sh 2>&1); echo "$out"; count "$out"
echo "== swift --auth-version 3"
out=$(OS_CLIENT_CONFIG_FILE="$DATA/etc/clouds.yaml" test/clients/swiftclient-v3.sh 2>&1); echo "$out"; count "$out"
echo "== 1 GiB image round trip (test/probe/image-round-trip-1gib.ts)"
out=$(node test/probe/image-round-trip-1gib.ts 2>&1); echo "$out"; count "$out"
echo "== README.md"
out=$(node test/docs/readme.ts "$PORT" 2>&1); echo "$out"; count "$out"
echo "== docs/deployment.md"
out=$(node test/docs/deployment.ts 2>&1); echo "$out"; count "$out"
echo "== Swift's functional tests of keystoneauth, Keystone v3 auth (test/functests/ratchet-keystone-auth.json)"
out=$(bash scripts/functests.sh --keystone --ratchet test/functests/ratchet-keystone-auth.json 2>&1); status=$?; echo "$out"
# The suite's counts; one failure more when it failed otherwise (the ratchet, the cluster).
line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
if [ "$status" -eq 0 ] && [ -n "$line" ]; then count "$line"; else count "${line%%,*}, 1 failed"; fi
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
