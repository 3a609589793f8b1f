import { createHash } from 'node:crypto';
import { atLeast } from './api-version.ts';
import type { BlockDeviceMapping } from './block-device-record.ts';
import type { HostStatus } from './host-status.ts';
import type { ComputeRequest } from './request.ts';
import { type ServerRecord, serverStatus } from './server-record.ts';

/** Nova's `generate_hostid`: the host as the project sees it (SHA-224 of project and host). */
export function hostId(s: ServerRecord): string {
  return generateHostId(s.host, s.project_id);
}

/** Nova's `generate_hostid`: the host hashed with the project (SHA-224), so projects cannot tell hosts apart; '' for none. */
export function generateHostId(host: string | null, projectId: string): string {
  return host ? createHash('sha224').update(`${projectId}${host}`).digest('hex') : '';
}

export function serverLinks(req: ComputeRequest, uuid: string): unknown[] {
  return [
    { rel: 'self', href: `${req.base}/v2.1/servers/${uuid}` },
    { rel: 'bookmark', href: `${req.base}/servers/${uuid}` },
  ];
}

/** The index entry: id, name, links. */
export function serverBasic(req: ComputeRequest, s: ServerRecord): Record<string, unknown> {
  return { id: s.uuid, links: serverLinks(req, s.uuid), name: s.name };
}

const PROGRESS = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING']);

/**
 * nova/api/openstack/compute/views/servers.py `show`, for the microversions up to 2.92: the
 * flavor as a link before 2.47 and embedded from it; the extended server attributes for admins;
 * `locked` (2.9), `description` (2.19), `tags` (2.26), `trusted_image_certificates` (2.63),
 * `locked_reason` (2.73), `OS-EXT-SRV-ATTR:hostname` for others (2.90); `host_status` (2.16)
 * when the caller may see it (`hostStatus` given: `compute/host-status.ts`); the server's
 * volumes (`volumes`: its block-devices record) in `os-extended-volumes:volumes_attached`.
 */
export function serverDetail(req: ComputeRequest, s: ServerRecord, isAdmin: boolean, options: { groups?: boolean; hostStatus?: HostStatus; volumes?: readonly BlockDeviceMapping[] } = {}): Record<string, unknown> {
  const status = serverStatus(s.vm_state, s.task_state);
  const flavor = atLeast(req.version, '2.47')
    ? { vcpus: s.flavor.vcpus, ram: s.flavor.ram, disk: s.flavor.disk, ephemeral: s.flavor.ephemeral, swap: s.flavor.swap, original_name: s.flavor.name, extra_specs: s.flavor.extra_specs }
    : { id: s.flavor.flavorid, links: [{ rel: 'bookmark', href: `${req.base}/flavors/${s.flavor.flavorid}` }] };
  const out: Record<string, unknown> = {
    accessIPv4: s.access_ip_v4,
    accessIPv6: s.access_ip_v6,
    addresses: s.vm_state === 'building' ? {} : s.addresses,
    created: s.created_at,
    flavor,
    hostId: hostId(s),
    id: s.uuid,
    image: s.image_ref ? { id: s.image_ref, links: [{ rel: 'bookmark', href: `${req.base}/images/${s.image_ref}` }] } : '',
    links: serverLinks(req, s.uuid),
    metadata: s.metadata,
    name: s.name,
    status,
    tenant_id: s.project_id,
    user_id: s.user_id,
    updated: s.updated_at,
    'OS-DCF:diskConfig': 'MANUAL',
  };
  if ((status === 'ERROR' || status === 'DELETED') && s.fault) {
    out['fault'] = { code: s.fault.code, created: s.fault.created, message: s.fault.message, ...(isAdmin && s.fault.details ? { details: s.fault.details } : {}) };
  }
  if (PROGRESS.has(status)) out['progress'] = status === 'ACTIVE' ? 100 : 0;
  out['OS-EXT-AZ:availability_zone'] = s.host ? (s.availability_zone ?? 'nova') : (s.availability_zone ?? '');
  out['config_drive'] = s.config_drive;
  out['key_name'] = s.key_name;
  out['OS-SRV-USG:launched_at'] = s.launched_at;
  out['OS-SRV-USG:terminated_at'] = null;
  out['security_groups'] = s.security_groups.map((name) => ({ name }));
  if (isAdmin) {
    out['OS-EXT-SRV-ATTR:host'] = s.host;
    out['OS-EXT-SRV-ATTR:instance_name'] = s.instance_name;
    out['OS-EXT-SRV-ATTR:hypervisor_hostname'] = s.host;
    if (atLeast(req.version, '2.3')) {
      Object.assign(out, {
        'OS-EXT-SRV-ATTR:hostname': s.hostname,
        'OS-EXT-SRV-ATTR:kernel_id': '',
        'OS-EXT-SRV-ATTR:launch_index': s.launch_index,
        'OS-EXT-SRV-ATTR:ramdisk_id': '',
        'OS-EXT-SRV-ATTR:reservation_id': s.reservation_id,
        'OS-EXT-SRV-ATTR:root_device_name': '/dev/vda',
        'OS-EXT-SRV-ATTR:user_data': s.user_data,
      });
    }
  }
  out['OS-EXT-STS:task_state'] = s.task_state;
  out['OS-EXT-STS:vm_state'] = s.vm_state;
  out['OS-EXT-STS:power_state'] = s.power_state;
  // Nova's volumes_attached: every volume mapping (a boot volume compute has not made yet has no id to show).
  out['os-extended-volumes:volumes_attached'] = (options.volumes ?? []).filter((m) => m.volume_id !== '').map((m) => (atLeast(req.version, '2.3') ? { id: m.volume_id, delete_on_termination: m.delete_on_termination } : { id: m.volume_id }));
  if (atLeast(req.version, '2.9')) out['locked'] = s.locked_by !== null;
  if (atLeast(req.version, '2.16') && options.hostStatus !== undefined) out['host_status'] = options.hostStatus;
  if (atLeast(req.version, '2.19')) out['description'] = s.description;
  if (atLeast(req.version, '2.26')) out['tags'] = s.tags;
  if (atLeast(req.version, '2.63')) out['trusted_image_certificates'] = null;
  if (atLeast(req.version, '2.73')) out['locked_reason'] = s.locked_reason;
  if (atLeast(req.version, '2.90') && !isAdmin) out['OS-EXT-SRV-ATTR:hostname'] = s.hostname;
  // 2.71: the server's groups (Nova shows them on show, rebuild and update, not in lists).
  if (atLeast(req.version, '2.71') && options.groups) out['server_groups'] = s.server_group === undefined ? [] : [s.server_group];
  return out;
}
