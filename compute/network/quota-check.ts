import type { NetworkDeps } from './deps.ts';
import { OverQuota } from './errors.ts';
import type { QuotaRecord } from './records.ts';

/** The record type counted for each quota resource. */
export const QUOTA_TYPES: Readonly<Record<string, string>> = {
  network: 'networks',
  subnet: 'subnets',
  port: 'ports',
  router: 'routers',
  floatingip: 'floatingips',
  security_group: 'security-groups',
  security_group_rule: 'security-group-rules',
  subnetpool: 'subnetpools',
};

/** A project's limits: its overrides over the configured defaults. */
export async function projectQuotas(deps: NetworkDeps, projectId: string): Promise<Record<string, number>> {
  // From the listing (fresh for a while): most projects have no record, and a listing answers that too.
  const own = (await deps.store.scan<QuotaRecord>('quotas')).find((q) => q.project_id === projectId);
  return { ...deps.settings.quotas, ...own?.limits };
}

/**
 * Neutron's quota check before a create: `count` more of `resource` must fit the project's
 * limit (-1: none). Counted from the records, not reserved: two creates at the very limit may
 * both pass, as without Neutron's reservations.
 * @throws {OverQuota} (409) "Quota exceeded for resources: ['port']."
 */
export async function enforceQuota(deps: NetworkDeps, projectId: string, resource: string, count = 1): Promise<void> {
  const limit = (await projectQuotas(deps, projectId))[resource] ?? -1;
  if (limit < 0) return;
  const used = (await deps.store.scan<{ project_id: string }>(QUOTA_TYPES[resource] as string)).filter((r) => r.project_id === projectId).length;
  if (used + count > limit) throw new OverQuota([resource]);
}

/**
 * The port quota, counted from the port index after this create's own entry is written
 * (`PortIndex`), so the count holds every port being made: `used` over the limit refuses.
 * @throws {OverQuota} (409) "Quota exceeded for resources: ['port']."
 */
export async function enforcePortQuota(deps: NetworkDeps, projectId: string): Promise<void> {
  const limit = (await projectQuotas(deps, projectId)).port ?? -1;
  if (limit < 0) return;
  if ((await deps.portIndex.countOfProject(projectId)) > limit) throw new OverQuota(['port']);
}
