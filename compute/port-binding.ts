import type { ServerRecord } from './server-record.ts';

/**
 * What Nova's `_update_ports_for_instance` writes on a server's port with its admin client once
 * the port exists: the server as the device, `compute:<zone>` as the owner, the host it runs on.
 */
export function bindingFields(server: Pick<ServerRecord, 'uuid' | 'availability_zone'>, host: string): Readonly<Record<string, string>> {
  return { device_id: server.uuid, device_owner: `compute:${server.availability_zone ?? 'nova'}`, 'binding:host_id': host };
}

/** Nova's `_unbind_ports` with detach: a port the user brought is given back unbound and without a device. */
export const UNBIND_FIELDS: Readonly<Record<string, string>> = { device_id: '', device_owner: '', 'binding:host_id': '' };
