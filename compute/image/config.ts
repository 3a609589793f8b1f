import { serviceTokensSchema } from '../../client/service-tokens.ts';
import { int, oneOf, type Schema, str } from '../../common/config.ts';

/**
 * The `[image]` section of `swiftlet start image --config FILE`: the image service (Glance v2)
 * keeps its records and image bytes in the cluster, in the system account its credential owns
 * (`account_user`, a tempauth user `.image:<user>` with `.admin`), and validates Keystone
 * tokens with identity's key repository and revocation events.
 */
export const imageSchema = {
  bind_ip: str('127.0.0.1', { nonEmpty: true }),
  bind_port: int(9292, { min: 0, max: 65535 }),
  public_url: str('', { doc: "this service's URL as clients reach it (catalog, web-download); default http://<bind_ip>:<bind_port>" }),
  log_level: oneOf('info', ['debug', 'info', 'warn', 'error'] as const, 'lowest level logged'),
  auth_url: str('http://127.0.0.1:8080/auth/v1.0', { doc: "the cluster's v1 auth URL, for the service's own account", nonEmpty: true }),
  account_user: str('.image:glance', { doc: 'tempauth user owning the system account (account:user)', nonEmpty: true }),
  account_key: str('', { doc: "that user's key; required" }),
  ...serviceTokensSchema,
  large_object_size: int(5_368_709_120, { min: 1, doc: "an image of known size under this many bytes is stored as one object, larger ones and chunked uploads as segments (glance_store's swift large_object_size, 5 GiB; at most the cluster's max_file_size)" }),
  segment_size: int(209_715_200, { min: 1_048_576, doc: "bytes per stored segment of an image (glance_store's swift large_object_chunk_size, 200 MiB)" }),
  image_size_cap: int(1_099_511_627_776, { min: 1, doc: "Glance's image_size_cap: the largest image in bytes" }),
  image_count_total: int(-1, { min: -1, doc: 'images a project may have (-1: no limit; unified limits image_count_total)' }),
  image_size_total: int(-1, { min: -1, doc: 'MiB of image data a project may have (-1: no limit; unified limits image_size_total)' }),
} as const satisfies Schema;
