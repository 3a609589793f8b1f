import { int, num, oneOf, type Schema, str } from '../common/config.ts';

/**
 * The `[identity]` section of `swiftlet start identity --config FILE` (DESIGN.md: one typed
 * schema per service, defaults declared once). The service keeps its state in the cluster, in
 * the system account its credential owns (`account_user`, a tempauth user `.<account>:<user>`
 * with `.admin`), and validates tokens with the keys in `key_repository`.
 */
export const identitySchema = {
  bind_ip: str('127.0.0.1', { nonEmpty: true }),
  bind_port: int(5000, { min: 0, max: 65535 }),
  public_url: str('', { doc: "this service's URL as clients reach it (links, catalog); default http://<bind_ip>:<bind_port>" }),
  log_level: oneOf('info', ['debug', 'info', 'warn', 'error'] as const, 'lowest level logged'),
  auth_url: str('http://127.0.0.1:8080/auth/v1.0', { doc: "the cluster's v1 auth URL, for the service's own account", nonEmpty: true }),
  account_user: str('.identity:identity', { doc: 'tempauth user owning the system account (account:user)', nonEmpty: true }),
  account_key: str('', { doc: "that user's key; required" }),
  key_repository: str('/etc/swiftlet/fernet-keys', { doc: 'Fernet key repository (fernet_setup, fernet_rotate)', nonEmpty: true }),
  max_active_keys: int(3, { min: 2, doc: 'keys kept by fernet_rotate (staged, primary, secondaries)' }),
  token_expiration: int(3600, { min: 60, doc: 'seconds a token is valid' }),
  password_hash_rounds: int(15, { min: 10, max: 20, doc: 'log2 of scrypt N for password hashes (15: 32 MiB, ~50 ms per hash)' }),
  revocation_readers: str('.image, .network, .compute, .volume', { doc: "the services' system accounts (without the reseller prefix) that may read revocation events" }),
  revocation_poll_interval: num(2, { min: 0.1, doc: 'seconds between looks for new revocation events' }),
  region: str('RegionOne', { nonEmpty: true, doc: 'the region bootstrap creates and puts endpoints in' }),
  admin_user: str('admin', { nonEmpty: true }),
  admin_project: str('admin', { nonEmpty: true }),
  admin_password: str('', { doc: "the bootstrap admin's password (first start only); required" }),
  demo_password: str('', { doc: 'when set, bootstrap also makes user demo, a member of project demo (the embedded default)' }),
  nova_password: str('', { doc: 'when set, bootstrap makes user nova (admin and service on project service): the compute service binds ports with it' }),
  neutron_password: str('', { doc: 'when set, bootstrap makes user neutron (admin and service on project service)' }),
  glance_password: str('', { doc: 'when set, bootstrap makes user glance (admin and service on project service)' }),
  cinder_password: str('', { doc: 'when set, bootstrap makes user cinder (admin and service on project service)' }),
  compute_url: str('', { doc: "the compute API's public URL, e.g. http://127.0.0.1:8774: the compute entry bootstrap puts in the catalog (as <url>/v2.1)" }),
  network_url: str('', { doc: "the network service's public URL, e.g. http://127.0.0.1:9696: the network entry bootstrap puts in the catalog" }),
  image_url: str('', { doc: "the image service's public URL, e.g. http://127.0.0.1:9292: the image entry bootstrap puts in the catalog" }),
  object_store_url: str('', { doc: "the proxy's public URL, e.g. http://127.0.0.1:8080: the object-store entry bootstrap puts in the catalog" }),
  volume_url: str('', { doc: "the volume service's public URL, e.g. http://127.0.0.1:8776: the volumev3 and block-storage entries bootstrap puts in the catalog" }),
} as const satisfies Schema;
