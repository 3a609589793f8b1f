import { type RecordKind, SNAPSHOTS, type SnapshotRecord, VOLUMES, type VolumeRecord } from '../records.ts';
import { changeMetadata } from './change-metadata.ts';
import { CinderError } from './cinder-error.ts';
import type { VolumeApiDeps } from './deps.ts';
import { bodyObject, findOwned, metadataOf } from './input.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';

type WithMetadata = (VolumeRecord | SnapshotRecord) & { metadata: Record<string, string> };

/**
 * Cinder's metadata resources of volumes and snapshots (cinder/api/v3/volume_metadata.py,
 * v2/snapshot_metadata.py): GET the whole set, POST merges keys in, PUT replaces it, and one
 * key at a time under `/metadata/{key}` (`{"meta": {key: value}}`). What `openstack volume
 * set --property` and `volume unset --property` (and their snapshot twins) call.
 */
export function metadataRoutes(deps: VolumeApiDeps): Route[] {
  return [...routesOf(deps, VOLUMES, 'volumes', 'volume_id', 'Volume'), ...routesOf(deps, SNAPSHOTS, 'snapshots', 'snapshot_id', 'Snapshot')];
}

function routesOf(deps: VolumeApiDeps, kind: RecordKind, collection: string, param: string, what: 'Volume' | 'Snapshot'): Route[] {
  const { records } = deps;
  const find = (req: VolumeRequest) => findOwned<WithMetadata>(records, kind, req, req.params[param] as string, what);

  /** Writes `change(current metadata)`, refused as Cinder does for a volume that is busy. */
  const write = async (req: VolumeRequest, verb: 'Updating' | 'Deleting', change: (cur: Record<string, string>) => Record<string, string>): Promise<Record<string, string>> =>
    (await changeMetadata<WithMetadata>(deps, kind, await find(req), verb, (cur) => ({ ...cur, metadata: change(cur.metadata) }))).metadata;

  const showAll = async (req: VolumeRequest): Promise<VolumeResponse> => ({ status: 200, body: { metadata: (await find(req)).metadata } });
  const merge = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const add = metadataOf(bodyObject(req, 'metadata'));
    return { status: 200, body: { metadata: await write(req, 'Updating', (cur) => ({ ...cur, ...add })) } };
  };
  const replace = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const all = metadataOf(bodyObject(req, 'metadata'));
    return { status: 200, body: { metadata: await write(req, 'Updating', () => all) } };
  };
  const showOne = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const key = req.params['key'] as string;
    const metadata = (await find(req)).metadata;
    if (!Object.hasOwn(metadata, key)) throw new CinderError(404, 'Metadata item was not found');
    return { status: 200, body: { meta: { [key]: metadata[key] } } };
  };
  const putOne = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const key = req.params['key'] as string;
    const meta = metadataOf(bodyObject(req, 'meta'));
    if (!Object.hasOwn(meta, key)) throw new CinderError(400, 'Request body and URI mismatch');
    if (Object.keys(meta).length > 1) throw new CinderError(400, 'Request body contains too many items');
    await write(req, 'Updating', (cur) => ({ ...cur, ...meta }));
    return { status: 200, body: { meta } };
  };
  const removeOne = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const key = req.params['key'] as string;
    if (!Object.hasOwn((await find(req)).metadata, key)) throw new CinderError(404, 'Metadata item was not found');
    await write(req, 'Deleting', (cur) => Object.fromEntries(Object.entries(cur).filter(([k]) => k !== key)));
    return { status: 200 };
  };

  const base = `/${collection}/{${param}}/metadata`;
  return [
    { method: 'GET', path: base, auth: 'token', handler: showAll },
    { method: 'POST', path: base, auth: 'token', handler: merge },
    { method: 'PUT', path: base, auth: 'token', handler: replace },
    { method: 'GET', path: `${base}/{key}`, auth: 'token', handler: showOne },
    { method: 'PUT', path: `${base}/{key}`, auth: 'token', handler: putOne },
    { method: 'DELETE', path: `${base}/{key}`, auth: 'token', handler: removeOne },
  ];
}
