import { atLeast } from './api-version.ts';
import type { FlavorRecord } from './records.ts';
import type { ComputeRequest } from './request.ts';

/** Nova's flavor links: `self` under v2.1 and the version-less `bookmark`. */
export function flavorLinks(req: ComputeRequest, flavorid: string): unknown[] {
  return [
    { rel: 'self', href: `${req.base}/v2.1/flavors/${flavorid}` },
    { rel: 'bookmark', href: `${req.base}/flavors/${flavorid}` },
  ];
}

/** nova/api/openstack/compute/views/flavors.py `basic` (the index entry). */
export function flavorBasic(req: ComputeRequest, f: FlavorRecord): Record<string, unknown> {
  return { id: f.flavorid, name: f.name, ...(atLeast(req.version, '2.55') ? { description: f.description } : {}), links: flavorLinks(req, f.flavorid) };
}

/** `show`: the whole flavor; `extra_specs` from 2.61 (where the caller may read them). */
export function flavorDetail(req: ComputeRequest, f: FlavorRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: f.flavorid,
    name: f.name,
    ram: f.memory_mb,
    disk: f.root_gb,
    swap: atLeast(req.version, '2.75') ? f.swap : f.swap || '',
    'OS-FLV-EXT-DATA:ephemeral': f.ephemeral_gb,
    'OS-FLV-DISABLED:disabled': f.disabled,
    vcpus: f.vcpus,
    'os-flavor-access:is_public': f.is_public,
    rxtx_factor: f.rxtx_factor || '',
    links: flavorLinks(req, f.flavorid),
  };
  if (atLeast(req.version, '2.55')) out['description'] = f.description;
  if (atLeast(req.version, '2.61')) out['extra_specs'] = f.extra_specs;
  return out;
}

/** Whether the caller's project may see the flavor (public, or given access, or admin). */
export function flavorVisible(f: FlavorRecord, projectId: string, isAdmin: boolean): boolean {
  return isAdmin || f.is_public || f.projects.includes(projectId);
}
