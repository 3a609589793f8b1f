import { RecordExistsError, type RecordStore, RecordVersionError } from '../../client/record-store.ts';
import { updateRecord } from '../../client/record-update.ts';
import type { StoredBackup } from './backup/chunked-backup.ts';

/**
 * Where each snapshot's bytes are in the cluster: one record per volume,
 * `snapshot_chains/<project>/<volume>`, listing its snapshots' layers. A layer is what the
 * backup engine wrote for one snapshot (a full copy, or an incremental over an older layer of
 * the same volume: only the blocks that changed since it). Layers form a tree by `parent`.
 *
 * Cinder lets a user delete snapshots in any order, so deleting one must not break another: a
 * deleted snapshot's layer is `retired`, and stays while a newer layer is an incremental over it
 * (its blocks are still part of that snapshot); a retired layer no other layer builds on is
 * `collecting`: its objects are deleted, then it leaves the record (and the record goes with its
 * last layer). So every object in the container belongs to a layer listed here, and a layer goes
 * exactly when nothing needs it. A new snapshot builds only on a `ready` layer (one whose
 * snapshot exists) of the same size, and is a full copy when that layer is already
 * `maxChain - 1` incrementals deep, which bounds what retired layers can hold and what a
 * restore reads.
 *
 * Every change is a compare-and-swap of the one record (`updateRecord`), so a delete that frees
 * a layer and a create that builds on it cannot cross: whichever writes second sees the other.
 */
export const SNAPSHOT_CHAINS = 'snapshot_chains';

export type LayerState = 'uploading' | 'ready' | 'retired' | 'collecting';

export interface SnapshotLayer {
  /** The snapshot's id (the engine's backup id). */
  readonly id: string;
  /** The layer this one is an incremental over; null: a full copy. */
  readonly parent: string | null;
  readonly container: string;
  /** The engine's object prefix (its `service_metadata`), known once the upload ended; null while uploading. */
  prefix: string | null;
  /** The snapshot's size in bytes (an incremental needs its parent's). */
  readonly size_bytes: number;
  state: LayerState;
}

export interface SnapshotChain {
  readonly project_id: string;
  readonly volume_id: string;
  layers: SnapshotLayer[];
}

/** The layer a new snapshot of `sizeBytes` builds on, if any: the newest `ready` one of that size not already `maxChain - 1` deep. */
export function chooseParent(chain: SnapshotChain | undefined, sizeBytes: number, maxChain: number): SnapshotLayer | undefined {
  const layers = chain?.layers ?? [];
  const candidate = layers.filter((l) => l.state === 'ready' && l.size_bytes === sizeBytes && l.prefix !== null).at(-1);
  if (!candidate) return undefined;
  return depthOf(layers, candidate.id) < maxChain ? candidate : undefined;
}

/** Layers from `id` down to its full copy. */
function depthOf(layers: readonly SnapshotLayer[], id: string): number {
  let depth = 0;
  for (let at: string | null = id; at !== null; depth++) at = layers.find((l) => l.id === at)?.parent ?? null;
  return depth;
}

/**
 * Retires the layer `id` (its snapshot is being deleted) and marks every retired layer that no
 * live layer builds on `collecting`, repeatedly (freeing one can free its parent). Returns the
 * new layers and every layer whose objects are to be deleted (those marked now and any left
 * `collecting` by an earlier delete that did not finish).
 */
export function planRetire(layers: readonly SnapshotLayer[], id: string): { layers: SnapshotLayer[]; collect: SnapshotLayer[] } {
  const next = layers.map((l) => ({ ...l, ...(l.id === id && l.state !== 'collecting' ? { state: 'retired' as const } : {}) }));
  for (let changed = true; changed; ) {
    changed = false;
    for (const layer of next) {
      if (layer.state !== 'retired') continue;
      const needed = next.some((other) => other.parent === layer.id && other.state !== 'collecting');
      if (!needed) {
        layer.state = 'collecting';
        changed = true;
      }
    }
  }
  return { layers: next, collect: next.filter((l) => l.state === 'collecting') };
}

export class SnapshotChains {
  private readonly store: RecordStore;
  private readonly maxChain: number;

  /** `maxChain`: the most layers a restore reads (1: every snapshot a full copy). */
  constructor(store: RecordStore, options: { maxChain: number }) {
    this.store = store;
    this.maxChain = Math.max(1, options.maxChain);
  }

  async get(projectId: string, volumeId: string): Promise<SnapshotChain | undefined> {
    return (await this.store.get<SnapshotChain>(SNAPSHOT_CHAINS, key(projectId, volumeId)))?.value;
  }

  /**
   * Adds the snapshot's layer as `uploading`, over the layer it builds on (chosen in the same
   * write, so that layer cannot be collected meanwhile: it now has a child). Returns that parent
   * as the engine takes it, or undefined for a full copy.
   */
  async begin(projectId: string, volumeId: string, snapshotId: string, sizeBytes: number, container: string): Promise<StoredBackup | undefined> {
    const k = key(projectId, volumeId);
    for (let attempt = 0; attempt < 100; attempt++) {
      let parent: SnapshotLayer | undefined;
      const add = (chain: SnapshotChain | undefined): SnapshotChain => {
        parent = chooseParent(chain, sizeBytes, this.maxChain);
        const layer: SnapshotLayer = { id: snapshotId, parent: parent?.id ?? null, container, prefix: null, size_bytes: sizeBytes, state: 'uploading' };
        return { project_id: projectId, volume_id: volumeId, layers: [...(chain?.layers ?? []).filter((l) => l.id !== snapshotId), layer] };
      };
      const written = await updateRecord<SnapshotChain>(this.store, SNAPSHOT_CHAINS, k, (current) => add(current.value), 100);
      if (!written) {
        try {
          await this.store.create(SNAPSHOT_CHAINS, k, add(undefined));
        } catch (err) {
          if (err instanceof RecordExistsError) continue; // another snapshot made the record first
          throw err;
        }
      }
      const p = parent as SnapshotLayer | undefined;
      return p ? { id: p.id, container: p.container, serviceMetadata: p.prefix as string, parentId: p.parent } : undefined;
    }
    throw new Error(`snapshot chain ${k}: too many concurrent changes`);
  }

