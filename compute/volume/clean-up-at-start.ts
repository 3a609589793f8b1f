import type { BackupObjectStore } from './backup/object-store.ts';
import type { ChunkedBackupEngine } from './backup/chunked-backup.ts';
import { type AcceptingTransfer, finishAccept } from './api/accept-transfer.ts';
import { deleteBackupTask } from './api/backups.ts';
import { CinderError } from './api/cinder-error.ts';
import type { VolumeApiDeps } from './api/deps.ts';
import { endRevert, finishRevert } from './api/revert-to-snapshot.ts';
import { deleteVolumeTask } from './api/volumes.ts';
import { cinderTime } from './api/views.ts';
import { SnapshotNotFound } from './errors.ts';
import { type BackupRecord, BACKUPS, type SnapshotRecord, SNAPSHOTS, TRANSFERS, type TransferRecord, type VolumeRecord, VOLUMES } from './records.ts';

/** One record a start changed: what it was and what it is now (`deleted`: a delete resumed). */
export interface StartCleanupChange {
  readonly kind: 'volume' | 'snapshot' | 'backup' | 'snapshot layer' | 'transfer';
  readonly id: string;
  readonly from: string;
  readonly to: string;
}

/** Cinder's fail_reason for a backup cut off by a restart (backup/manager.py). */
export const BACKUP_RESET_REASON = 'incomplete backup reset on manager restart';

/**
 * What Cinder's volume and backup managers do when they start (volume/manager.py `init_host`
 * with `_do_cleanup`, backup/manager.py `_cleanup_incomplete_backup_operations`), for the work
 * this host was doing when its process died. Run before the API listens, so nothing it finds
 * in flight can be this process's own. Only this host's records are touched (a volume's and its
 * snapshots' `host`, a backup's `host`), each change a compare-and-swap from the status read,
 * so two hosts starting at once never undo each other and a change made meanwhile wins.
 *
 * Volumes: `creating`, `downloading` → `error`; `uploading` → `in-use` or `available` by its
 * attachment; `backing-up` → its previous status; `restoring-backup` → `error_restoring`;
 * `deleting` → the delete resumed; `reverting` → the revert resumed from the snapshot it names
 * (Cinder leaves it for an admin; the write is an overwrite from the snapshot, so running it
 * again is safe, and the volume stays `reverting` until the bytes are the snapshot's), `error`
 * when there is no snapshot to finish from. `extending` is left as Cinder leaves it (an admin resets it).
 * Snapshots: `creating` → `error` (Cinder's only cleanable snapshot status; a `deleting` one is
 * left for an admin's reset and a delete again); `restoring` with no revert resumed → `available`. Backups: `creating` → `error` with Cinder's
 * reason, `restoring` → `available`, `deleting` → the delete resumed (with the service's own
 * credential; without one, `error_deleting`, as Cinder leaves a delete it cannot resume).
 *
 * Nothing cut off stays in the cluster: a snapshot layer still `uploading` in the chain of one of
 * this host's volumes was begun by this host's dead process (only a volume's host snapshots it),
 * so its objects are found by the snapshot id in their names, deleted, and then the layer leaves
 * the chain (a layer nobody builds on: `chooseParent` takes only `ready` ones); `collecting`
 * layers a delete left are collected. A cut-off backup's objects in its project's account go the
 * same way when the service has its own credential. A transfer accept this host's process was
 * running is finished (or, refused as it could have been then, undone: the offer stands again).
 * That slow part is returned as `rest`, to run after the API listens: it only touches the
 * layers, objects and transfers found here (an accept under way is refused a second accept and
 * a delete, and its snapshots' deletes wait for its volume).
 */
