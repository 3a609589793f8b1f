#!/bin/bash
# bench/image-vs-put.sh [ROUNDS]
#
# Issue 17's upload goal, side by side in one run: the cluster's own 1 GiB PUT (`curl -T` to
# the proxy as test:tester) against a 1 GiB image upload (`curl -T` to PUT /v2/images/ID/file,
# sized), ROUNDS times (4), on one fresh `swiftlet aio --no-daemons`. Prints both rates, their
# ratio, each image's status, size and checksum (the file's MD5 is printed last to compare),
# and per order the mean ratio.
#
# Why the order alternates and the machine settles: run always PUT-then-image, the image upload
# came right after 3 GiB of replica writes and the PUT after a quiet spell, so anything the
# disk or the machine still did after one upload fell on the image. So the rounds go ABBA
# (odd: PUT first; even: image first), each object and image is deleted after its upload, and
# before each measured upload `sync` runs and the machine gets PAUSE seconds; `Dirty`
# (/proc/meminfo, the whole machine's) is printed as each upload starts. SETTLE=0 skips the
# sync and the pause, for comparison. Measured (docs/performance.md, "Images: a fair bench"):
# the object servers fsync before they answer, so little is dirty either way, and the order
# did not favour the PUT; the alternation keeps it that way by construction.
#
# Env: PORT_BASE (19900: proxy PORT_BASE, identity PORT_BASE-3000, image +92, network +96,
# compute +74, volume +76 on the identity's hundred; storage STORAGE_BASE, else PORT_BASE+10000), DATA (/tmp/image-vs-put-<time>;
# removed at the end unless given), FILE (/tmp/image-vs-put-1g.bin, made from /dev/urandom once
# and kept), SETTLE (1), PAUSE (5 s).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
ROUNDS=${1:-4}
P=${PORT_BASE:-19900}
S=${STORAGE_BASE:-$((P + 10000))}
I=$((P - 3000))
KEEP=${DATA:+1}
DATA=${DATA:-/tmp/image-vs-put-$(date +%s)}
FILE=${FILE:-/tmp/image-vs-put-1g.bin}
SETTLE=${SETTLE:-1}
PAUSE=${PAUSE:-5}
export PATH="$REPO/node_modules/.bin:$PATH"
mkdir -p "$DATA"
node "$REPO/cli/swiftlet.ts" aio --no-daemons --data "$DATA" --port "$P" --identity-port "$I" \
  --image-port $((I + 92)) --network-port $((I + 96)) --compute-port $((I + 74)) \
  --volume-port $((I + 76)) --storage-port-base "$S" > "$DATA/aio.out" 2>&1 &
AIO=$!
trap 'kill -TERM $AIO; wait $AIO 2>/dev/null || true; [ -n "$KEEP" ] || rm -rf "$DATA"' EXIT
for _ in $(seq 600); do grep -q '^ready:' "$DATA/aio.out" && break; sleep 0.5; done
grep -q '^ready:' "$DATA/aio.out" || { echo "aio did not start; see $DATA/aio.out" >&2; exit 1; }
[ -f "$FILE" ] || head -c 1073741824 /dev/urandom > "$FILE"
auth=$(curl -s -i -H 'X-Auth-User: test:tester' -H 'X-Auth-Key: testing' "http://127.0.0.1:$P/auth/v1.0")
TOK=$(awk -F': ' 'tolower($1)=="x-auth-token"{print $2}' <<< "$auth" | tr -d '\r')
URL=$(awk -F': ' 'tolower($1)=="x-storage-url"{print $2}' <<< "$auth" | tr -d '\r')
curl -s -X PUT -H "X-Auth-Token: $TOK" "$URL/image-vs-put" > /dev/null
export OS_CLIENT_CONFIG_FILE=$DATA/etc/clouds.yaml
OTOK=$(openstack --os-cloud swiftlet-admin token issue -f value -c id)
IMG=http://127.0.0.1:$((I + 92))
mbs() { awk -v s="$1" 'BEGIN {printf "%.1f", s / 1e6}'; }
settle() {
  if [ "$SETTLE" = 1 ]; then sync; sleep "$PAUSE"; fi
  dirty=$(awk '/^Dirty:/ {printf "%d", $2 / 1024}' /proc/meminfo)
  load=$(cut -d' ' -f1 /proc/loadavg)
}
put() {
  settle
  s=$(curl -s -o /dev/null -w '%{speed_upload}' -X PUT -T "$FILE" -H "X-Auth-Token: $TOK" "$URL/image-vs-put/o$round")
  put_mbs=$(mbs "$s")
  echo "round $round: cluster PUT  $put_mbs MB/s (dirty $dirty MB, load $load at the start)"
  curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $TOK" "$URL/image-vs-put/o$round"
}
image() {
  id=$(curl -s -X POST -H "X-Auth-Token: $OTOK" -H 'Content-Type: application/json' \
    -d "{\"name\":\"image-vs-put-$round\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}" "$IMG/v2/images" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  settle
  s=$(curl -s -o /dev/null -w '%{speed_upload}' -X PUT -T "$FILE" -H "X-Auth-Token: $OTOK" \
    -H 'Content-Type: application/octet-stream' "$IMG/v2/images/$id/file")
  img_mbs=$(mbs "$s")
  st=$(curl -s -H "X-Auth-Token: $OTOK" "$IMG/v2/images/$id" |
    python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["status"], d["size"], d["checksum"])')
  echo "round $round: image upload $img_mbs MB/s ($st; dirty $dirty MB, load $load at the start)"
  curl -s -o /dev/null -X DELETE -H "X-Auth-Token: $OTOK" "$IMG/v2/images/$id"
}
ratios=()
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order='PUT first'; put; image; else order='image first'; image; put; fi
  r=$(awk -v a="$img_mbs" -v b="$put_mbs" 'BEGIN {printf "%.0f", 100 * a / b}')
  echo "round $round ($order): image/PUT $r%"
  ratios+=("$order:$r")
done
printf '%s\n' "${ratios[@]}" | awk -F: '{n[$1]++; s[$1] += $2; all = all " " $2 "%"}
  END {print "image/PUT by round:" all; for (o in n) printf "  %s: mean %.0f%% over %d rounds\n", o, s[o] / n[o], n[o]}'
echo "settle: $SETTLE (pause $PAUSE s); md5 of the file: $(md5sum "$FILE" | cut -c1-32)"
