import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type SnapshotRecord, SNAPSHOTS, TRANSFERS, type TransferRecord, type VolumeRecord, VOLUMES } from '../records.ts';
import { CinderError } from './cinder-error.ts';
import { contextOf, listingProject } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { bodyObject, findOwned, optionalString, page, parseBool } from './input.ts';
import { atLeast } from './microversion.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';
import { cinderTime, typeNameOf } from './views.ts';
import { reserveVolume, volumeQuotaDeltas } from './volumes.ts';

/**
 * Cinder's volume transfers (cinder/api/contrib/volume_transfer.py, v3/volume_transfer.py at
 * 3.55, cinder/transfer/api.py; `openstack volume transfer request create/list/show/delete/
 * accept`): the owner offers an `available` volume (it is `awaiting-transfer`) and gets a
 * one-time auth key; whoever presents the transfer's id and key takes the volume into their
 * own project, within their quota, and the donor's quota is given back. Unlike Cinder, a volume
 * with snapshots is refused (its snapshots' layers in the cluster are kept per project: see
 * docs/decisions.md); backups stay with the donor, as in Cinder.
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
    ...(atLeast(req.version, '3.57') ? { source_project_id: t.project_id, destination_project_id: null, accepted: false } : {}),
  });

  const create = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const body = bodyObject(req, 'transfer');
    const volumeId = optionalString(body, 'volume_id');
    if (!volumeId) throw new CinderError(400, "Invalid input for field/attribute transfer. Value: 'volume_id' is a required property");
    const noSnapshots = req.path.includes('/volume-transfers') && body['no_snapshots'] !== undefined ? parseBool(body['no_snapshots'], 'no_snapshots') : false;
    const volume = await findOwned<VolumeRecord>(records, VOLUMES, req, volumeId, 'Volume');
    const snapshots = (await records.list<SnapshotRecord>(SNAPSHOTS, volume.project_id)).filter((s) => s.volume_id === volume.id);
    if (snapshots.length > 0) throw new CinderError(400, `Invalid volume: Volume ${volume.id} has snapshots: delete them before transferring it.`);
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
    return { status: 202, body: { transfer: { id: transfer.id, created_at: transfer.created_at, name: transfer.name, volume_id: transfer.volume_id, auth_key: authKey, links: links(req, transfer) } } };
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
    await records.remove(TRANSFERS, transfer);
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
    const typeName = typeNameOf(volume);
    await reserveVolume(deps, ctx.projectId, volume.size, typeName);
    // One accept wins: the transfer's record goes first; a racing one finds it gone.
    let won = false;
    await records.update<TransferRecord>(TRANSFERS, transfer, (cur) => {
      if (cur.accepted) return undefined;
      won = true;
      return { ...cur, accepted: true };
    });
    if (!won) {
      await deps.quotas.release(ctx.projectId, volumeQuotaDeltas(volume.size, typeName));
      throw notFound(id);
    }
    const moved: VolumeRecord = { ...volume, project_id: ctx.projectId, user_id: ctx.userId, status: 'available', updated_at: now() };
    await records.create(VOLUMES, moved);
    await records.remove(VOLUMES, volume);
    await deps.quotas.release(volume.project_id, volumeQuotaDeltas(volume.size, typeName));
    await records.remove(TRANSFERS, transfer);
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
