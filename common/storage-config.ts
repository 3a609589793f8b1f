import { bool, oneOf, type Schema, str } from './config.ts';

/**
 * The `[storage]` section of a storage node's config: what its account, container and object
 * servers share. Each server adds its own section (`[object-server]`, ...) with its port.
 *
 * ```ini
 * [storage]
 * devices = /srv/node
 * mount_check = true
 * bind_ip = 10.0.0.5
 * swift_dir = /etc/swiftlet
 * ```
 */
export const storageSchema = {
  devices: str('/srv/node', { doc: 'directory holding one directory (or mount point) per device', nonEmpty: true }),
  mount_check: bool(false, 'refuse devices that are not mount points (answer 507), so an unmounted disk is never written through its mount dir'),
  bind_ip: str('127.0.0.1', { doc: 'address the servers listen on', nonEmpty: true }),
  swift_dir: str('/etc/swiftlet', { doc: 'directory holding the ring files and swiftlet.conf', nonEmpty: true }),
  log_level: oneOf('info', ['debug', 'info', 'warn', 'error'] as const, 'lowest level logged'),
  run_daemons: bool(true, 'run the replicators, auditors and updaters of this node on their intervals (swiftlet once runs them on demand)'),
} as const satisfies Schema;