export async function cleanUpAtStart(deps: VolumeApiDeps): Promise<{ changes: StartCleanupChange[]; rest: () => Promise<StartCleanupChange[]> }> {
  const { records } = deps;
  const now = (): string => cinderTime(deps.clock.now());
  const changes: StartCleanupChange[] = [];
  const later: Array<() => Promise<StartCleanupChange[]>> = [];

  const allVolumes = await records.list<VolumeRecord>(VOLUMES, undefined);
  const mine = allVolumes.filter((v) => v.host === deps.host);
  const volumeHost = new Map(allVolumes.map((v) => [v.id, v.host]));
  const move = async <T extends { id: string; project_id: string; status: string }>(kind: StartCleanupChange['kind'], records_: typeof VOLUMES | typeof SNAPSHOTS | typeof BACKUPS, r: T, to: string, extra: Partial<T> = {}): Promise<boolean> => {
    const done = await records.claim<T>(records_, r, (cur) => (cur.status === r.status ? { ...cur, ...extra, status: to, updated_at: now() } : undefined));
    if (done) changes.push({ kind, id: r.id, from: r.status, to });
    return done !== undefined;
  };

  const allSnapshots = await records.list<SnapshotRecord>(SNAPSHOTS, undefined);
  /** The snapshots a resumed revert writes back: theirs to give back when it ends. */
  const resumed = new Set<string>();

  for (const v of mine) {
    const attached = v.attach_status === 'attached' || (v.attachments?.length ?? 0) > 0;
    if (v.status === 'creating' || v.status === 'downloading') await move('volume', VOLUMES, v, 'error');
    else if (v.status === 'uploading') await move('volume', VOLUMES, v, attached ? 'in-use' : 'available');
    else if (v.status === 'backing-up') await move('volume', VOLUMES, v, v.previous_status ?? (attached ? 'in-use' : 'available'));
    else if (v.status === 'restoring-backup') await move('volume', VOLUMES, v, 'error_restoring');
    else if (v.status === 'reverting') {
      const snapshot = allSnapshots.find((s) => s.id === v.reverting_to && s.volume_id === v.id);
      if (snapshot && (snapshot.status === 'restoring' || snapshot.status === 'available')) {
        resumed.add(snapshot.id);
        later.push(() => resumeRevert(deps, v, snapshot));
      } else {
        // Nothing to finish from (a record from before `reverting_to`, or its snapshot gone or
        // taken by an admin): the bytes may be half written, so Cinder's failed-revert status.
        if (await endRevert(deps, v, 'error')) changes.push({ kind: 'volume', id: v.id, from: 'reverting', to: 'error' });
      }
    }
    else if (v.status === 'deleting') {
      later.push(async () => {
        await deleteVolumeTask(deps, v);
        return [{ kind: 'volume', id: v.id, from: 'deleting', to: (await records.find<VolumeRecord>(VOLUMES, v.id, v.project_id, false))?.status ?? 'deleted' }];
      });
    }
  }

  const myVolumeIds = new Set(mine.map((v) => v.id));
  for (const s of allSnapshots) {
    if (!myVolumeIds.has(s.volume_id)) continue;
    if (s.status === 'creating') {
      if (await move('snapshot', SNAPSHOTS, s, 'error')) await deps.driver.deleteSnapshot(s.id).catch((err: unknown) => (err instanceof SnapshotNotFound ? undefined : deps.logger.error('local snapshot copy left behind', { snapshot: s.id, err })));
    } else if (s.status === 'restoring' && !resumed.has(s.id)) {
      // A revert that had already ended for its volume (or never claimed it): only the snapshot's
      // own end was cut off. It reads as it did before, as Cinder's revert leaves it either way.
      await move('snapshot', SNAPSHOTS, s, 'available');
    }
  }

  const { chains, engine, store } = deps.snapshotCopies;
  for (const v of mine) {
    const chain = await chains.get(v.project_id, v.id);
    for (const layer of chain?.layers ?? []) {
      if (layer.state === 'uploading') {
        later.push(async () => {
          await deleteObjectsOf(engine, store, layer.container, v.id, layer.id);
          await chains.abandon(v.project_id, v.id, layer.id);
          return [{ kind: 'snapshot layer', id: layer.id, from: 'uploading', to: 'deleted' }];
        });
      } else if (layer.state === 'collecting') {
        later.push(async () => {
          if (layer.prefix !== null) await engine.delete({ container: layer.container, serviceMetadata: layer.prefix });
          await chains.collected(v.project_id, v.id, [layer.id]);
          return [{ kind: 'snapshot layer', id: layer.id, from: 'collecting', to: 'deleted' }];
        });
      }
    }
  }

  for (const b of await records.list<BackupRecord>(BACKUPS, undefined)) {
    if ((b.host ?? volumeHost.get(b.volume_id)) !== deps.host) continue;
    const access = deps.serviceBackups?.(b.account_project ?? b.project_id);
    if (b.status === 'creating') {
      if (!(await move('backup', BACKUPS, b, 'error', { fail_reason: BACKUP_RESET_REASON }))) continue;
      if (b.parent_id !== null) {
        const parent = await records.find<BackupRecord>(BACKUPS, b.parent_id, b.project_id, false);
        if (parent) await records.update<BackupRecord>(BACKUPS, parent, (cur) => ({ ...cur, num_dependent_backups: Math.max(0, cur.num_dependent_backups - 1) }));
      }
      if (access) {
        later.push(async () => {
          await deleteObjectsOf(access.engine, access.store, b.container ?? access.defaultContainer, b.volume_id, b.id);
          return [];
        });
      }
    } else if (b.status === 'restoring') await move('backup', BACKUPS, b, 'available');
    else if (b.status === 'deleting') {
      if (access) {
        later.push(async () => {
          await deleteBackupTask(deps, access.engine, b);
          return [{ kind: 'backup', id: b.id, from: 'deleting', to: (await records.find<BackupRecord>(BACKUPS, b.id, b.project_id, false))?.status ?? 'deleted' }];
        });
      } else await move('backup', BACKUPS, b, 'error_deleting');
    }
  }

  for (const t of await records.list<TransferRecord>(TRANSFERS, undefined)) {
    if (t.accepting?.host !== deps.host) continue;
    later.push(() => resumeAccept(deps, t as AcceptingTransfer));
  }

  return {
    changes,
    rest: async () => {
      const out: StartCleanupChange[] = [];
      for (const step of later) {
        try {
          out.push(...(await step()));
        } catch (err) {
          // As Cinder's: one record that cannot be cleaned up does not stop the others.
          deps.logger.error('clean-up at start failed', { err });
        }
      }
      return out;
    },
  };
}