  /** The snapshot's objects are all written: its layer is `ready` (restorable, and a parent for the next). */
  async finish(projectId: string, volumeId: string, snapshotId: string, prefix: string): Promise<void> {
    const done = await this.change(projectId, volumeId, (layers) => layers.map((l) => (l.id === snapshotId ? { ...l, prefix, state: 'ready' as const } : l)));
    if (!done?.layers.some((l) => l.id === snapshotId && l.state === 'ready')) throw new Error(`snapshot ${snapshotId} has no layer in its chain`);
  }

  /** An upload that failed (its objects already deleted by the engine): the layer goes. */
  async abandon(projectId: string, volumeId: string, snapshotId: string): Promise<void> {
    await this.remove(projectId, volumeId, [snapshotId]);
  }

  /**
   * The snapshot's restore chain as the engine takes it, itself first, then its parent, down to
   * its full copy. @throws when the snapshot has no ready layer
   */
  async chainOf(projectId: string, volumeId: string, snapshotId: string): Promise<StoredBackup[]> {
    const chain = await this.get(projectId, volumeId);
    const layers = chain?.layers ?? [];
    const out: StoredBackup[] = [];
    for (let at: string | null = snapshotId; at !== null; ) {
      const layer = layers.find((l) => l.id === at);
      if (!layer || layer.prefix === null || (out.length === 0 && layer.state !== 'ready')) throw new Error(`snapshot ${snapshotId} has no copy in the cluster (layer ${at} is missing)`);
      out.push({ id: layer.id, container: layer.container, serviceMetadata: layer.prefix, parentId: layer.parent });
      at = layer.parent;
    }
    return out;
  }

  /**
   * The snapshot is being deleted: its layer is retired, and the layers nothing needs any more
   * are marked `collecting` and returned, for the caller to delete their objects and then
   * `collected` them.
   */
  async retire(projectId: string, volumeId: string, snapshotId: string): Promise<SnapshotLayer[]> {
    let collect: SnapshotLayer[] = [];
    await this.change(projectId, volumeId, (layers) => {
      const plan = planRetire(layers, snapshotId);
      collect = plan.collect;
      return plan.layers;
    });
    return collect;
  }

  /** The layers' objects are deleted: they leave the record, and the record goes with its last layer. */
  async collected(projectId: string, volumeId: string, ids: readonly string[]): Promise<void> {
    await this.remove(projectId, volumeId, ids);
  }

  /**
   * The volume's chain under another project (a transfer with its snapshots): written under the
   * new key, then the old record deleted as it was read; one changed meanwhile is read and
   * written again. The layers' objects stay where they are, in the service's own account.
   */
  async move(fromProject: string, toProject: string, volumeId: string): Promise<void> {
    const from = key(fromProject, volumeId);
    for (let attempt = 0; attempt < 100; attempt++) {
      const current = await this.store.get<SnapshotChain>(SNAPSHOT_CHAINS, from);
      if (!current) return;
      // The new key is no one else's: the volume is not in that project until the transfer ends.
      await this.store.put(SNAPSHOT_CHAINS, key(toProject, volumeId), { ...current.value, project_id: toProject });
      try {
        await this.store.delete(SNAPSHOT_CHAINS, from, { ifVersion: current.version });
        return;
      } catch (err) {
        if (!(err instanceof RecordVersionError)) throw err;
      }
    }
    throw new Error(`snapshot chain ${from}: too many concurrent changes`);
  }

  private async remove(projectId: string, volumeId: string, ids: readonly string[]): Promise<void> {
    const k = key(projectId, volumeId);
    const after = await this.change(projectId, volumeId, (layers) => layers.filter((l) => !ids.includes(l.id)));
    if (!after || after.layers.length > 0) return;
    const current = await this.store.get<SnapshotChain>(SNAPSHOT_CHAINS, k);
    // Deleted only as the empty record read: a snapshot begun meanwhile keeps it.
    if (current && current.value.layers.length === 0) {
      try {
        await this.store.delete(SNAPSHOT_CHAINS, k, { ifVersion: current.version });
      } catch (err) {
        if (!(err instanceof RecordVersionError)) throw err;
      }
    }
  }

  private async change(projectId: string, volumeId: string, change: (layers: SnapshotLayer[]) => SnapshotLayer[]): Promise<SnapshotChain | undefined> {
    const written = await updateRecord<SnapshotChain>(this.store, SNAPSHOT_CHAINS, key(projectId, volumeId), (current) => ({ ...current.value, layers: change(structuredClone(current.value.layers)) }), 100);
    return written?.value;
  }
}

function key(projectId: string, volumeId: string): string {
  return `${projectId}/${volumeId}`;
}
