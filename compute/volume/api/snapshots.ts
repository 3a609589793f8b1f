import { snapshotAdminAction } from './admin-actions.ts';
import { type SnapshotRecord, SNAPSHOTS, type VolumeRecord, VOLUMES } from '../records.ts';
import { CinderError } from './cinder-error.ts';
import { contextOf, listingProject } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { bodyObject, findOwned, metadataOf, optionalString, page, parseBool } from './input.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';
import { reserveOrRefuse } from './over-quota.ts';
import { dropSnapshot, takeSnapshot } from './snapshot-tasks.ts';
import { cinderTime, snapshotView, typeNameOf } from './views.ts';
import { withTypeQuotas } from '../quota.ts';
import { DEFAULT_TYPE } from '../volume-types.ts';

/**
 * Cinder's snapshots API (cinder/api/v3/snapshots.py, volume/api.py's snapshot checks):
 * create (the volume `available`, or `in-use` with `force`), list, detail, show, update,
 * delete (`available` or `error`; also one that volumes made from it still read through, whose
 * local copy then stays until the last of them goes, as a thin LVM snapshot). A snapshot is `available` once its bytes are
 * in the cluster (`snapshot-tasks.ts`).
 */
export function snapshotRoutes(deps: VolumeApiDeps): Route[] {
  const { records } = deps;
  const now = (): string => cinderTime(deps.clock.now());
  const find = (req: VolumeRequest, id: string) => findOwned<SnapshotRecord>(records, SNAPSHOTS, req, id, 'Snapshot');
  const setStatus = (s: SnapshotRecord, status: string) => records.update<SnapshotRecord>(SNAPSHOTS, s, (cur) => ({ ...cur, status, updated_at: now() }));

  const create = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    const body = bodyObject(req, 'snapshot');
    const volumeId = optionalString(body, 'volume_id');
    if (!volumeId) throw new CinderError(400, "Invalid input for field/attribute snapshot. Value: 'volume_id' is a required property");
    const force = body['force'] === undefined ? false : parseBool(body['force'], 'force');
    const volume = await findOwned<VolumeRecord>(records, VOLUMES, req, volumeId, 'Volume');
    if (volume.status === 'error') throw new CinderError(400, 'Invalid volume: The snapshot cannot be created when the volume is in error status.');
    if (volume.status !== 'available' && !(force && volume.status === 'in-use')) {
      throw new CinderError(400, `Invalid volume: Volume ${volume.id} status must be available, but current status is: ${volume.status}.`);
    }
    const snapshot: SnapshotRecord = {
      id: deps.newId(),
      project_id: volume.project_id,
      user_id: ctx.userId,
      volume_id: volume.id,
      name: optionalString(body, 'name') ?? optionalString(body, 'display_name') ?? null,
      description: optionalString(body, 'description') ?? optionalString(body, 'display_description') ?? null,
      size: volume.size,
      volume_type_name: typeNameOf(volume),
      status: 'creating',
      created_at: now(),
      updated_at: null,
      metadata: metadataOf(body['metadata']),
    };
    const held = snapshotQuotaDeltas(snapshot.size, typeNameOf(volume));
    await reserveOrRefuse(() => deps.quotas.reserve(snapshot.project_id, held), 'snapshots', volume.size);
    try {
      await records.create(SNAPSHOTS, snapshot);
    } catch (err) {
      await deps.quotas.release(snapshot.project_id, held);
      throw err;
    }
    deps.worker.start(`create snapshot ${snapshot.id}`, async () => {
      try {
        await takeSnapshot(deps, snapshot);
      } catch (err) {
        deps.logger.error('snapshot create failed', { snapshot: snapshot.id, err });
        await setStatus(snapshot, 'error');
        return;
      }
      await setStatus(snapshot, 'available');
    });
    return { status: 202, body: { snapshot: snapshotView(req, snapshot) } };
  };

  const list = async (req: VolumeRequest): Promise<VolumeResponse> => {
    let rows = await records.list<SnapshotRecord>(SNAPSHOTS, listingProject(req));
    for (const key of ['name', 'status', 'volume_id'] as const) {
      const want = req.query.get(key);
      if (want !== null) rows = rows.filter((s) => s[key] === want);
    }
    const shown = page(req, rows, (m) => `Invalid input received: marker [${m}] not found`);
    // Cinder's snapshot summary and detail show the same fields.
    return { status: 200, body: { snapshots: shown.map((s) => snapshotView(req, s)) } };
  };

  const show = async (req: VolumeRequest): Promise<VolumeResponse> => ({ status: 200, body: { snapshot: snapshotView(req, await find(req, req.params['snapshot_id'] as string)) } });

  const update = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const body = bodyObject(req, 'snapshot');
    const snapshot = await find(req, req.params['snapshot_id'] as string);
    const name = optionalString(body, 'name') ?? optionalString(body, 'display_name');
    const description = optionalString(body, 'description') ?? optionalString(body, 'display_description');
    const updated = await records.update<SnapshotRecord>(SNAPSHOTS, snapshot, (cur) => ({ ...cur, ...(name !== undefined ? { name } : {}), ...(description !== undefined ? { description } : {}), updated_at: now() }));
    if (!updated) throw new CinderError(404, `Snapshot ${snapshot.id} could not be found.`);
    return { status: 200, body: { snapshot: snapshotView(req, updated) } };
  };

  const remove = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const snapshot = await find(req, req.params['snapshot_id'] as string);
    // A volume always outlives its snapshots (a volume with snapshots is not deleted), so one not
    // in the snapshot's project is being transferred into it: the snapshot is not the taker's to
    // delete until the accept ends (which a start may finish: it would write it back).
    if (!(await records.find(VOLUMES, snapshot.volume_id, snapshot.project_id, false))) throw new CinderError(400, `Invalid snapshot: Volume ${snapshot.volume_id} of snapshot ${snapshot.id} is being transferred.`);
    const claimed = await records.claim<SnapshotRecord>(SNAPSHOTS, snapshot, (cur) => (cur.status === 'available' || cur.status === 'error' ? { ...cur, status: 'deleting', updated_at: now() } : undefined));
    if (claimed?.status !== 'deleting') throw new CinderError(400, 'Invalid snapshot: Snapshot status must be available or error and must not be part of a group.');
    deps.worker.start(`delete snapshot ${snapshot.id}`, () => deleteSnapshotTask(deps, snapshot));
    return { status: 202 };
  };

  return [
    { method: 'POST', path: '/snapshots', auth: 'token', handler: create },
    { method: 'GET', path: '/snapshots', auth: 'token', handler: list },
    { method: 'GET', path: '/snapshots/detail', auth: 'token', handler: list },
    { method: 'GET', path: '/snapshots/{snapshot_id}', auth: 'token', handler: show },
    { method: 'PUT', path: '/snapshots/{snapshot_id}', auth: 'token', handler: update },
    { method: 'DELETE', path: '/snapshots/{snapshot_id}', auth: 'token', handler: remove },
    { method: 'POST', path: '/snapshots/{snapshot_id}/action', auth: 'token', handler: (req) => snapshotAdminAction(deps, req) },
  ];
}

/**
 * The volume manager's delete of a snapshot already `deleting`: its data (`dropSnapshot`), its
 * record, its quota; `error_deleting` on a failure.
 */
export async function deleteSnapshotTask(deps: VolumeApiDeps, snapshot: SnapshotRecord): Promise<void> {
  const setStatus = (status: string) => deps.records.update<SnapshotRecord>(SNAPSHOTS, snapshot, (cur) => ({ ...cur, status, updated_at: cinderTime(deps.clock.now()) }));
  try {
    await dropSnapshot(deps, snapshot);
  } catch (err) {
    deps.logger.error('snapshot delete failed', { snapshot: snapshot.id, err });
    await setStatus('error_deleting');
    return;
  }
  await deps.records.remove(SNAPSHOTS, snapshot);
  await deps.quotas.release(snapshot.project_id, snapshotQuotaDeltas(snapshot.size, snapshot.volume_type_name ?? DEFAULT_TYPE.name));
}

/** What a snapshot holds of its project's quotas (Cinder counts its GiB in `gigabytes`). */
export function snapshotQuotaDeltas(size: number, typeName: string): Record<string, number> {
  return withTypeQuotas({ snapshots: 1, gigabytes: size }, typeName);
}
