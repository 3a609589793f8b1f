import { sumDeltas } from '../quota.ts';
import { TRANSFERS, type TransferAccept, type TransferRecord, type VolumeRecord, VOLUMES } from '../records.ts';
import { CinderError } from './cinder-error.ts';
import type { VolumeApiDeps } from './deps.ts';
import { moveSnapshots, snapshotsQuotaDeltas, unmoveSnapshots } from './move-snapshots.ts';
import { reserveOrRefuse } from './over-quota.ts';
import { cinderTime } from './views.ts';
import { reserveVolume, volumeQuotaDeltas } from './volumes.ts';

/** A transfer whose accept has been written down (its intent). */
export type AcceptingTransfer = TransferRecord & { readonly accepting: TransferAccept };

/** The keys under which an accept changes quotas once, however often its steps run. */
function quotaKeys(transferId: string) {
  return { volume: `transfer ${transferId} volume`, snapshots: `transfer ${transferId} snapshots`, giveBack: `transfer ${transferId} given back` };
}

/**
 * The steps of an accept whose intent is on the transfer's record (Cinder's transfer_accept:
 * the taker's quota, the snapshots, the volume, the donor's quota back, the transfer gone).
 * Every step is idempotent (quota changes are keyed, record moves check both sides), so a start
 * of the host that ran them runs them all again to finish one its dead process cut off.
 *
 * Until the snapshots have all moved the accept can still be refused, as Cinder's is: over the
 * taker's quota (413) or a snapshot no longer available (400); then everything is put back
 * (`undoAccept`) and the transfer is offered again. After that point nothing is refused: the
 * volume moves and the accept ends. Any other error (the cluster failing) leaves the intent
 * for the next start of `accepting.host`.
 * @throws 413, 400 having undone the accept
 */
export async function finishAccept(deps: VolumeApiDeps, transfer: AcceptingTransfer): Promise<void> {
  const a = transfer.accepting;
  const keys = quotaKeys(transfer.id);
  const volumeDeltas = volumeQuotaDeltas(a.volume_size, a.volume_type_name);
  const snapshotDeltas = snapshotsQuotaDeltas(a.snapshots);
  if (!a.settled) {
    try {
      // The taker's quota first (the volume, then its snapshots: Cinder's order and errors).
      await reserveVolume(deps, a.project_id, a.volume_size, a.volume_type_name, keys.volume);
      if (a.snapshots.length > 0) await reserveOrRefuse(() => deps.quotas.reserve(a.project_id, snapshotDeltas, keys.snapshots), 'snapshots', snapshotDeltas['gigabytes'] ?? 0);
      await moveSnapshots(deps, transfer.id, transfer.project_id, a);
    } catch (err) {
      if (err instanceof CinderError) await undoAccept(deps, transfer);
      throw err;
    }
    if (a.snapshots.length > 0 && transfer.project_id !== a.project_id) await deps.snapshotCopies.chains.move(transfer.project_id, a.project_id, transfer.volume_id);
    await moveVolume(deps, transfer);
    await deps.quotas.release(transfer.project_id, sumDeltas([volumeDeltas, snapshotDeltas]), keys.giveBack);
    await deps.records.update<TransferRecord>(TRANSFERS, transfer, (cur) => (cur.accepting ? { ...cur, accepting: { ...cur.accepting, settled: true } } : undefined));
  }
  // Settled: no step runs again, so their keys can go (before the transfer, which is what runs them).
  await deps.quotas.settle(a.project_id, [keys.volume, keys.snapshots]);
  await deps.quotas.settle(transfer.project_id, [keys.giveBack]);
  await deps.records.remove(TRANSFERS, transfer);
  deps.logger.info('volume transferred', { volume: transfer.volume_id, from: transfer.project_id, to: a.project_id, snapshots: a.snapshots.map((s) => s.id) });
}

/**
 * Puts back what a refused accept had done (only ever before its volume moved): the snapshots
 * to the donor, the taker's reservations given back, the intent dropped (the offer stands).
 */
export async function undoAccept(deps: VolumeApiDeps, transfer: AcceptingTransfer): Promise<void> {
  const a = transfer.accepting;
  const keys = quotaKeys(transfer.id);
  await unmoveSnapshots(deps, transfer.project_id, a);
  await deps.quotas.cancel(a.project_id, keys.snapshots, snapshotsQuotaDeltas(a.snapshots));
  await deps.quotas.cancel(a.project_id, keys.volume, volumeQuotaDeltas(a.volume_size, a.volume_type_name));
  await deps.records.update<TransferRecord>(TRANSFERS, transfer, (cur) => {
    const { accepting: _undone, ...rest } = cur;
    return rest;
  });
}

/**
 * The volume's record into the taker's project, `available` (written there, then the donor's
 * deleted): run again, a volume only the taker has is done, one both have loses the donor's.
 */
async function moveVolume(deps: VolumeApiDeps, transfer: AcceptingTransfer): Promise<void> {
  const a = transfer.accepting;
  const store = deps.records.store;
  const donorKey = `${transfer.project_id}/${transfer.volume_id}`;
  const stored = await store.get<VolumeRecord>(VOLUMES, donorKey);
  if (!stored) return;
  // Only the offer's status changes: one an admin reset meanwhile is kept.
  const status = stored.value.status === 'awaiting-transfer' ? 'available' : stored.value.status;
  const moved: VolumeRecord = { ...stored.value, project_id: a.project_id, user_id: a.user_id, status, updated_at: cinderTime(deps.clock.now()) };
  const takerKey = `${a.project_id}/${transfer.volume_id}`;
  if (takerKey === donorKey) {
    await store.put(VOLUMES, takerKey, moved);
    return;
  }
  // Cut off between the two writes, the taker's record is the one (its owner may have used it since).
  if (!(await store.get(VOLUMES, takerKey))) await store.put(VOLUMES, takerKey, moved);
  await store.delete(VOLUMES, donorKey);
}

