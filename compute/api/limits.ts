import { atLeast } from '../api-version.ts';
import { policyForbidden } from '../errors.ts';
import { quotaLimits } from '../quota.ts';
import { type ComputeRoute, contextOf, ok } from '../request.ts';
import type { ComputeStore } from '../store.ts';
import type { ProjectUsage } from '../usage.ts';

/**
 * `GET /v2.1/limits`: the project's absolute limits and what it uses (nova/api/openstack/compute/
 * views/limits.py); the network-service fields go at 2.36, personality at 2.57. An admin may
 * ask about another project with `tenant_id`.
 */
export function limitRoutes(store: ComputeStore, usage: ProjectUsage): ComputeRoute[] {
  return [
    {
      method: 'GET',
      path: '/v2.1/limits',
      auth: 'token',
      handler: async (req) => {
        const c = contextOf(req);
        const asked = req.query.get('tenant_id');
        if (asked !== null && asked !== c.projectId && !c.isAdmin) throw policyForbidden('os_compute_api:limits:other_project');
        const project = asked ?? c.projectId;
        const q = await quotaLimits(store, project);
        const used = await usage.of(project);
        const absolute: Record<string, number> = {
          maxServerMeta: q.metadata_items,
          maxImageMeta: q.metadata_items,
          maxTotalKeypairs: q.key_pairs,
          maxServerGroups: q.server_groups,
          maxServerGroupMembers: q.server_group_members,
          maxTotalCores: q.cores,
          maxTotalRAMSize: q.ram,
          maxTotalInstances: q.instances,
          totalCoresUsed: used.cores,
          totalRAMUsed: used.ram,
          totalInstancesUsed: used.instances,
          totalServerGroupsUsed: 0,
        };
        if (!atLeast(req.version, '2.57')) Object.assign(absolute, { maxPersonality: q.injected_files, maxPersonalitySize: q.injected_file_content_bytes });
        if (!atLeast(req.version, '2.36')) Object.assign(absolute, { maxSecurityGroups: 10, maxSecurityGroupRules: 20, maxTotalFloatingIps: 10, totalSecurityGroupsUsed: 0, totalFloatingIpsUsed: 0 });
        return ok({ limits: { rate: [], absolute } });
      },
    },
  ];
}
