#!/bin/bash
# python-openstackclient (`openstack`, Debian package python3-openstackclient) against a Keystone
# v3 endpoint, the way an operator uses it: tokens and the catalog, domains, projects, users,
# groups, roles and role assignments, application and EC2 credentials, and Keystone's refusals;
# then images (Glance v2, with glanceclient too); the network service: networks, subnets, ports,
# security group rules, routers, floating IPs; compute: flavors, keypairs, hosts and a server's
# life; then volumes, snapshots and backups (Cinder v3) when the catalog has them.
# Endpoint: OS_CLIENT_CONFIG_FILE with clouds OS_ADMIN_CLOUD (swiftlet-admin) and
# OS_DEMO_CLOUD (swiftlet-demo), as `swiftlet aio` writes them. Last line: "N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"
: "${OS_CLIENT_CONFIG_FILE:?set OS_CLIENT_CONFIG_FILE to a clouds.yaml}"
export OS_CLIENT_CONFIG_FILE
ADMIN=${OS_ADMIN_CLOUD:-swiftlet-admin}
DEMO=${OS_DEMO_CLOUD:-swiftlet-demo}
os() { openstack --os-cloud "$ADMIN" "$@"; }
demo() { openstack --os-cloud "$DEMO" "$@"; }
# fails_with TEXT COMMAND...: the command fails and says TEXT (Keystone's error reaches the user)
fails_with() { local want=$1; shift; local out; if out=$("$@" 2>&1); then echo "unexpected success: $out"; return 1; fi; grep -q -- "$want" <<<"$out" || { echo "$out"; return 1; }; }
export ADMIN DEMO
export -f os demo fails_with
S=$$
D="cdom-$S" P="cproj-$S" U="cuser-$S" G="cgroup-$S" R="crole-$S"
cd "$WORK"

check "token issue (admin)" bash -c "os token issue -f value -c id | grep -q '^gAAAAA'"
[ "$PASSED" -eq 1 ] || { echo "no working identity endpoint in $OS_CLIENT_CONFIG_FILE"; FAILED=$((FAILED+40)); finish; exit 1; }
check "token issue (demo, a non-admin)" bash -c "demo token issue -f value -c project_id | grep -Eq '^[0-9a-f]{32}$'"
check "catalog list: identity and object-store" bash -c "out=\$(os catalog list -f value -c Type); grep -qx identity <<<\"\$out\" && grep -qx object-store <<<\"\$out\""
check "catalog show object-store: the project's storage URL" bash -c "os catalog show object-store -f value -c endpoints | grep -Eq \"'interface': 'public', [^}]*'url': 'http://[^']*/v1/AUTH_[0-9a-f]{32}'\""

check "domain create" os domain create --description "conformance domain" "$D"
check "domain list" bash -c "os domain list -f value -c Name | grep -qx $D"
check "domain show" bash -c "[ \"\$(os domain show $D -f value -c description)\" = 'conformance domain' ]"
check "domain set --description" bash -c "os domain set --description changed $D && [ \"\$(os domain show $D -f value -c description)\" = changed ]"
check "domain create again: 409" fails_with "Conflict occurred" os domain create "$D"

check "project create --domain" os project create --domain "$D" --description "conformance project" "$P"
check "project create --parent" os project create --domain "$D" --parent "$P" "$P-child"
check "project list --domain" bash -c "[ \"\$(os project list --domain $D -f value -c Name | sort | tr '\n' ' ')\" = '$P $P-child ' ]"
check "project show: parent_id" bash -c "[ \"\$(os project show --domain $D $P-child -f value -c parent_id)\" = \"\$(os project show --domain $D $P -f value -c id)\" ]"
check "project set --disable a parent with an enabled child: refused" fails_with "subtree contains enabled projects" os project set --domain "$D" --disable "$P"
check "project set --name" bash -c "os project set --domain $D --name $P-kid $P-child && os project show --domain $D $P-kid -f value -c name | grep -qx $P-kid"

check "user create --password" os user create --domain "$D" --password "pw-$S" --email "u@example.com" --description "conformance user" "$U"
check "user create again: 409" fails_with "Conflict occurred" os user create --domain "$D" --password x "$U"
check "user list --domain" bash -c "os user list --domain $D -f value -c Name | grep -qx $U"
check "user show: no password shown" bash -c "out=\$(os user show --domain $D $U -f json); grep -q '\"email\": \"u@example.com\"' <<<\"\$out\" && ! grep -qi 'pw-$S\\|hash' <<<\"\$out\""

check "group create" os group create --domain "$D" --description "conformance group" "$G"
check "group add user" os group add user --group-domain "$D" --user-domain "$D" "$G" "$U"
check "group contains user" bash -c "os group contains user --group-domain $D --user-domain $D $G $U | grep -qx '$U in group $G'"
check "group list / show / set" bash -c "os group list -f value -c Name | grep -qx $G && os group set --domain $D --description changed $G && [ \"\$(os group show --domain $D $G -f value -c description)\" = changed ]"

check "role create / list / show / set" bash -c "os role create $R >/dev/null && os role list -f value -c Name | grep -qx $R && os role set --description rd $R && [ \"\$(os role show $R -f value -c description)\" = rd ]"
check "role add --project --user" os role add --project "$P" --project-domain "$D" --user "$U" --user-domain "$D" member
check "role add --project --group" os role add --project "$P" --project-domain "$D" --group "$G" --group-domain "$D" "$R"
check "role assignment list --names --project" bash -c "out=\$(os role assignment list --names --project $P --project-domain $D -f value -c Role -c User -c Group); grep -q \"member $U@$D\" <<<\"\$out\" && grep -q \"$R  $G@$D\" <<<\"\$out\""
check "role assignment list --effective: group roles and implied reader" bash -c "out=\$(os role assignment list --user $U --user-domain $D --effective --names -f value -c Role); for r in member reader $R; do grep -qx \$r <<<\"\$out\" || exit 1; done"

OS_AUTH_URL=$(os catalog show identity -f value -c endpoints | grep -o "'interface': 'public', [^}]*'url': '[^']*'" | sed "s/.*'url': '//; s/'$//" | head -1)
as_user() { openstack --os-auth-url "$OS_AUTH_URL" --os-identity-api-version 3 --os-username "$U" --os-user-domain-name "$D" --os-password "pw-$S" --os-project-name "$P" --os-project-domain-name "$D" "$@"; }
export OS_AUTH_URL U D S P
export -f as_user
check "the new user gets a token on the project they were granted" bash -c "as_user token issue -f value -c project_id | grep -Eq '^[0-9a-f]{32}$'"
check "wrong password: 401, no hint" fails_with "The request you have made requires authentication" openstack --os-auth-url "$OS_AUTH_URL" --os-identity-api-version 3 --os-username "$U" --os-user-domain-name "$D" --os-password wrong --os-project-name "$P" --os-project-domain-name "$D" token issue
check "a non-admin cannot list users: 403" fails_with "You are not authorized to perform the requested action: identity:list_users" demo user list

check "application credential create / list / show" bash -c "as_user application credential create --description conf --secret 'ac-secret-$S' ac-$S -f value -c id > ac.id && as_user application credential list -f value -c Name | grep -qx ac-$S && as_user application credential show ac-$S -f value -c project_id | grep -Eq '^[0-9a-f]{32}$'"
check "token from the application credential" bash -c "openstack --os-auth-url $OS_AUTH_URL --os-identity-api-version 3 --os-auth-type v3applicationcredential --os-application-credential-id \$(cat ac.id) --os-application-credential-secret 'ac-secret-$S' token issue -f value -c project_id | grep -Eq '^[0-9a-f]{32}$'"
check "application credential delete" bash -c "as_user application credential delete ac-$S && ! as_user application credential list -f value -c Name | grep -qx ac-$S"

check "ec2 credentials create / list / show / delete" bash -c "a=\$(as_user ec2 credentials create -f value -c access) && as_user ec2 credentials list -f value -c Access | grep -qx \$a && as_user ec2 credentials show \$a -f value -c secret | grep -Eq '^[0-9a-f]{32}$' && as_user ec2 credentials delete \$a"
check "credential list (admin)" bash -c "os credential list -f value -c Type >/dev/null"

