import { RecordVersionError } from '../../../client/record-store.ts';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type SnapshotRecord, SNAPSHOTS, TRANSFERS, type TransferAccept, type TransferRecord, type VolumeRecord, VOLUMES } from '../records.ts';
import { CinderError } from './cinder-error.ts';
import { contextOf, listingProject } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { bodyObject, findOwned, optionalString, page, parseBool } from './input.ts';
import { atLeast } from './microversion.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';
import { cinderTime, typeNameOf } from './views.ts';
import { finishAccept } from './accept-transfer.ts';

/**
 * Cinder's volume transfers (cinder/api/contrib/volume_transfer.py, v3/volume_transfer.py at
 * 3.55, cinder/transfer/api.py; `openstack volume transfer request create/list/show/delete/
 * accept`): the owner offers an `available` volume (it is `awaiting-transfer`) and gets a
 * one-time auth key; whoever presents the transfer's id and key takes the volume into their
 * own project, within their quota, and the donor's quota is given back. The volume's snapshots
 * go with it (Cinder since Stein; 3.55's `no_snapshots` asks not to, which here refuses a volume
 * that has snapshots: see docs/decisions.md); backups stay with the donor, as in Cinder.
 */
export function transferRoutes(deps: VolumeApiDeps): Route[] {
  const { records } = deps;
  const now = (): string => cinderTime(deps.clock.now());
  const notFound = (id: string) => new CinderError(404, `Transfer ${id} could not be found.`);

  const links = (req: VolumeRequest, t: TransferRecord) => [
    { href: `${req.base}/v3/${t.project_id}/os-volume-transfer/${t.id}`, rel: 'self' },
    { href: `${req.base}/${t.project_id}/os-volume-transfer/${t.id}`, rel: 'bookmark' },
  ];
  const summary = (req: VolumeRequest, t: TransferRecord) => ({ id: t.id, name: t.name, volume_id: t.volume_id, links: links(req, t) });
  const detail = (req: VolumeRequest, t: TransferRecord) => ({
    id: t.id,
    created_at: t.created_at,
    name: t.name,
    volume_id: t.volume_id,
    links: links(req, t),
    ...extra(req, t),
  });
  /** cinder/api/views/transfers.py: `no_snapshots` at 3.55, the history at 3.57 (a transfer listed is never accepted yet). */
  const extra = (req: VolumeRequest, t: TransferRecord) => ({
    ...(atLeast(req.version, '3.55') ? { no_snapshots: t.no_snapshots } : {}),
    ...(atLeast(req.version, '3.57') ? { destination_project_id: null, source_project_id: t.project_id, accepted: false } : {}),
  });

  const create = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const body = bodyObject(req, 'transfer');
    const volumeId = optionalString(body, 'volume_id');
    if (!volumeId) throw new CinderError(400, "Invalid input for field/attribute transfer. Value: 'volume_id' is a required property");
    const noSnapshots = req.path.includes('/volume-transfers') && body['no_snapshots'] !== undefined ? parseBool(body['no_snapshots'], 'no_snapshots') : false;
    const volume = await findOwned<VolumeRecord>(records, VOLUMES, req, volumeId, 'Volume');
    if (volume.status !== 'available') throw new CinderError(400, 'Invalid volume: status must be available');
    const snapshots = (await records.list<SnapshotRecord>(SNAPSHOTS, volume.project_id)).filter((s) => s.volume_id === volume.id);
    // Cinder would move the volume and leave its snapshots with the donor, reading through a
    // volume in another project; here that is refused (docs/decisions.md).
    if (noSnapshots && snapshots.length > 0) throw new CinderError(400, `Invalid volume: Volume ${volume.id} has snapshots: a transfer without them (no_snapshots) would leave them in this project over a volume in another; transfer it with its snapshots, or delete them first.`);
    const busy = snapshots.find((s) => s.status !== 'available');
    if (busy) throw new CinderError(400, `Invalid snapshot: snapshot: ${busy.id} status must be available`);
    const salt = randomHex(8);
    const authKey = randomHex(16);
    const transfer: TransferRecord = { id: deps.newId(), project_id: volume.project_id, volume_id: volume.id, name: optionalString(body, 'name') ?? null, salt, crypt_hash: cryptHash(salt, authKey), no_snapshots: noSnapshots, created_at: now() };
    const claimed = await records.claim<VolumeRecord>(VOLUMES, volume, (cur) => (cur.status === 'available' ? { ...cur, status: 'awaiting-transfer', updated_at: now() } : undefined));
    if (!claimed) throw new CinderError(400, 'Invalid volume: status must be available');
    try {
      await records.create(TRANSFERS, transfer);
    } catch (err) {
      await records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({ ...cur, status: 'available', updated_at: now() }));
      throw err;
    }
    return { status: 202, body: { transfer: { id: transfer.id, created_at: transfer.created_at, name: transfer.name, volume_id: transfer.volume_id, auth_key: authKey, links: links(req, transfer), ...extra(req, transfer) } } };
  };

  const list = (detailed: boolean) => async (req: VolumeRequest): Promise<VolumeResponse> => {
    let rows = await records.list<TransferRecord>(TRANSFERS, listingProject(req));
    for (const key of ['name', 'volume_id'] as const) {
      const want = req.query.get(key);
      if (want !== null) rows = rows.filter((t) => t[key] === want);
    }
    const shown = page(req, rows, (m) => `Invalid input received: marker [${m}] not found`);
    return { status: 200, body: { transfers: shown.map((t) => (detailed ? detail(req, t) : summary(req, t))) } };
  };

  const find = async (req: VolumeRequest): Promise<TransferRecord> => {
    const id = req.params['transfer_id'] as string;
    const ctx = contextOf(req);
    const found = await records.find<TransferRecord>(TRANSFERS, id, ctx.projectId, ctx.isAdmin);
    if (!found) throw notFound(id);
    return found;
  };

  const show = async (req: VolumeRequest): Promise<VolumeResponse> => ({ status: 200, body: { transfer: detail(req, await find(req)) } });

  const remove = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const transfer = await find(req);
    // Not one being accepted (its volume may be half moved): as Cinder's, which has it gone.
    const stored = await records.store.get<TransferRecord>(TRANSFERS, `${transfer.project_id}/${transfer.id}`);
    if (!stored || stored.value.accepting) throw notFound(transfer.id);
    try {
      await records.store.delete(TRANSFERS, stored.key, { ifVersion: stored.version });
    } catch (err) {
      if (err instanceof RecordVersionError) throw notFound(transfer.id);
      throw err;
    }
    const volume = await records.find<VolumeRecord>(VOLUMES, transfer.volume_id, transfer.project_id, false);
    if (volume) await records.update<VolumeRecord>(VOLUMES, volume, (cur) => (cur.status === 'awaiting-transfer' ? { ...cur, status: 'available', updated_at: now() } : undefined));
    return { status: 202 };
  };

  const accept = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const ctx = contextOf(req);
    const authKey = optionalString(bodyObject(req, 'accept'), 'auth_key');
    if (!authKey) throw new CinderError(400, "Invalid input for field/attribute accept. Value: 'auth_key' is a required property");
    const id = req.params['transfer_id'] as string;
    // Whoever has the key may accept: the transfer is looked up in any project (Cinder's elevated get).
    const transfer = await records.find<TransferRecord>(TRANSFERS, id, ctx.projectId, true);
    if (!transfer) throw notFound(id);
    if (!sameHash(cryptHash(transfer.salt, authKey), transfer.crypt_hash)) throw new CinderError(400, `Invalid auth key: Attempt to transfer ${id} with invalid auth key.`);
    const volume = await records.find<VolumeRecord>(VOLUMES, transfer.volume_id, transfer.project_id, false);
    if (volume?.status !== 'awaiting-transfer') throw notFound(id);
    const snapshots = transfer.no_snapshots ? [] : (await records.list<SnapshotRecord>(SNAPSHOTS, volume.project_id)).filter((s) => s.volume_id === volume.id);
    // The intent first, on the transfer's record: what every step runs from, here and at a
    // start of this host if this process dies before the end (clean-up-at-start.ts). Writing it
    // is also what makes one accept win: a racing one finds it taken.
    const accepting: TransferAccept = {
      project_id: ctx.projectId,
      user_id: ctx.userId,
      host: deps.host,
      volume_size: volume.size,
      volume_type_name: typeNameOf(volume),
      snapshots: snapshots.map((s) => ({ id: s.id, user_id: s.user_id, size: s.size, ...(s.volume_type_name !== undefined ? { volume_type_name: s.volume_type_name } : {}) })),
    };
    const won = await records.claim<TransferRecord>(TRANSFERS, transfer, (cur) => (cur.accepting ? undefined : { ...cur, accepting }));
    if (!won) throw notFound(id);
    await finishAccept(deps, { ...won, accepting });
    return { status: 202, body: { transfer: { id: transfer.id, name: transfer.name, volume_id: volume.id, links: links(req, transfer) } } };
  };

  const routes = (base: string): Route[] => [
    { method: 'POST', path: base, auth: 'token', handler: create },
    { method: 'GET', path: base, auth: 'token', handler: list(false) },
    { method: 'GET', path: `${base}/detail`, auth: 'token', handler: list(true) },
    { method: 'GET', path: `${base}/{transfer_id}`, auth: 'token', handler: show },
    { method: 'DELETE', path: `${base}/{transfer_id}`, auth: 'token', handler: remove },
    { method: 'POST', path: `${base}/{transfer_id}/accept`, auth: 'token', handler: accept },
  ];
  // `/volume-transfers` is 3.55's name for the same resource (cinderclient uses it from 3.55 on).
  const since355 = routes('/volume-transfers').map((r) => ({
    ...r,
    handler: (req: VolumeRequest) => {
      if (!atLeast(req.version, '3.55')) throw new CinderError(404, 'The resource could not be found.');
      return r.handler(req);
    },
  }));
  return [...routes('/os-volume-transfer'), ...since355];
}

/** Cinder's _get_random_string: hex digits, which anyone can type. */
function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);
}

/** Cinder's _get_crypt_hash: HMAC-SHA1 of the key under the salt. */
function cryptHash(salt: string, authKey: string): string {
  return createHmac('sha1', salt).update(authKey).digest('hex');
}

function sameHash(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
