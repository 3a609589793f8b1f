import { contextOf } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { atLeast } from './microversion.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';

/** cinder/api/views/limits.py: which quota each absolute limit shows. */
const ABSOLUTE_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['gigabytes', 'maxTotalVolumeGigabytes'],
  ['backup_gigabytes', 'maxTotalBackupGigabytes'],
  ['volumes', 'maxTotalVolumes'],
  ['snapshots', 'maxTotalSnapshots'],
  ['backups', 'maxTotalBackups'],
];

/** cinder/api/contrib/used_limits.py: what is in use, by the names it shows. */
const USED_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['volumes', 'totalVolumesUsed'],
  ['gigabytes', 'totalGigabytesUsed'],
  ['snapshots', 'totalSnapshotsUsed'],
  ['backups', 'totalBackupsUsed'],
  ['backup_gigabytes', 'totalBackupGigabytesUsed'],
];

/**
 * Cinder's `GET /limits` (cinder/api/v3/limits.py with the used_limits extension): the
 * project's absolute limits and what it uses of them; no rate limits (Cinder has none unless
 * its rate-limit middleware is configured). An admin may name another project with
 * `project_id` from 3.39 on.
 */
export function limitsRoutes(deps: VolumeApiDeps): Route[] {
  const index = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    let projectId = ctx.projectId;
    if (ctx.isAdmin && atLeast(req.version, '3.39')) projectId = req.query.get('project_id') ?? req.query.get('tenant_id') ?? ctx.projectId;
    const [limits, used] = await Promise.all([deps.quotas.limits(projectId), deps.quotas.usage(projectId)]);
    const absolute: Record<string, number> = {};
    for (const [quota, name] of ABSOLUTE_NAMES) if (limits[quota] !== undefined) absolute[name] = limits[quota];
    for (const [quota, name] of USED_NAMES) absolute[name] = used[quota] ?? 0;
    return { status: 200, body: { limits: { rate: [], absolute } } };
  };
  return [{ method: 'GET', path: '/limits', auth: 'token', handler: index }];
}