check "role remove" os role remove --project "$P" --project-domain "$D" --user "$U" --user-domain "$D" member
check "group remove user / delete" bash -c "os group remove user --group-domain $D --user-domain $D $G $U && os group delete --domain $D $G"
check "user set --disable, then the user cannot get a token" bash -c "os user set --domain $D --disable $U && ! openstack --os-auth-url $OS_AUTH_URL --os-identity-api-version 3 --os-username $U --os-user-domain-name $D --os-password pw-$S token issue >/dev/null 2>&1"
check "user delete / role delete" bash -c "os user delete --domain $D $U && os role delete $R"
check "project delete (child first)" bash -c "os project delete --domain $D $P-kid && os project delete --domain $D $P"
check "domain delete while enabled: refused" fails_with "Cannot delete a domain that is enabled" os domain delete "$D"
check "domain set --disable / delete" bash -c "os domain set --disable $D && os domain delete $D && ! os domain list -f value -c Name | grep -qx $D"
# The image service (Glance v2) as `openstack image` and `glance` use it.
I="cimg-$S"
head -c 3145728 /dev/urandom > img.bin
printf 'QFI\373\0\0\0\3' > q.bin; head -c 16 /dev/zero >> q.bin; printf '\0\0\0\1\0\0\0\0' >> q.bin; head -c 100000 /dev/urandom >> q.bin
GL_AUTH_URL=$(os catalog show identity -f value -c endpoints | grep -o "'interface': 'public', [^}]*'url': '[^']*'" | sed "s/.*'url': '//; s/'$//" | head -1)
GL_PASSWORD=$(python3 -c "import yaml; print(yaml.safe_load(open('$OS_CLIENT_CONFIG_FILE'))['clouds']['$ADMIN']['auth']['password'])")
GL="glance --os-image-api-version 2 --os-auth-url $GL_AUTH_URL --os-username admin --os-user-domain-name Default --os-project-name admin --os-project-domain-name Default --os-password $GL_PASSWORD"
gl() { $GL "$@"; }
export GL
export -f gl
export I
check "catalog list: image" bash -c "os catalog list -f value -c Type | grep -qx image"
check "image create --file --disk-format qcow2 --container-format bare --property" bash -c "os image create --file img.bin --disk-format qcow2 --container-format bare --property os_distro=cirros $I -f value -c status | grep -qx queued"
check "image list: active" bash -c "os image list -f value -c Name -c Status | grep -qx '$I active'"
check "image show: size, checksum, sha512" bash -c "out=\$(os image show $I -f json); grep -q '\"size\": 3145728' <<<\"\$out\" && grep -q \"\\\"checksum\\\": \\\"\$(md5sum img.bin | cut -d' ' -f1)\\\"\" <<<\"\$out\" && grep -q \"\$(sha512sum img.bin | cut -d' ' -f1)\" <<<\"\$out\""
check "image save: identical bytes" bash -c "os image save --file out.bin $I && cmp img.bin out.bin"
check "image set --property --min-ram, unset --property" bash -c "os image set --property hw_disk_bus=virtio --property os_type=linux --min-ram 64 $I && os image unset --property os_type $I && out=\$(os image show $I -f json -c properties -c min_ram) && grep -q '\"hw_disk_bus\": \"virtio\"' <<<\"\$out\" && ! grep -q os_type <<<\"\$out\" && grep -q '\"min_ram\": 64' <<<\"\$out\""
check "image set --tag, list --tag, unset --tag" bash -c "os image set --tag web --tag v1 $I && os image list --tag web -f value -c Name | grep -qx $I && os image unset --tag web $I && out=\$(os image show $I -f value -c tags) && grep -q v1 <<<\"\$out\" && ! grep -q web <<<\"\$out\""
check "image list --property, --long" bash -c "os image list --property os_distro=cirros -f value -c Name | grep -qx $I && os image list --long -f value -c Name -c 'Disk Format' | grep -qx '$I qcow2'"
check "a non-admin cannot see a private image" bash -c "os image create --private --disk-format raw --container-format bare --file img.bin $I-p >/dev/null && ! demo image list -f value -c Name | grep -qx $I-p"
DEMO_PROJECT=$(demo token issue -f value -c project_id)
export DEMO_PROJECT
check "image set --shared, add project, member accepts, then lists it" bash -c "os image set --shared $I-p && os image add project $I-p $DEMO_PROJECT -f value -c status | grep -qx pending && ! demo image list -f value -c Name | grep -qx $I-p && demo image set --accept \$(os image show $I-p -f value -c id) && demo image list -f value -c Name | grep -qx $I-p"
check "a member may not change the image: 403" fails_with "403" demo image set --property foo=bar "$(os image show "$I-p" -f value -c id)"
check "image set --public (admin), the demo project sees it" bash -c "os image remove project $I-p $DEMO_PROJECT && os image set --public $I-p && demo image list -f value -c Name | grep -qx $I-p"
check "a non-admin may not publicize: 403" bash -c "demo image create --disk-format raw --container-format bare $I-d >/dev/null && ! demo image set --public $I-d 2>/dev/null && demo image delete $I-d"
check "image set --protected: delete refused" bash -c "os image set --protected $I && fails_with 'is protected and cannot be deleted' os image delete $I"
check "image set --deactivate / --activate" bash -c "os image set --unprotected $I && os image set --deactivate $I && [ \"\$(os image show $I -f value -c status)\" = deactivated ] && os image set --activate $I && [ \"\$(os image show $I -f value -c status)\" = active ]"
check "image create --disk-format floppy: 400, nothing made" bash -c "! os image create --disk-format floppy $I-bad >/dev/null 2>&1 && ! os image list -f value -c Name | grep -qx $I-bad"
check "glance image-create (chunked upload) with a qcow2's virtual size" bash -c "gl image-create --name $I-gl --disk-format qcow2 --container-format bare --file q.bin | grep -Eq 'virtual_size +\\| 4294967296'"
# glanceclient reads stdin when it is not a terminal, and refuses --file with it: give it one.
check "glance image-create-via-import (glance-direct)" bash -c "script -qec \"\$GL image-create-via-import --name $I-imp --disk-format raw --container-format bare --import-method glance-direct --file img.bin\" /dev/null >/dev/null && for i in 1 2 3 4 5 6 7 8 9 10; do [ \"\$(os image show $I-imp -f value -c status)\" = active ] && exit 0; sleep 1; done; exit 1"
check "image delete: gone with its bytes" bash -c "os image delete $I $I-p $I-gl $I-imp && ! os image list -f value -c Name | grep -q $I"

# The network service (Neutron v2.0): what a tenant does before booting a server, and the
# refusals that reach the user.
N="cnet-$S" SGP=$((20000 + S % 10000))
export N SGP
check "catalog list: network" bash -c "os catalog list -f value -c Type | grep -qx network"
check "network create (demo)" bash -c "demo network create $N -f value -c status | grep -qx ACTIVE"
check "subnet create" bash -c "demo subnet create --network $N --subnet-range 10.77.0.0/29 $N-sub -f value -c gateway_ip | grep -qx 10.77.0.1"
check "port create --fixed-ip" bash -c "demo port create --network $N --fixed-ip subnet=$N-sub,ip-address=10.77.0.2 $N-p2 -f json | grep -q '\"ip_address\": \"10.77.0.2\"'"
check "port create, the same fixed IP again: 409" fails_with "IP address 10.77.0.2 already allocated in subnet" demo port create --network $N --fixed-ip subnet=$N-sub,ip-address=10.77.0.2 $N-p3
check "port create: an address from the pool" bash -c "demo port create --network $N $N-p1 -f json | grep -q '\"ip_address\": \"10.77.0.[3-6]\"'"
check "port list --network" bash -c "[ \"\$(demo port list --network $N -f value -c Name | sort | tr '\n' ' ')\" = '$N-p1 $N-p2 ' ]"
check "a /29 runs out: 409 IpAddressGenerationFailure" bash -c "for i in 3 4 5 6; do demo port create --network $N $N-x\$i >/dev/null 2>&1; done; fails_with 'No more IP addresses available on network' demo port create --network $N $N-x7"
check "security group rule create (default group)" bash -c "demo security group rule create --protocol tcp --dst-port $SGP default -f value -c port_range_max | grep -qx $SGP"
check "security group rule create again: 409" fails_with "Security group rule already exists" demo security group rule create --protocol tcp --dst-port "$SGP" default
check "security group rule create, an IPv6 rule with an IPv4 prefix: 400" fails_with "Conflicting value ethertype IPv6 for CIDR 10.0.0.0/8" demo security group rule create --ethertype IPv6 --remote-ip 10.0.0.0/8 default
check "network create --external (admin)" bash -c "os network create --external $N-pub -f value -c router:external | grep -qx True && os subnet create --network $N-pub --subnet-range 172.29.4.0/24 --no-dhcp $N-pub-sub >/dev/null"
check "a non-admin cannot make a shared network: 403" fails_with "disallowed by policy" demo network create --share $N-shared
check "router create / set --external-gateway" bash -c "demo router create $N-r >/dev/null && demo router set --external-gateway $N-pub $N-r && demo router show $N-r -f value -c external_gateway_info | grep -q 172.29.4."
check "router add subnet" bash -c "demo router add subnet $N-r $N-sub && demo port list --router $N-r -f value -c 'Fixed IP Addresses' | grep -q 10.77.0.1"
check "floating ip create / set --port" bash -c "f=\$(demo floating ip create $N-pub -f value -c id) && demo floating ip set --port $N-p1 \$f && demo floating ip show \$f -f value -c fixed_ip_address | grep -q '^10.77.0.'"
check "network delete with ports: 409 in use" fails_with "There are one or more ports still in use on the network" demo network delete $N
check "tear down: floating ips, router, ports, subnets, networks" bash -c "for f in \$(demo floating ip list --network $N-pub -f value -c ID); do demo floating ip delete \$f; done && demo router remove subnet $N-r $N-sub && demo router delete $N-r && demo port delete \$(demo port list --network $N -f value -c ID) && demo network delete $N && os network delete $N-pub && ! demo network list -f value -c Name | grep -qx $N"

