import { SnapshotIsBusy } from '../errors.ts';
import { type SnapshotRecord, SNAPSHOTS } from '../records.ts';
import { copyFileData } from './clone-volume.ts';
import type { VolumeApiDeps } from './deps.ts';

/**
 * The volume manager's snapshot work, with the snapshot's bytes kept in the cluster
 * (docs/decisions.md, "Snapshots in the cluster"): the driver's point-in-time copy on the
 * volume's host, then that copy written through the backup engine into the volume service's
 * own account (a full copy or an incremental over the volume's previous snapshot, as
 * `SnapshotChains` decides). The local copy stays for the fast path; the cluster copy is what
 * survives the host.
 */

/**
 * Makes the snapshot: the local copy, then its upload. Resolves when the snapshot's bytes are
 * in the cluster (every object written on a quorum); on any failure nothing of it is left,
 * neither objects nor the local copy, and the error is thrown.
 */
export async function takeSnapshot(deps: VolumeApiDeps, snapshot: SnapshotRecord): Promise<void> {
  const { chains, engine, container } = deps.snapshotCopies;
  const info = await deps.driver.createSnapshot(snapshot.id, snapshot.volume_id);
  let begun = false;
  let prefix: string | undefined;
  try {
    const parent = await chains.begin(snapshot.project_id, snapshot.volume_id, snapshot.id, info.sizeBytes, container);
    begun = true;
    const file = await deps.driver.openSnapshot(snapshot.id);
    try {
      const result = await engine.backup({ id: snapshot.id, volumeId: snapshot.volume_id, name: snapshot.name, description: snapshot.description, createdAt: snapshot.created_at, container, ...(parent ? { parent } : {}) }, file);
      prefix = result.serviceMetadata;
    } finally {
      await file.close();
    }
    await chains.finish(snapshot.project_id, snapshot.volume_id, snapshot.id, prefix);
  } catch (err) {
    // The engine deleted what it wrote when it failed; objects it finished are deleted here.
    if (prefix !== undefined) await engine.delete({ container, serviceMetadata: prefix }).catch((e: unknown) => deps.logger.error('snapshot objects left behind', { snapshot: snapshot.id, prefix, err: e }));
    if (begun) await chains.abandon(snapshot.project_id, snapshot.volume_id, snapshot.id).catch((e: unknown) => deps.logger.error('snapshot layer left behind', { snapshot: snapshot.id, err: e }));
    await deps.driver.deleteSnapshot(snapshot.id).catch((e: unknown) => deps.logger.error('local snapshot copy left behind', { snapshot: snapshot.id, err: e }));
    throw err;
  }
}

/**
 * Fills the new volume `volumeId` with the snapshot's data: from the local copy when this host
 * has it (a copy, or a qcow2 overlay), else a new raw volume restored from the cluster, every
 * block checked against its SHA-256, zeros left as holes.
 */
export function volumeFromSnapshot(deps: VolumeApiDeps, snapshot: SnapshotRecord, volumeId: string, sizeBytes: number): Promise<void> {
  return deps.snapshotCopies.locks.run(deleteLock(snapshot), async () => {
    if (await deps.driver.getSnapshot(snapshot.id)) {
      await deps.driver.createVolumeFromSnapshot(volumeId, snapshot.id, sizeBytes);
      return;
    }
    const { chains, engine } = deps.snapshotCopies;
    const chain = await chains.chainOf(snapshot.project_id, snapshot.volume_id, snapshot.id);
    await deps.driver.createVolume(volumeId, sizeBytes);
    const file = await deps.driver.openVolume(volumeId, 'rw');
    try {
      await engine.restore(chain, file, { volumeIsNew: true });
    } finally {
      await file.close();
    }
  });
}

/**
 * Writes the snapshot's data back over its own volume `volumeId` (Cinder's revert to snapshot):
 * from the local copy when this host has it, only the blocks that differ; else restored from the
 * cluster over the volume, zeros included. Under the snapshot's lock, as a volume made from it.
 */
export function revertFromSnapshot(deps: VolumeApiDeps, snapshot: SnapshotRecord, volumeId: string): Promise<void> {
  return deps.snapshotCopies.locks.run(deleteLock(snapshot), async () => {
    const target = await deps.driver.openVolume(volumeId, 'rw');
    try {
      if (await deps.driver.getSnapshot(snapshot.id)) {
        const source = await deps.driver.openSnapshot(snapshot.id);
        try {
          await copyFileData(source, target, { targetIsNew: false });
        } finally {
          await source.close();
        }
        return;
      }
      const { chains, engine } = deps.snapshotCopies;
      await engine.restore(await chains.chainOf(snapshot.project_id, snapshot.volume_id, snapshot.id), target, { volumeIsNew: false });
    } finally {
      await target.close();
    }
  });
}

/**
 * Deletes the snapshot's data: the local copy (if this host has it), then its layer in the
 * cluster, with every layer that no longer serves a snapshot. A local copy that a qcow2 volume
 * still reads through stays, as a thin LVM snapshot's extents stay with the volumes cloned from
 * it: the snapshot is gone for the user, and the copy goes with the last of those volumes
 * (`dropOrphanCopy`).
 */
export function dropSnapshot(deps: VolumeApiDeps, snapshot: SnapshotRecord): Promise<void> {
  return deps.snapshotCopies.locks.run(deleteLock(snapshot), async () => {
    if (await deps.driver.getSnapshot(snapshot.id)) {
      try {
        await deps.driver.deleteSnapshot(snapshot.id);
      } catch (err) {
        if (!(err instanceof SnapshotIsBusy)) throw err;
      }
    }
    const { chains, engine } = deps.snapshotCopies;
    const collect = await chains.retire(snapshot.project_id, snapshot.volume_id, snapshot.id);
    for (const layer of collect) {
      if (layer.prefix !== null) await engine.delete({ container: layer.container, serviceMetadata: layer.prefix });
    }
    if (collect.length > 0) await chains.collected(snapshot.project_id, snapshot.volume_id, collect.map((l) => l.id));
  });
}

/** Cinder's lock name: a volume made from the snapshot holds it, as the snapshot's delete does. */
function deleteLock(snapshot: SnapshotRecord): string {
  return `${snapshot.id}-delete_snapshot`;
}

/**
 * After a volume that read through a snapshot's local copy is deleted: the copy goes too when
 * its snapshot was deleted meanwhile and no other volume reads through it. (A copy missed here,
 * by a crash between the two, is swept at the next start: sweep-snapshot-copies.ts.)
 */
export async function dropOrphanCopy(deps: VolumeApiDeps, snapshotId: string, projectId: string): Promise<void> {
  if (await deps.records.find(SNAPSHOTS, snapshotId, projectId, true)) return;
  try {
    if (await deps.driver.getSnapshot(snapshotId)) await deps.driver.deleteSnapshot(snapshotId);
  } catch (err) {
    if (!(err instanceof SnapshotIsBusy)) throw err;
  }
}
