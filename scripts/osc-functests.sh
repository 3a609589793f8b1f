#!/usr/bin/env bash
# npm run osc-functests: python-openstackclient's own functional suite (Debian's
# python3-openstackclient ships it; it needs python3-tempest and python3-testtools) against a
# fresh all-in-one cluster, through test/clients/osc-functional.sh (which gives the suite the
# devstack names and resources it expects). Arguments: the suite's test paths to run (default:
# common, compute/v2, identity/v3, image/v2, network/v2, object/v1, volume/v3: about an hour on
# two cores, so it is not part of .ci/run). Tests still failing are expected; the run fails when
# fewer pass than test/osc-functests/ratchet.json keeps for a whole run (a partial run only
# reports). Ports: OSC_FUNCTESTS_PORT (18093) and the next services' 18513, 18613, 18698,
# 18785, 18787, storage from 26300, so it can share a machine with the other suites.
# OSC_FUNCTESTS_KEEP=1 keeps the cluster's directory (its logs), printed at the end.
set -u
cd "$(dirname "$0")/.."
PORT=${OSC_FUNCTESTS_PORT:-18093}
DATA=$(mktemp -d -t swiftlet-osc-functests.XXXXXX)
node cli/swiftlet.ts aio --data "$DATA/cluster" --port "$PORT" --identity-port 18513 --image-port 18613 --network-port 18698 --compute-port 18785 --volume-port 18787 --storage-port-base 26300 > "$DATA/aio.out" 2>&1 &
AIO=$!
cleanup() { kill -TERM "$AIO" 2>/dev/null; wait "$AIO" 2>/dev/null; if [ "${OSC_FUNCTESTS_KEEP:-0}" = 1 ]; then echo "cluster and logs in $DATA"; else rm -rf "$DATA"; fi; }
trap cleanup EXIT
for _ in $(seq 1 6000); do
  grep -q '^ready:' "$DATA/aio.out" && break
  kill -0 "$AIO" 2>/dev/null || { cat "$DATA/aio.out"; echo "the cluster did not start"; exit 1; }
  sleep 0.1
done
grep -q '^ready:' "$DATA/aio.out" || { cat "$DATA/aio.out"; echo "the cluster was not ready in 600 s"; exit 1; }
bash test/clients/osc-functional.sh "$DATA/cluster" "$@" | tee "$DATA/osc.out"
line=$(tail -1 "$DATA/osc.out")
passed=$(sed -n 's/^\([0-9]*\) passed, .*/\1/p' <<<"$line")
[ -n "$passed" ] || { echo "the suite gave no result line"; exit 1; }
[ $# -eq 0 ] || exit 0
want=$(node -e 'console.log(JSON.parse(require("fs").readFileSync("test/osc-functests/ratchet.json", "utf8")).passed)')
if [ "$passed" -lt "$want" ]; then echo "osc-functests: $passed passed, fewer than the $want of test/osc-functests/ratchet.json"; exit 1; fi
[ "$passed" -gt "$want" ] && echo "osc-functests: $passed passed, more than the $want of test/osc-functests/ratchet.json: raise it"
exit 0
