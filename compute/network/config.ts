import { serviceTokensSchema } from '../../client/service-tokens.ts';
import { int, oneOf, type Schema, str } from '../../common/config.ts';

/**
 * The `[network]` section of `swiftlet start network --config FILE`: Neutron's API on
 * `bind_ip:bind_port` (9696), its state in the system account its credential owns
 * (`account_user`, a tempauth user `.network:network` with `.admin`), tokens validated with the
 * identity service's `key_repository`.
 */
export const networkSchema = {
  bind_ip: str('127.0.0.1', { nonEmpty: true }),
  bind_port: int(9696, { min: 0, max: 65535 }),
  public_url: str('', { doc: "this service's URL as clients reach it (links); default http://<bind_ip>:<bind_port>" }),
  log_level: oneOf('info', ['debug', 'info', 'warn', 'error'] as const, 'lowest level logged'),
  auth_url: str('http://127.0.0.1:8080/auth/v1.0', { doc: "the cluster's v1 auth URL, for the service's own account", nonEmpty: true }),
  account_user: str('.network:network', { doc: 'tempauth user owning the system account (account:user)', nonEmpty: true }),
  account_key: str('', { doc: "that user's key; required" }),
  ...serviceTokensSchema,
  identity_url: str('http://127.0.0.1:5000/v3', { doc: "Keystone's URL, named in 401 answers (keystonemiddleware's www_authenticate_uri)" }),
  global_physnet_mtu: int(1500, { min: 68, doc: "Neutron's global_physnet_mtu: a new network's MTU" }),
  base_mac: str('fa:16:3e:00:00:00', { doc: "Neutron's base_mac: ports' MACs start with its first 3 (or 4) octets" }),
  record_cache_ms: int(2000, { min: 0, doc: 'how long networks, subnets, security groups and quotas read from the cluster are trusted before listing again; what another network API process changes is seen within this long (0: always list)' }),
  quota_network: int(100, { min: -1 }),
  quota_subnet: int(100, { min: -1 }),
  quota_port: int(500, { min: -1 }),
  quota_router: int(10, { min: -1 }),
  quota_floatingip: int(50, { min: -1 }),
  quota_security_group: int(10, { min: -1 }),
  quota_security_group_rule: int(100, { min: -1 }),
} as const satisfies Schema;
