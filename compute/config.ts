import { serviceCredentialSchema } from '../client/service-credential.ts';
import { serviceTokensSchema } from '../client/service-tokens.ts';
import { bool, int, oneOf, type Schema, str } from '../common/config.ts';

/**
 * The `[compute]` section of `swiftlet start compute --config FILE`: Nova's API on
 * `bind_ip:bind_port` (8774), its state in the system account its credential owns
 * (`account_user`, a tempauth user `.compute:compute` with `.admin`), tokens validated with the
 * identity service's key repository.
 */
export const computeSchema = {
  bind_ip: str('127.0.0.1', { nonEmpty: true }),
  bind_port: int(8774, { min: 0, max: 65535 }),
  public_url: str('', { doc: "this service's URL as clients reach it (links); default http://<bind_ip>:<bind_port>" }),
  log_level: oneOf('info', ['debug', 'info', 'warn', 'error'] as const, 'lowest level logged'),
  auth_url: str('http://127.0.0.1:8080/auth/v1.0', { doc: "the cluster's v1 auth URL, for the service's own account", nonEmpty: true }),
  account_user: str('.compute:compute', { doc: 'tempauth user owning the system account (account:user)', nonEmpty: true }),
  account_key: str('', { doc: "that user's key; required" }),
  ...serviceTokensSchema,
  image_url: str('http://127.0.0.1:9292', { doc: "the image service (Glance v2) that servers boot from", nonEmpty: true }),
  network_url: str('http://127.0.0.1:9696', { doc: 'the network service (Neutron v2.0) that gives servers their ports', nonEmpty: true }),
  volume_url: str('http://127.0.0.1:8776', { doc: 'the volume service (Cinder v3) whose volumes servers attach, without /v3', nonEmpty: true }),
  cross_az_attach: bool(true, "Nova's [cinder] cross_az_attach: false keeps a server and its volumes in one availability zone (at attach and at boot)"),
  ...serviceCredentialSchema,
  allow_resize_to_same_host: bool(false, "Nova's option: a resize may pick the server's own host (a cold migration never does)"),
  build_resume_interval: int(30, { min: 1, doc: 'seconds between looks for boots an API process left half placed' }),
} as const satisfies Schema;
