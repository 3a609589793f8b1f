import { bool, int, list, num, type Schema } from '../common/config.ts';

/** Headers a PUT or POST may set on an object besides `X-Object-Meta-*` (Swift's default). */
export const DEFAULT_ALLOWED_HEADERS = [
  'Content-Disposition', 'Content-Encoding', 'X-Delete-At', 'X-Object-Manifest', 'X-Static-Large-Object',
  'Cache-Control', 'Content-Language', 'Expires', 'X-Robots-Tag',
] as const;

/** The `[object-server]` section of a storage node's config. */
export const objectServerSchema = {
  bind_port: int(6200, { min: 0, max: 65535, doc: 'port of the object server (0: any free port)' }),
  conn_timeout: num(0.5, { min: 0, doc: 'seconds to connect to a container server for an update' }),
  node_timeout: num(3, { min: 0, doc: 'seconds to wait for a container server to answer an update' }),
  client_timeout: num(60, { min: 0, doc: 'seconds a client may pause while sending a body (408 after)' }),
  reclaim_age: int(7 * 24 * 3600, { min: 0, doc: 'seconds tombstones are kept' }),
  allowed_headers: list(DEFAULT_ALLOWED_HEADERS, 'headers stored with an object besides X-Object-Meta-*'),
  small_object_max: int(65_536, { min: 0, doc: 'objects of up to this many bytes whose size is known when written (Content-Length), and every tombstone and POST, are kept in one database per device (<device>/objects-db) instead of a directory and file each; writes arriving together share one flush (0: every object is a file)' }),
  log_requests: bool(true, 'log one line per request (REPLICATE and SSYNC at debug level)'),
} as const satisfies Schema;