# Compute (Nova v2.1): flavors, keypairs, the hosts, quotas; then a server's life, which needs
# the image (Glance) and network (Neutron) services in the catalog too.
FL="cflavor-$S" KP="ckey-$S"
check "catalog list: compute" bash -c "os catalog list -f value -c Type | grep -qx compute"
check "flavor create" os flavor create --ram 128 --vcpus 1 --disk 1 --property hw:cpu_policy=shared "$FL"
check "flavor list: the new flavor" bash -c "os flavor list -f value -c Name | grep -qx $FL"
check "flavor show: properties" bash -c "os flavor show $FL -f value -c properties | grep -q shared"
check "flavor create again: 409" fails_with "Flavor with name $FL already exists" os flavor create --ram 128 --vcpus 1 --disk 1 "$FL"
check "flavor create as a member: 403" fails_with "os_compute_api:os-flavor-manage:create" demo flavor create --ram 1 --vcpus 1 --disk 0 "$FL-x"
check "keypair create: a private key" bash -c "demo keypair create $KP > kp.pem && grep -q 'BEGIN RSA PRIVATE KEY' kp.pem"
check "keypair list / show" bash -c "demo keypair list -f value -c Name | grep -qx $KP && demo keypair show $KP -f value -c fingerprint | grep -Eq '^([0-9a-f]{2}:){15}[0-9a-f]{2}$'"
check "compute service list: nova-compute up" bash -c "os compute service list -f value -c Binary -c State | grep -q 'nova-compute up'"
check "hypervisor list" bash -c "os hypervisor list -f value -c State | grep -q up"
check "availability zone list --compute: nova" bash -c "os availability zone list --compute -f value -c 'Zone Name' | grep -qx nova"
check "aggregate create --zone --property, add host: the zone listed for compute; set/unset --property; remove host, delete: the host back in nova" bash -c "h=\$(os compute service list --service nova-compute -f value -c Host | head -1) && os aggregate create --zone caz-$S --property ssd=true cagg-$S >/dev/null && os aggregate add host cagg-$S \$h >/dev/null && os availability zone list --compute -f value -c 'Zone Name' | grep -qx caz-$S && os aggregate set --property gpu=no cagg-$S && os aggregate unset --property ssd cagg-$S && [ \"\$(os aggregate show cagg-$S -f json | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)[\"properties\"]))')\" = \"['gpu']\" ] && os aggregate remove host cagg-$S \$h >/dev/null && os aggregate delete cagg-$S && ! os availability zone list --compute -f value -c 'Zone Name' | grep -qx caz-$S"
check "quota show: the compute and volume parts" bash -c "out=\$(os quota show -f json); grep -Eq '\"instances\": -?[0-9]+' <<<\"\$out\" && grep -Eq '\"volumes\": -?[0-9]+' <<<\"\$out\" && grep -Eq '\"backup-gigabytes\": -?[0-9]+' <<<\"\$out\""
check "limits show --absolute: compute and volume limits" bash -c "out=\$(demo limits show --absolute -f value -c Name); grep -qx maxTotalInstances <<<\"\$out\" && grep -qx maxTotalVolumes <<<\"\$out\" && grep -qx totalGigabytesUsed <<<\"\$out\""
if os catalog list -f value -c Type | grep -qx image && os catalog list -f value -c Type | grep -qx network; then
  IMG="csrvimg-$S" NET="csrvnet-$S" VM="cvm-$S"
  head -c 1048576 /dev/urandom > img.raw
  check "image create (for the server)" os image create --disk-format raw --container-format bare --file img.raw --public "$IMG"
  check "network and subnet create (for the server)" bash -c "demo network create $NET >/dev/null && demo subnet create --network $NET --subnet-range 10.78.0.0/24 $NET-sub >/dev/null"
  check "server create --wait: ACTIVE" bash -c "demo server create --image $IMG --flavor $FL --network $NET --key-name $KP --wait $VM -f value -c status | grep -qx ACTIVE"
  check "server list: ACTIVE with an address" bash -c "demo server list -f value -c Name -c Status -c Networks | grep -q \"$VM ACTIVE .*10\\.78\\.0\\.\""
  check "server show: key and flavor" bash -c "[ \"\$(demo server show $VM -f value -c key_name)\" = $KP ]"
  check "server set --property / unset --property: the server's metadata" bash -c "demo server set --property role=web --property tier=1 $VM && demo server unset --property tier $VM && [ \"\$(demo server show $VM -f json -c properties | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"properties\"])')\" = \"{'role': 'web'}\" ]"
  check "server set --tag / unset --tag (2.26); server list --tags" bash -c "demo --os-compute-api-version 2.26 server set --tag blue --tag green $VM && demo --os-compute-api-version 2.26 server unset --tag green $VM && [ \"\$(demo --os-compute-api-version 2.26 server list --tags blue -f value -c Name)\" = $VM ] && demo --os-compute-api-version 2.26 server show $VM -f json -c tags | grep -q '\"blue\"'"
  check "server set --state error (admin), then --state active: the status follows" bash -c "id=\$(demo server show $VM -f value -c id) && os server set --state error \$id && [ \"\$(os server show \$id -f value -c status)\" = ERROR ] && os server set --state active \$id && [ \"\$(os server show \$id -f value -c status)\" = ACTIVE ]"
  check "server add security group / remove security group: the group on the server's port in Neutron and in server show, then off" bash -c "demo security group create $VM-sg >/dev/null && demo server add security group $VM $VM-sg && sg=\$(demo security group show $VM-sg -f value -c id) && p=\$(demo port list --server $VM -f value -c ID) && demo port show \$p -f value -c security_group_ids | grep -q \$sg && demo server show $VM -f value -c security_groups | grep -q \"'$VM-sg'\" && demo server remove security group $VM $VM-sg && ! demo port show \$p -f value -c security_group_ids | grep -q \$sg && demo security group delete $VM-sg"
  check "server backup create --type daily --rotate 1 --wait, twice: the newest daily backup is the one left" bash -c "id=\$(demo server show $VM -f value -c id) && demo server backup create --name $VM-b1 --type daily --rotate 1 --wait $VM >/dev/null && demo server backup create --name $VM-b2 --type daily --rotate 1 --wait $VM >/dev/null && for i in \$(seq 60); do [ \"\$(demo image list --property backup_type=daily --property instance_uuid=\$id -f value -c Name)\" = $VM-b2 ] && break; sleep 1; done && [ \"\$(demo image list --property backup_type=daily --property instance_uuid=\$id -f value -c Name)\" = $VM-b2 ] && demo image delete $VM-b2"
  check "usage show (the demo's project) and usage list (admin): the running server counted, with CPU hours" bash -c "demo usage show -f json | python3 -c 'import json,sys; v=json.load(sys.stdin)[\"Servers\"]; sys.exit(0 if (v if isinstance(v, int) else len(v)) >= 1 else 1)' && os usage list -f json | python3 -c 'import json,sys; u=json.load(sys.stdin); sys.exit(0 if any((x[\"Servers\"] if isinstance(x[\"Servers\"], int) else len(x[\"Servers\"])) >= 1 and float(x[\"CPU Hours\"]) >= 0 for x in u) else 1)'"
  check "server event list / event show (2.51): the create's events, the conductor's and the host's build Success" bash -c "r=\$(demo server event list $VM -f value -c 'Request ID' -c Action | awk '\$2==\"create\"{print \$1}') && demo --os-compute-api-version 2.51 server event show $VM \$r -f json | python3 -c 'import json,sys; e={x[\"event\"]: x[\"result\"] for x in json.load(sys.stdin)[\"events\"]}; sys.exit(0 if e == {\"conductor_schedule_and_build_instances\": \"Success\", \"compute__do_build_and_run_instance\": \"Success\"} else 1)'"
  check "server show --os-compute-api-version 2.16 (admin): host_status UP" bash -c "[ \"\$(os --os-compute-api-version 2.16 server show \$(demo server show $VM -f value -c id) -f value -c host_status)\" = UP ]"
  check "compute service set --down: host_status DOWN; --up: UP again" bash -c "id=\$(demo server show $VM -f value -c id) h=\$(os server show \$id -f value -c OS-EXT-SRV-ATTR:host) && os --os-compute-api-version 2.53 compute service set --down \$h nova-compute && s=\$(os --os-compute-api-version 2.16 server show \$id -f value -c host_status); os --os-compute-api-version 2.53 compute service set --up \$h nova-compute && [ \"\$s\" = DOWN ] && [ \"\$(os --os-compute-api-version 2.16 server show \$id -f value -c host_status)\" = UP ]"
  check "server stop: SHUTOFF" bash -c "demo server stop $VM && for i in \$(seq 60); do [ \"\$(demo server show $VM -f value -c status)\" = SHUTOFF ] && exit 0; sleep 1; done; exit 1"
  check "server start: ACTIVE" bash -c "demo server start $VM && for i in \$(seq 60); do [ \"\$(demo server show $VM -f value -c status)\" = ACTIVE ] && exit 0; sleep 1; done; exit 1"
  check "server reboot --wait" demo server reboot --wait "$VM"
  check "port list --server: the server's port, on the subnet" bash -c "demo port list --server $VM -f value -c 'Fixed IP Addresses' | grep -q \"10\\.78\\.0\\.\""
  check "server add network / add port (os-interface): a port on each in port list --server, the address in server show; remove port gives the user's port back, remove network deletes the one compute made" bash -c "demo network create $NET-2 >/dev/null && demo subnet create --network $NET-2 --subnet-range 10.79.0.0/24 $NET-2-sub >/dev/null && demo server add network $VM $NET-2 && demo server show $VM -f value -c addresses | grep -q \"10\\.79\\.0\\.\" && demo port create --network $NET-2 $VM-p2 >/dev/null && demo server add port $VM $VM-p2 && [ \"\$(demo port list --server $VM -f value -c ID | wc -l)\" = 3 ] && demo server remove port $VM $VM-p2 && demo server remove network $VM $NET-2 && for i in \$(seq 60); do demo server show $VM -f value -c addresses | grep -q \"10\\.79\\.0\\.\" || break; sleep 1; done && ! demo server show $VM -f value -c addresses | grep -q \"10\\.79\\.0\\.\" && [ \"\$(demo port list --server $VM -f value -c ID | wc -l)\" = 1 ] && [ -z \"\$(demo port show $VM-p2 -f value -c device_id)\" ] && demo port delete $VM-p2"
  check "server image create --wait: an active image" bash -c "demo server image create --name $VM-snap --wait $VM >/dev/null && [ \"\$(demo image show $VM-snap -f value -c status)\" = active ]"
  check "server image create by the admin of the demo's server: shared, the demo's project a member who sees it" bash -c "id=\$(os server image create --name $VM-asnap --wait \$(demo server show $VM -f value -c id) -f value -c id) && [ \"\$(demo image show \$id -f value -c visibility)\" = shared ] && os image member list \$id -f value -c 'Member ID' | grep -qx \"\$(demo token issue -f value -c project_id)\" && os image delete \$id"
  check "floating ip create, set on the server's port" bash -c "os network create --external $NET-pub >/dev/null && os subnet create --network $NET-pub --subnet-range 172.29.5.0/24 --no-dhcp $NET-pub-sub >/dev/null && demo router create $NET-r >/dev/null && demo router set --external-gateway $NET-pub $NET-r && demo router add subnet $NET-r $NET-sub && f=\$(demo floating ip create $NET-pub -f value -c id) && demo floating ip set --port \$(demo port list --server $VM -f value -c ID) \$f && demo floating ip show \$f -f value -c fixed_ip_address | grep -q '^10\\.78\\.0\\.'"
  check "server delete --wait: its port goes too" bash -c "demo server delete --wait $VM && ! demo server list -f value -c Name | grep -qx $VM && [ -z \"\$(demo port list --network $NET --device-owner compute:nova -f value -c ID)\" ]"
  # Server groups, rebuild and resize on a server without NICs (`--network none`, 2.37), so
  # they do not wait on the port binding above.
  SG="csg-$S" VM2="cvm2-$S"
  check "flavor create (the resize target)" os flavor create --ram 256 --vcpus 2 --disk 1 "$FL-2"
  check "server group create --policy anti-affinity --rule max_server_per_host=2 (2.64)" bash -c "demo --os-compute-api-version 2.64 server group create --policy anti-affinity --rule max_server_per_host=2 $SG -f value -c policy | grep -qx anti-affinity"
  check "server group create --policy soft-affinity (2.15)" bash -c "demo --os-compute-api-version 2.15 server group create --policy soft-affinity $SG-soft >/dev/null"
  check "server group list / show" bash -c "demo server group list -f value -c Name | grep -qx $SG && demo --os-compute-api-version 2.64 server group show $SG -f json | grep -q '\"max_server_per_host\": 2'"
  check "server create --network none --hint group=<id> --wait: ACTIVE, a member of the group" bash -c "demo --os-compute-api-version 2.37 server create --image $IMG --flavor $FL --network none --hint group=\$(demo server group show $SG -f value -c id) --wait $VM2 -f value -c status | grep -qx ACTIVE && demo server group show $SG -f value -c members | grep -q \$(demo server show $VM2 -f value -c id)"
  check "server rebuild --image --wait: ACTIVE" bash -c "demo server rebuild --image $IMG --wait $VM2 >/dev/null && [ \"\$(demo server show $VM2 -f value -c status)\" = ACTIVE ]"
  check "server resize --flavor --wait: VERIFY_RESIZE" bash -c "demo server resize --flavor $FL-2 --wait $VM2 && [ \"\$(demo server show $VM2 -f value -c status)\" = VERIFY_RESIZE ]"
  check "server resize --confirm: ACTIVE with the new flavor" bash -c "demo server resize --confirm $VM2 2>/dev/null && for i in \$(seq 60); do [ \"\$(demo server show $VM2 -f value -c status)\" = ACTIVE ] && break; sleep 1; done && demo server show $VM2 -f value -c flavor | grep -q $FL-2"
  check "server resize, then server resize revert: ACTIVE with the old flavor" bash -c "demo server resize --flavor $FL --wait $VM2 && demo server resize revert $VM2 && for i in \$(seq 60); do [ \"\$(demo server show $VM2 -f value -c status)\" = ACTIVE ] && break; sleep 1; done && demo server show $VM2 -f value -c flavor | grep -q $FL-2"
  check "server migration list --server (admin, 2.23): the resize confirmed, the other reverted" bash -c "id=\$(demo server show $VM2 -f value -c id) && l=\$(os --os-compute-api-version 2.23 server migration list --server \$id -f value -c Status -c Type) && echo \"\$l\" | grep -qx 'confirmed resize' && echo \"\$l\" | grep -qx 'reverted resize'"
  check "flavor create --ephemeral 1 --swap 64; server create --network none --wait: ACTIVE, the flavor's ephemeral and swap shown (2.47)" bash -c "os flavor create --ram 256 --vcpus 1 --disk 1 --ephemeral 1 --swap 64 $FL-e >/dev/null && demo --os-compute-api-version 2.47 server create --image $IMG --flavor $FL-e --network none --wait $VM2-e -f value -c status | grep -qx ACTIVE && f=\$(demo --os-compute-api-version 2.47 server show $VM2-e -f value -c flavor) && grep -q \"'ephemeral': 1,\" <<<\"\$f\" && grep -q \"'swap': 64,\" <<<\"\$f\""
  check "server create --ephemeral size=1,format=ext4 --swap 32: ACTIVE" bash -c "demo --os-compute-api-version 2.37 server create --image $IMG --flavor $FL-e --ephemeral size=1,format=ext4 --swap 32 --network none --wait $VM2-f -f value -c status | grep -qx ACTIVE"
  check "server create --swap larger than the flavor's: 400, no server" bash -c "! demo --os-compute-api-version 2.37 server create --image $IMG --flavor $FL-e --swap 128 --network none $VM2-g >/dev/null 2>err.txt && grep -q 'Swap drive requested is larger than instance type allows' err.txt && ! demo server list -f value -c Name | grep -qx $VM2-g"
  # The instance directories are the aio's (SWIFTLET_DATA, set by scripts/conformance.sh); elsewhere only what the API shows is checked.
  check "server create --config-drive True --user-data --key-name --wait: config_drive True; its disk.config a config-2 ISO with the key and user data" bash -c "printf '#cloud-config\\nhostname: cd\\n' > ud.yaml && demo --os-compute-api-version 2.37 server create --image $IMG --flavor $FL --network none --config-drive True --user-data ud.yaml --key-name $KP --wait $VM2-cd -f value -c status | grep -qx ACTIVE && id=\$(demo server show $VM2-cd -f value -c id) && [ \"\$(demo server show $VM2-cd -f value -c config_drive)\" = True ] && if [ -n \"\${SWIFTLET_DATA:-}\" ]; then iso=\$(find \"\$SWIFTLET_DATA/instances\" -path \"*/\$id/disk.config\") && isoinfo -d -i \"\$iso\" | grep -q 'Volume id: config-2' && isoinfo -R -i \"\$iso\" -x /openstack/latest/user_data | cmp -s - ud.yaml && isoinfo -R -i \"\$iso\" -x /openstack/latest/meta_data.json | grep -q \"\\\"\$id\\\"\" && isoinfo -R -i \"\$iso\" -x /openstack/latest/meta_data.json | grep -q '\"$KP\":\"ssh-'; fi && demo server delete --wait $VM2-cd"
  check "server shelve --wait: SHELVED_OFFLOADED, its disk in the image <name>-shelved; server unshelve --wait: ACTIVE, the image deleted" bash -c "demo --os-compute-api-version 2.37 server create --image $IMG --flavor $FL --network none --wait $VM2-sh >/dev/null && demo server shelve --wait $VM2-sh && [ \"\$(demo server show $VM2-sh -f value -c status)\" = SHELVED_OFFLOADED ] && [ \"\$(demo image show $VM2-sh-shelved -f value -c status)\" = active ] && demo server unshelve --wait $VM2-sh && [ \"\$(demo server show $VM2-sh -f value -c status)\" = ACTIVE ] && ! demo image show $VM2-sh-shelved >/dev/null 2>&1 && demo server delete --wait $VM2-sh"
  check "server rescue --image: RESCUE, booted from a copy of that image (its disk.rescue); server unrescue: ACTIVE, the rescue disk gone" bash -c "demo --os-compute-api-version 2.37 server create --image $IMG --flavor $FL --network none --wait $VM2-rs >/dev/null && id=\$(demo server show $VM2-rs -f value -c id) && demo server rescue --image $IMG $VM2-rs && for i in \$(seq 60); do [ \"\$(demo server show $VM2-rs -f value -c status)\" = RESCUE ] && break; sleep 1; done && [ \"\$(demo server show $VM2-rs -f value -c status)\" = RESCUE ] && if [ -n \"\${SWIFTLET_DATA:-}\" ]; then cmp -s \"\$(find \"\$SWIFTLET_DATA/instances\" -path \"*/\$id/disk.rescue\")\" img.raw; fi && demo server unrescue $VM2-rs && for i in \$(seq 60); do [ \"\$(demo server show $VM2-rs -f value -c status)\" = ACTIVE ] && break; sleep 1; done && [ \"\$(demo server show $VM2-rs -f value -c status)\" = ACTIVE ] && if [ -n \"\${SWIFTLET_DATA:-}\" ]; then [ -z \"\$(find \"\$SWIFTLET_DATA/instances\" -path \"*/\$id/disk.rescue\")\" ]; fi && demo server delete --wait $VM2-rs"
  check "server delete --force (forceDelete): the server gone" bash -c "demo --os-compute-api-version 2.37 server create --image $IMG --flavor $FL --network none --wait $VM2-fd >/dev/null && demo server delete --force --wait $VM2-fd && ! demo server list -f value -c Name | grep -qx $VM2-fd"
  check "server delete of servers with ephemeral and swap disks; flavor delete" bash -c "demo server delete --wait $VM2-e $VM2-f && os flavor delete $FL-e"
  # Moves need a second host (an aio with one storage process has one agent).
  if [ "$(os compute service list --service nova-compute -f value -c Host | wc -l)" -gt 1 ]; then
    check "server resize --flavor --wait moves the server to another host (allow_resize_to_same_host false); confirm: ACTIVE there" bash -c "h0=\$(os server show $VM2 -f value -c OS-EXT-SRV-ATTR:host) && demo server resize --flavor $FL --wait $VM2 && h1=\$(os server show $VM2 -f value -c OS-EXT-SRV-ATTR:host) && [ \"\$h1\" != \"\$h0\" ] && demo server resize confirm $VM2 && for i in \$(seq 60); do [ \"\$(demo server show $VM2 -f value -c status)\" = ACTIVE ] && break; sleep 1; done && [ \"\$(demo server show $VM2 -f value -c status)\" = ACTIVE ]"
    check "server migrate --wait (admin): VERIFY_RESIZE on another host, same flavor; server migration confirm: ACTIVE" bash -c "h0=\$(os server show $VM2 -f value -c OS-EXT-SRV-ATTR:host) && os server migrate --wait $VM2 && [ \"\$(os server show $VM2 -f value -c status)\" = VERIFY_RESIZE ] && [ \"\$(os server show $VM2 -f value -c OS-EXT-SRV-ATTR:host)\" != \"\$h0\" ] && os server migration confirm $VM2 && for i in \$(seq 60); do [ \"\$(os server show $VM2 -f value -c status)\" = ACTIVE ] && break; sleep 1; done && os server show $VM2 -f value -c flavor | grep -q $FL"
    check "server migrate --host (2.56) --wait, then server migration revert: ACTIVE on the host it left" bash -c "h0=\$(os server show $VM2 -f value -c OS-EXT-SRV-ATTR:host) && t=\$(os compute service list --service nova-compute -f value -c Host | grep -vx \"\$h0\" | head -1) && os --os-compute-api-version 2.56 server migrate --host \$t --wait $VM2 && [ \"\$(os server show $VM2 -f value -c OS-EXT-SRV-ATTR:host)\" = \"\$t\" ] && os server migration revert $VM2 && for i in \$(seq 60); do [ \"\$(os server show $VM2 -f value -c status)\" = ACTIVE ] && break; sleep 1; done && [ \"\$(os server show $VM2 -f value -c OS-EXT-SRV-ATTR:host)\" = \"\$h0\" ]"
    # OSC 6.0's `server evacuate` fails after Nova accepted the request ('TupleWithMeta' object has
    # no attribute 'to_dict'), so the check waits for the server rather than the command's status.
    check "compute service set --down on its host, server evacuate --host (2.29): ACTIVE on the other host, migration done; set --up" bash -c "id=\$(demo server show $VM2 -f value -c id) && h0=\$(os server show \$id -f value -c OS-EXT-SRV-ATTR:host) && t=\$(os compute service list --service nova-compute -f value -c Host | grep -vx \"\$h0\" | head -1) && os --os-compute-api-version 2.53 compute service set --down \$h0 nova-compute && { os --os-compute-api-version 2.29 server evacuate --host \$t \$id >/dev/null 2>&1; for i in \$(seq 60); do [ \"\$(os server show \$id -f value -c status)\" = ACTIVE ] && break; sleep 1; done; os --os-compute-api-version 2.53 compute service set --up \$h0 nova-compute; } && [ \"\$(os server show \$id -f value -c OS-EXT-SRV-ATTR:host)\" = \"\$t\" ] && os --os-compute-api-version 2.59 server migration list --server \$id --type evacuation -f value -c Status | grep -qx done"
  else
    echo "SKIP server resize/migrate to another host: one compute host"
  fi
  check "server delete: the group has no members left; server group delete" bash -c "demo server delete --wait $VM2 && [ \"\$(demo server group show $SG -f value -c members)\" = '[]' ] && demo server group delete $SG $SG-soft && ! demo server group list -f value -c Name | grep -q $SG"
  check "cleanup: floating ip, router, networks, images" bash -c "for f in \$(demo floating ip list --network $NET-pub -f value -c ID); do demo floating ip delete \$f; done && demo router remove subnet $NET-r $NET-sub && demo router delete $NET-r && demo network delete $NET && os network delete $NET-pub && demo image delete $VM-snap && os image delete $IMG && os flavor delete $FL-2"