/**
 * Finishes a revert its dead process had begun: the snapshot `restoring` again (an admin may
 * have reset it meanwhile), then the same overwrite from the snapshot, which ends the volume
 * `available` with the snapshot's bytes, or `error` if the write fails again.
 */
async function resumeRevert(deps: VolumeApiDeps, volume: VolumeRecord, snapshot: SnapshotRecord): Promise<StartCleanupChange[]> {
  const claimed = await deps.records.claim<SnapshotRecord>(SNAPSHOTS, snapshot, (cur) => (cur.status === 'restoring' || cur.status === 'available' ? { ...cur, status: 'restoring', updated_at: cinderTime(deps.clock.now()) } : undefined));
  if (!claimed) {
    return (await endRevert(deps, volume, 'error')) ? [{ kind: 'volume', id: volume.id, from: 'reverting', to: 'error' }] : [];
  }
  deps.logger.info('resuming a revert cut off by a restart', { volume: volume.id, snapshot: snapshot.id });
  return [{ kind: 'volume', id: volume.id, from: 'reverting', to: await finishRevert(deps, volume, claimed) }];
}

/**
 * Finishes a transfer accept its dead process had begun (the steps are idempotent: those done
 * are skipped), or undoes it when it is refused now as it could have been then (the taker over
 * quota, a snapshot no longer available): the transfer is then offered again.
 */
async function resumeAccept(deps: VolumeApiDeps, transfer: AcceptingTransfer): Promise<StartCleanupChange[]> {
  deps.logger.info('resuming a transfer accept cut off by a restart', { transfer: transfer.id, volume: transfer.volume_id });
  try {
    await finishAccept(deps, transfer);
  } catch (err) {
    if (!(err instanceof CinderError)) throw err;
    deps.logger.info('transfer accept refused at restart, the offer stands', { transfer: transfer.id, reason: err.message });
    return [{ kind: 'transfer', id: transfer.id, from: 'accepting', to: 'offered' }];
  }
  return [{ kind: 'transfer', id: transfer.id, from: 'accepting', to: 'accepted' }];
}

/**
 * Deletes the objects an upload of backup (or snapshot) `id` of volume `volumeId` wrote before
 * it was cut off, without its prefix (the engine names it when the upload ends): every prefix
 * under `volume_<volume>/` that ends in `_backup_<id>` (Cinder's layout; the id is a UUID, so
 * no other backup's prefix ends the same).
 */
async function deleteObjectsOf(engine: ChunkedBackupEngine, store: BackupObjectStore, container: string, volumeId: string, id: string): Promise<void> {
  const marker = `_backup_${id}`;
  const prefixes = new Set<string>();
  for (const name of await store.listNames(container, `volume_${volumeId}/`)) {
    const at = name.indexOf(marker);
    if (at !== -1) prefixes.add(name.slice(0, at + marker.length));
  }
  for (const prefix of prefixes) await engine.delete({ container, serviceMetadata: prefix });
}
