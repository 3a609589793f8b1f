#!/bin/bash
# test/clients/osc-functional.sh DATA [TEST_PATH...]
#
# python-openstackclient's own functional suite (Debian's python3-openstackclient ships it as
# openstackclient.tests.functional; it needs python3-tempest and python3-testtools) against a
# running `swiftlet aio --data DATA`. The suite expects a devstack: clouds named devstack-admin,
# devstack (a member) and devstack-system-admin, the flavor m1.tiny, a public image named
# cirros-*-disk, a network `private` and an external network `public` joined by router1. This
# script writes DATA/etc/clouds-devstack.yaml from the aio's clouds.yaml, makes whichever of
# those is missing (as devstack's stack.sh does), then runs the given test paths (relative to the
# suite: `identity/v3`, `network/v2/test_port.py`, ...; default: the suite's v2/v3 parts a
# Swiftlet serves) with pytest. Last line: "N passed, M failed, K skipped".
set -u
DATA=${1:?usage: test/clients/osc-functional.sh DATA [TEST_PATH...]}
shift
PY=/usr/bin/python3
SUITE=$($PY -c 'import openstackclient.tests.functional as f, os; print(os.path.dirname(f.__file__))') || exit 2
$PY -c 'import tempest.lib, testtools' 2>/dev/null || { echo "needs python3-tempest and python3-testtools (apt-get install python3-tempest python3-testtools)" >&2; exit 2; }
[ -f "$DATA/etc/clouds.yaml" ] || { echo "no $DATA/etc/clouds.yaml: is a swiftlet aio running with --data $DATA?" >&2; exit 2; }

export OS_CLIENT_CONFIG_FILE=$DATA/etc/clouds-devstack.yaml
$PY - "$DATA/etc/clouds.yaml" "$OS_CLIENT_CONFIG_FILE" <<'EOF'
import copy, sys, yaml
clouds = yaml.safe_load(open(sys.argv[1]))['clouds']
admin, demo = clouds['swiftlet-admin'], clouds['swiftlet-demo']
system = copy.deepcopy(admin)
for k in ('project_name', 'project_domain_name'):
    system['auth'].pop(k, None)
system['auth']['system_scope'] = 'all'
clouds.update({'devstack-admin': admin, 'devstack': demo, 'devstack-system-admin': system})
yaml.safe_dump({'clouds': clouds}, open(sys.argv[2], 'w'))
EOF

A() { openstack --os-cloud devstack-admin "$@"; }
has() { A "$1" show "${@:2}" > /dev/null 2>&1; }
has flavor m1.tiny || A flavor create --id 1 --ram 512 --disk 1 --vcpus 1 m1.tiny > /dev/null
has flavor cirros256 || A flavor create --id c1 --ram 256 --disk 1 --vcpus 1 cirros256 > /dev/null
if ! A image list -f value -c Name | grep -q '^cirros-.*-disk$'; then
  img=$(mktemp --suffix .qcow2)
  qemu-img create -q -f qcow2 "$img" 64M
  A image create --public --disk-format qcow2 --container-format bare --file "$img" cirros-0.6.2-x86_64-disk > /dev/null
  rm -f "$img"
fi
if ! has network private; then
  A network create private > /dev/null
  A subnet create --network private --subnet-range 10.0.0.0/26 private-subnet > /dev/null
fi
if ! has network public; then
  A network create --external public > /dev/null
  A subnet create --network public --subnet-range 172.24.4.0/24 public-subnet > /dev/null
fi
if ! has router router1; then
  A router create router1 > /dev/null
  A router set --external-gateway public router1
  A router add subnet router1 private-subnet
fi

[ $# -gt 0 ] || set -- common compute/v2 identity/v3 image/v2 network/v2 object/v1 volume/v3
paths=()
for p in "$@"; do paths+=("$SUITE/$p"); done
out=$(mktemp)
cd "$DATA" && $PY -m pytest -q -p no:cacheprovider -o addopts= -rfE "${paths[@]}" 2>&1 | tee "$out" | grep -E '^(FAILED|ERROR) '
summary=$(tail -1 "$out")
rm -f "$out"
n() { grep -oE "[0-9]+ $1" <<<"$summary" | grep -oE '^[0-9]+' || echo 0; }
echo "$summary"
echo "$(n passed) passed, $(( $(n failed) + $(n error) )) failed, $(n skipped) skipped"
