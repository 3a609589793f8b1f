import { type VolumeRecord, VOLUMES } from '../records.ts';
import { CinderError } from './cinder-error.ts';
import { listingProject } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { atLeast } from './microversion.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';

/**
 * Cinder's `GET /volumes/summary` (3.12; cinder/api/v3/volumes.py `summary`, `cinder summary`):
 * how many volumes the project has and their GiB, and from 3.36 each metadata key with its
 * distinct values; `all_tenants` for an admin as the listing. Before 3.12 the path is a show of
 * a volume named `summary`, as in Cinder.
 */
export function volumeSummaryRoutes(deps: VolumeApiDeps): Route[] {
  const summary = async (req: VolumeRequest): Promise<VolumeResponse> => {
    if (!atLeast(req.version, '3.12')) throw new CinderError(404, 'Volume summary could not be found.');
    const rows = await deps.records.list<VolumeRecord>(VOLUMES, listingProject(req));
    const out: Record<string, unknown> = { total_size: rows.reduce((sum, v) => sum + v.size, 0), total_count: rows.length };
    if (atLeast(req.version, '3.36')) {
      const metadata: Record<string, string[]> = {};
      for (const v of rows) for (const [k, val] of Object.entries(v.metadata)) if (!metadata[k]?.includes(val)) (metadata[k] ??= []).push(val);
      out['metadata'] = metadata;
    }
    return { status: 200, body: { 'volume-summary': out } };
  };
  return [{ method: 'GET', path: '/volumes/summary', auth: 'token', handler: summary }];
}