else
  echo "SKIP server create/list/show/stop/start/reboot/delete: no image or network service in the catalog yet"
fi
check "keypair delete / flavor delete" bash -c "demo keypair delete $KP && os flavor delete $FL && ! os flavor list -f value -c Name | grep -qx $FL"

# Volumes (Cinder v3), when the catalog has the volume service. OSC 6.0's `volume create` also
# looks up the image service; until the catalog has one, volumes are made with openstacksdk
# (the library OSC is built on) and the rest is openstackclient.
if os catalog list -f value -c Type | grep -qx volumev3; then
  V="cvol-$S"
  # until_status KIND NAME STATUS: polls `demo volume [KIND] show` until the status (5 minutes at most)
  until_status() { local kind=$1 name=$2 want=$3 got; for _ in $(seq 1 300); do got=$(demo volume $kind show "$name" -f value -c status 2>/dev/null) || got=gone; [ "$got" = "$want" ] && return 0; case $got in error*) echo "$name: $got"; return 1;; esac; sleep 1; done; echo "$name: $got, not $want"; return 1; }
  # new_volume NAME SIZE [SNAPSHOT]
  new_volume() { if os catalog list -f value -c Type | grep -qx image; then demo volume create --size "$2" ${3:+--snapshot "$3"} "$1" >/dev/null; else /usr/bin/python3 -c "import openstack,sys; c=openstack.connect(cloud='$DEMO'); c.block_storage.create_volume(size=int(sys.argv[2]), name=sys.argv[1], **({'snapshot_id': c.block_storage.find_snapshot(sys.argv[3]).id} if len(sys.argv) > 3 else {}))" "$@"; fi; }
  # OSC 6.0 prints "cannot unpack non-iterable VolumeBackupsRestore object" after a restore it made (fixed in 6.1)
  restore() { local out; out=$(demo volume backup restore "$@" 2>&1) || grep -q "non-iterable VolumeBackupsRestore" <<<"$out" || { echo "$out"; return 1; }; }
  export -f until_status new_volume restore
  export V
  VT="cvtype-$S"
  check "volume type create --property (admin) / list / show" bash -c "os volume type create --property volume_backend_name=file --description 'conformance type' $VT >/dev/null && demo volume type list -f value -c Name | grep -qx $VT && os volume type show $VT -f value -c properties | grep -q volume_backend_name"
  check "volume type create as a member: 403" fails_with "volume_extension:type_create" demo volume type create "$VT-x"
  check "volume create --type: the volume shows its type" bash -c "new_volume_typed() { if os catalog list -f value -c Type | grep -qx image; then demo volume create --size 1 --type $VT $V-t >/dev/null; else /usr/bin/python3 -c \"import openstack; c=openstack.connect(cloud='$DEMO'); c.block_storage.create_volume(size=1, name='$V-t', volume_type='$VT')\"; fi; }; new_volume_typed && until_status '' $V-t available && [ \"\$(demo volume show $V-t -f value -c type)\" = $VT ]"
  check "volume set --type (os-retype) --retype-policy never: the volume shows the new type; and back" bash -c "os volume type create $VT-2 >/dev/null && demo volume set --type $VT-2 --retype-policy never $V-t && until_status '' $V-t available && [ \"\$(demo volume show $V-t -f value -c type)\" = $VT-2 ] && demo volume set --type $VT $V-t && until_status '' $V-t available && [ \"\$(demo volume show $V-t -f value -c type)\" = $VT ] && os volume type delete $VT-2"
  check "volume type create --private, set --project demo: the demo member lists it; unset --project: not" bash -c "os volume type create --private $VT-p >/dev/null && ! demo volume type list -f value -c Name | grep -qx $VT-p && os volume type set --project $DEMO_PROJECT $VT-p && os volume type show $VT-p -f value -c access_project_ids | grep -q $DEMO_PROJECT && demo volume type list -f value -c Name | grep -qx $VT-p && os volume type unset --project $DEMO_PROJECT $VT-p && ! demo volume type list -f value -c Name | grep -qx $VT-p && os volume type delete $VT-p"
  check "block storage resource filter list (3.33): the volume listing's filters" bash -c "os --os-volume-api-version 3.33 block storage resource filter list -f value -c Resource -c Filters | grep -q \"^volume .*'status'\""
  check "volume type delete while in use: refused; after the volume goes: deleted" bash -c "out=\$(os volume type delete $VT 2>&1); [ \$? -ne 0 ] && demo volume delete $V-t && until_status '' $V-t gone && os volume type delete $VT && ! os volume type list -f value -c Name | grep -qx $VT"
  check "volume service list (admin), availability zone list --volume, volume message list (3.3)" bash -c "os volume service list -f value -c Binary -c State | grep -qx 'cinder-volume up' && [ \"\$(demo availability zone list --volume -f value -c 'Zone Name' -c 'Zone Status')\" = 'nova available' ] && demo --os-volume-api-version 3.3 volume message list -f value >/dev/null"
  check "volume create --size 1 (available)" bash -c "new_volume $V 1 && until_status '' $V available"
  check "volume show: size 1, __DEFAULT__ type, not bootable" bash -c "[ \"\$(demo volume show $V -f value -c size -c type -c bootable | tr '\n' ' ')\" = 'false 1 __DEFAULT__ ' ]"
  check "volume set --property --read-only --image-property, volume unset --property: the properties shown" bash -c "demo volume set --property k1=v1 --property k2=v2 --read-only --image-property hw_disk_bus=scsi $V && demo volume unset --property k1 $V && [ \"\$(demo volume show $V -f value -c properties)\" = \"{'k2': 'v2', 'readonly': 'True'}\" ] && demo volume show $V -f json -c volume_image_metadata | grep -q '\"hw_disk_bus\": \"scsi\"' && demo volume set --read-write $V && demo volume unset --image-property hw_disk_bus $V"
  check "volume list --long --status available --name: the volume and its properties" bash -c "[ \"\$(demo volume list --long --status available --name $V -f value -c Name -c Properties)\" = \"$V {'k2': 'v2', 'readonly': 'False'}\" ]"
  check "volume set --size 2 (extend)" bash -c "demo volume set --size 2 $V && until_status '' $V available && [ \"\$(demo volume show $V -f value -c size)\" = 2 ]"
  check "volume snapshot create" bash -c "demo volume snapshot create --volume $V $V-s >/dev/null && until_status snapshot $V-s available"
  check "volume snapshot set --property, unset --property" bash -c "demo volume snapshot set --property p=q --property r=s $V-s && demo volume snapshot unset --property r $V-s && [ \"\$(demo volume snapshot show $V-s -f value -c properties)\" = \"{'p': 'q'}\" ]"
  check "volume create --snapshot" bash -c "new_volume $V-c 2 $V-s && until_status '' $V-c available && [ \"\$(demo volume show $V-c -f value -c snapshot_id)\" = \"\$(demo volume snapshot show $V-s -f value -c id)\" ]"
  check "volume delete with a snapshot: refused" fails_with "have snapshots" demo volume delete "$V"
  check "quota set --gigabytes, then a volume over it: refused, none made" bash -c "os quota set --gigabytes 3 $DEMO_PROJECT && [ \"\$(os quota show $DEMO_PROJECT -f value -c gigabytes)\" = 3 ] && out=\$(new_volume $V-big 5 2>&1); rc=\$?; os quota set --gigabytes 1000 $DEMO_PROJECT; [ \$rc -ne 0 ] && grep -q 'exceeds allowed gigabytes quota' <<<\"\$out\" && ! demo volume list -f value -c Name | grep -qx $V-big"
  if os catalog list -f value -c Type | grep -qx image; then
    VI="cvolimg-$S"
    head -c 1048576 /dev/urandom > vimg.raw
    check "volume create --image: bootable, the image's bytes" bash -c "os image create --disk-format raw --container-format bare --file vimg.raw --public $VI >/dev/null && demo volume create --size 1 --image $VI $V-i >/dev/null && until_status '' $V-i available && [ \"\$(demo volume show $V-i -f value -c bootable)\" = true ] && demo volume show $V-i -f json -c volume_image_metadata | grep -q '\"image_name\": \"$VI\"'"
    check "image create --volume (os-volume_upload_image): the volume's bytes" bash -c "demo image create --volume $V-i $VI-up >/dev/null && until_status '' $V-i available && { end=\$((SECONDS+300)); until [ \"\$(demo image show $VI-up -f value -c status 2>/dev/null)\" = active ]; do [ \$SECONDS -lt \$end ] || exit 1; sleep 2; done; } && demo image save --file vup.raw $VI-up && cmp <(head -c 1048576 vup.raw) vimg.raw"
    check "volume create --source: the clone available, bootable as its source, source_volid shown" bash -c "demo volume create --source $V-i $V-cl >/dev/null && until_status '' $V-cl available && [ \"\$(demo volume show $V-cl -f value -c bootable -c source_volid | tr '\n' ' ')\" = \"true \$(demo volume show $V-i -f value -c id) \" ] && demo volume delete $V-cl && until_status '' $V-cl gone"
    check "cleanup: the image volume and images" bash -c "demo volume delete $V-i && until_status '' $V-i gone && demo image delete $VI-up && os image delete $VI"
  fi
  check "volume transfer request create / list / accept (by admin, with the key): the volume in the admin's project" bash -c "new_volume $V-t 1 && until_status '' $V-t available && key=\$(demo volume transfer request create --name $V-tr $V-t -f value -c auth_key) && [ \"\$(demo volume show $V-t -f value -c status)\" = awaiting-transfer ] && tid=\$(demo volume transfer request list -f value -c ID -c Name | awk '\$2 == \"$V-tr\" {print \$1}') && os volume transfer request accept --auth-key \$key \$tid >/dev/null && [ \"\$(os volume show $V-t -f value -c status)\" = available ] && ! demo volume show $V-t >/dev/null 2>&1 && os volume delete $V-t"
  check "volume transfer request create --no-snapshots (3.55) of a volume with a snapshot: refused; without the flag: the snapshot goes with the volume" bash -c "new_volume $V-ts 1 && until_status '' $V-ts available && demo volume snapshot create --volume $V-ts $V-tss >/dev/null && until_status snapshot $V-tss available && fails_with 'has snapshots' demo --os-volume-api-version 3.55 volume transfer request create --no-snapshots $V-ts && [ \"\$(demo volume show $V-ts -f value -c status)\" = available ] && out=\$(demo --os-volume-api-version 3.55 volume transfer request create --name $V-tsr $V-ts -f json) && key=\$(python3 -c 'import json,sys; print(json.load(sys.stdin)[\"auth_key\"])' <<<\"\$out\") && tid=\$(python3 -c 'import json,sys; print(json.load(sys.stdin)[\"id\"])' <<<\"\$out\") && os volume transfer request accept --auth-key \$key \$tid >/dev/null && ! demo volume snapshot show $V-tss >/dev/null 2>&1 && [ \"\$(os volume snapshot show $V-tss -f value -c status)\" = available ] && os volume snapshot delete $V-tss && for _ in \$(seq 1 60); do os volume snapshot show $V-tss >/dev/null 2>&1 || break; sleep 1; done && os volume delete $V-ts"
  check "volume backup create" bash -c "demo volume backup create --name $V-b1 $V >/dev/null && until_status backup $V-b1 available"
  check "volume backup set --name --description (3.9), --property (3.43)" bash -c "demo --os-volume-api-version 3.9 volume backup set --name $V-b1x --description bd $V-b1 && demo --os-volume-api-version 3.43 volume backup set --property a=b $V-b1x && [ \"\$(demo --os-volume-api-version 3.43 volume backup show $V-b1x -f value -c description -c metadata | tr '\n' ' ')\" = \"bd {'a': 'b'} \" ] && demo --os-volume-api-version 3.9 volume backup set --name $V-b1 $V-b1x"
  check "volume backup create --incremental" bash -c "demo volume backup create --incremental --name $V-b2 $V >/dev/null && until_status backup $V-b2 available && [ \"\$(demo volume backup show $V-b2 -f value -c is_incremental)\" = True ]"
  check "volume backup record export (admin): the Swift driver's record" bash -c "os volume backup record export -f value -c backup_service \$(demo volume backup show $V-b1 -f value -c id) | grep -qx cinder.backup.drivers.swift.SwiftBackupDriver"
  check "volume backup record import of a backup that exists: refused" bash -c "id=\$(demo volume backup show $V-b1 -f value -c id); url=\$(os volume backup record export -f value -c backup_url \$id); out=\$(os volume backup record import cinder.backup.drivers.swift.SwiftBackupDriver \$url 2>&1); [ \$? -ne 0 ] && grep -q 'Backup already exists in database' <<<\"\$out\""
  check "volume backup delete of a backup an incremental depends on: refused" fails_with "Incremental backups exist for this backup" demo volume backup delete "$V-b1"
  check "volume backup restore (to a new volume)" bash -c "restore $V-b2 && for _ in \$(seq 1 120); do demo volume list -f value -c Name -c Status | grep -q '^restore_backup_.* available$' && exit 0; sleep 1; done; exit 1"
  check "volume backup restore --force to an existing volume" bash -c "restore --force $V-b1 $V-c && until_status '' $V-c available"
  check "volume backup delete (incremental, then full)" bash -c "demo volume backup delete $V-b2 && until_status backup $V-b2 gone && demo volume backup delete $V-b1 && until_status backup $V-b1 gone"
  check "volume snapshot delete, volume delete" bash -c "demo volume delete $V-c && until_status '' $V-c gone && demo volume snapshot delete $V-s && until_status snapshot $V-s gone && demo volume delete $V && until_status '' $V gone && for v in \$(demo volume list -f value -c Name | grep '^restore_backup_'); do demo volume delete \$v; done"
  # Admin actions (Cinder's volume_admin_actions): an operator's way out of a stuck status.
  check "admin actions: a volume with a snapshot and a backup" bash -c "new_volume $V-r 1 && until_status '' $V-r available && demo volume snapshot create --volume $V-r $V-rs >/dev/null && until_status snapshot $V-rs available && demo volume backup create --name $V-rb $V-r >/dev/null && until_status backup $V-rb available"
  check "volume set --state as a member: 403" fails_with "volume_extension:volume_admin_actions:reset_status" demo volume set --state error "$V-r"
  check "volume set --state error (admin)" bash -c "os volume set --state error \$(demo volume show $V-r -f value -c id) && [ \"\$(demo volume show $V-r -f value -c status)\" = error ]"
  check "volume snapshot set --state error (admin)" bash -c "os volume snapshot set --state error \$(demo volume snapshot show $V-rs -f value -c id) && [ \"\$(demo volume snapshot show $V-rs -f value -c status)\" = error ]"
  check "volume backup set --state error (admin)" bash -c "os volume backup set --state error \$(demo volume backup show $V-rb -f value -c id) && [ \"\$(demo volume backup show $V-rb -f value -c status)\" = error ]"
  check "volume delete --force as a member: 403" fails_with "volume_extension:volume_admin_actions:force_delete" demo volume delete --force "$V-r"
  check "volume snapshot delete --force, volume backup delete --force (admin)" bash -c "os volume snapshot delete --force \$(demo volume snapshot show $V-rs -f value -c id) && until_status snapshot $V-rs gone && os volume backup delete --force \$(demo volume backup show $V-rb -f value -c id) && until_status backup $V-rb gone"
  check "volume delete --force (admin)" bash -c "os volume delete --force \$(demo volume show $V-r -f value -c id) && until_status '' $V-r gone"
  # Volumes on a server (Nova's os-volume_attachments over Cinder's attachments API).
  if os catalog list -f value -c Type | grep -qx compute && os catalog list -f value -c Type | grep -qx image; then
    VM3="cvm3-$S" AIMG="cvimg-$S"
    head -c 1048576 /dev/urandom > aimg.raw
    check "server add volume: the volume in-use on the server at /dev/vdb" bash -c "os image create --disk-format raw --container-format bare --file aimg.raw --public $AIMG >/dev/null && os flavor create --ram 256 --vcpus 1 --disk 1 $FL-v >/dev/null && new_volume $V-a 1 && until_status '' $V-a available && demo --os-compute-api-version 2.37 server create --image $AIMG --flavor $FL-v --network none --wait $VM3 >/dev/null && demo server add volume $VM3 $V-a && until_status '' $V-a in-use && demo volume show $V-a -f json -c attachments | grep -q \"\$(demo server show $VM3 -f value -c id)\""
    check "server volume list: the volume at /dev/vdb" bash -c "[ \"\$(demo server volume list $VM3 -f value -c Device -c 'Volume ID' | tr '\n' ' ')\" = \"/dev/vdb \$(demo volume show $V-a -f value -c id) \" ]"
    check "server volume update --delete-on-termination (2.85), then --preserve-on-termination" bash -c "vid=\$(demo volume show $V-a -f value -c id) && demo --os-compute-api-version 2.85 server volume update --delete-on-termination $VM3 \$vid && [ \"\$(demo --os-compute-api-version 2.85 server volume list $VM3 -f value -c 'Delete On Termination?')\" = True ] && demo --os-compute-api-version 2.85 server volume update --preserve-on-termination $VM3 \$vid && [ \"\$(demo --os-compute-api-version 2.85 server volume list $VM3 -f value -c 'Delete On Termination?')\" = False ]"
    check "volume delete of an in-use volume: refused" bash -c "out=\$(demo volume delete $V-a 2>&1); [ \$? -ne 0 ] && [ \"\$(demo volume show $V-a -f value -c status)\" = in-use ]"
    check "volume snapshot create --force of the attached volume" bash -c "demo volume snapshot create --force --volume $V-a $V-as >/dev/null && until_status snapshot $V-as available && demo volume snapshot delete $V-as && until_status snapshot $V-as gone"
    check "server remove volume: the volume available, the server without it" bash -c "demo server remove volume $VM3 $V-a && until_status '' $V-a available && [ -z \"\$(demo server volume list $VM3 -f value -c Device)\" ]"
    check "server add volume --enable-delete-on-termination (2.79), server delete: the volume goes with it" bash -c "demo --os-compute-api-version 2.79 server add volume --enable-delete-on-termination $VM3 $V-a >/dev/null && until_status '' $V-a in-use && demo server delete --wait $VM3 && until_status '' $V-a gone"
    check "a read-only volume (volume set --read-only) on a server: the attachment's mode is ro (3.27 volume attachment show)" bash -c "new_volume $V-ro 1 && until_status '' $V-ro available && demo volume set --read-only $V-ro && demo --os-compute-api-version 2.37 server create --image $AIMG --flavor $FL-v --network none --wait $VM3-ro >/dev/null && demo server add volume $VM3-ro $V-ro && until_status '' $V-ro in-use && aid=\$(demo volume show $V-ro -f json -c attachments | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"attachments\"][0][\"attachment_id\"])') && [ \"\$(demo --os-volume-api-version 3.27 volume attachment show \$aid -f value -c 'Attach Mode')\" = ro ] && fails_with 'status must be available to update readonly flag' demo volume set --read-write $V-ro && demo server delete --wait $VM3-ro && until_status '' $V-ro available && demo volume delete $V-ro"
    # Boot from volume (Nova's block_device_mapping_v2): an existing bootable volume, then one Nova makes from the image.
    check "server create --volume --wait: ACTIVE from the bootable volume, no image, the volume in-use at /dev/vda" bash -c "demo volume create --size 1 --image $AIMG $V-boot >/dev/null && until_status '' $V-boot available && demo --os-compute-api-version 2.37 server create --volume $V-boot --flavor $FL-v --network none --wait $VM3-v -f value -c status | grep -qx ACTIVE && [ \"\$(demo server show $VM3-v -f value -c image)\" = 'N/A (booted from volume)' ] && demo server show $VM3-v -f value -c volumes_attached | grep -q \"\$(demo volume show $V-boot -f value -c id)\" && [ \"\$(demo volume show $V-boot -f value -c status)\" = in-use ] && [ \"\$(demo server volume list $VM3-v -f value -c Device)\" = /dev/vda ]"
    # createImage of a volume-backed server (Nova's snapshot_volume_backed): no disk copied, a snapshot of each volume mapped by the image.
    check "server image create --wait of the volume-backed server: an active image of no data mapping a snapshot of its volume" bash -c "demo server image create --name $VM3-vs --wait $VM3-v >/dev/null && [ \"\$(demo image show $VM3-vs -f value -c status)\" = active ] && [ \"\$(demo image show $VM3-vs -f value -c size)\" = 0 ] && sid=\$(demo image show $VM3-vs -f json -c properties | python3 -c 'import json,sys; p=json.load(sys.stdin)[\"properties\"]; m=json.loads(p[\"block_device_mapping\"]); assert p[\"bdm_v2\"] == \"True\" and m[0][\"boot_index\"] == 0; print(m[0][\"snapshot_id\"])') && [ \"\$(demo volume snapshot show \$sid -f value -c volume_id)\" = \"\$(demo volume show $V-boot -f value -c id)\" ] && until_status snapshot \$sid available"
    check "server create --image of that image: ACTIVE on a new volume made of the snapshot; deleted with the snapshot and image after" bash -c "sid=\$(demo image show $VM3-vs -f json -c properties | python3 -c 'import json,sys; print(json.loads(json.load(sys.stdin)[\"properties\"][\"block_device_mapping\"])[0][\"snapshot_id\"])') && demo --os-compute-api-version 2.37 server create --image $VM3-vs --flavor $FL-v --network none --wait $VM3-s -f value -c status | grep -qx ACTIVE && vid=\$(demo server volume list $VM3-s -f value -c 'Volume ID') && [ \"\$(demo volume show \$vid -f value -c snapshot_id)\" = \"\$sid\" ] && demo server delete --wait $VM3-s && until_status '' \$vid available && demo volume delete \$vid && until_status '' \$vid gone && demo image delete $VM3-vs && demo volume snapshot delete \$sid && until_status snapshot \$sid gone"
    check "server delete of the server booted from a volume: the volume available again" bash -c "demo server delete --wait $VM3-v && until_status '' $V-boot available && demo volume delete $V-boot && until_status '' $V-boot gone"
    check "server create --image --boot-from-volume 1 --wait: ACTIVE on a new bootable volume of the image; server delete leaves it available" bash -c "demo --os-compute-api-version 2.37 server create --image $AIMG --boot-from-volume 1 --flavor $FL-v --network none --wait $VM3-b -f value -c status | grep -qx ACTIVE && vid=\$(demo server volume list $VM3-b -f value -c 'Volume ID') && [ -n \"\$vid\" ] && [ \"\$(demo volume show \$vid -f value -c status -c bootable | tr '\n' ' ')\" = 'true in-use ' ] && demo volume show \$vid -f json -c volume_image_metadata | grep -q '\"image_name\": \"$AIMG\"' && demo server delete --wait $VM3-b && until_status '' \$vid available && demo volume delete \$vid && until_status '' \$vid gone"
    check "cleanup: the server's image and flavor" bash -c "os image delete $AIMG && os flavor delete $FL-v"
  fi
fi
finish
