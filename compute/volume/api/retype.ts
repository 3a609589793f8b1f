import { pyRepr } from '../../validation.ts';
import { typeResource } from '../quota.ts';
import { type VolumeRecord, VOLUMES } from '../records.ts';
import { typeVisibleTo } from '../volume-types.ts';
import { CinderError } from './cinder-error.ts';
import { contextOf } from './context.ts';
import type { VolumeApiDeps } from './deps.ts';
import { bodyObject } from './input.ts';
import { reserveOrRefuse } from './over-quota.ts';
import type { VolumeRequest, VolumeResponse } from './request.ts';
import { typeNotFound } from './type-not-found.ts';
import { refuseEncryptedType } from './no-key-manager.ts';
import { cinderTime, typeNameOf } from './views.ts';

/** jsonschema's 400 for a field of `os-retype`, worded as Cinder's validator words it. */
function fieldError(field: string, value: unknown, message: string): CinderError {
  return new CinderError(400, `Invalid input for field/attribute ${field}. Value: ${typeof value === 'string' ? value : pyRepr(value)}. ${message}`);
}

/**
 * `os-retype` (`openstack volume set --type T [--retype-policy never|on-demand]`), as Cinder's
 * volume API and manager: the new type by name or id (404 as at create), the volume `available`
 * or `in-use`, not migrating and not already of that type (else Cinder's 400), the type's own
 * quotas moved (`volumes_<type>`, `gigabytes_<type>`: 413 when the new type's are full, the
 * volume left as it was). This service has one backend, whose file driver holds a volume of any
 * type as it is, so every retype is the driver's in-place one (Cinder's `driver.retype` answering
 * true): no migration, the policy never needed; the volume takes the type and goes back to its
 * status. An in-use volume whose front-end QoS would change is refused (Cinder's 400), as is an
 * encrypted type (no-key-manager.ts). Its snapshots stay counted in the old type's quotas, which their delete gives back
 * (Cinder moves their type too, and its delete then gives the new type back what it never took).
 * 202.
 */
export async function retypeVolume(deps: VolumeApiDeps, req: VolumeRequest, volume: VolumeRecord): Promise<VolumeResponse> {
  const args = bodyObject(req, 'os-retype');
  const extra = Object.keys(args).filter((k) => k !== 'new_type' && k !== 'migration_policy');
  if (extra.length > 0) throw fieldError('os-retype', args, `Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
  if (!('new_type' in args)) throw fieldError('os-retype', args, "'new_type' is a required property");
  const ref = args['new_type'];
  if (typeof ref !== 'string') throw fieldError('new_type', ref, `${pyRepr(ref)} is not of type 'string'`);
  const policy = args['migration_policy'];
  if (policy !== undefined && policy !== null && policy !== 'never' && policy !== 'on-demand') throw fieldError('migration_policy', policy, `${pyRepr(policy)} is not one of ['on-demand', 'never']`);
  const ctx = contextOf(req);
  const type = await deps.types.byNameOrId(ref);
  if (!type || !typeVisibleTo(type, ctx.projectId, ctx.isAdmin)) throw typeNotFound(ref);
  refuseEncryptedType(type);
  // db.volume_qos_allows_retype: an in-use volume keeps its front-end QoS (the guest's disk has it).
  const frontEndQos = async (qosId: string | null | undefined): Promise<boolean> => (qosId ? ((await deps.qosSpecs.get(qosId))?.consumer ?? 'back-end') !== 'back-end' : false);
  const oldQos = (await deps.types.get(volume.volume_type_id))?.qos_specs_id ?? null;
  const newQos = type.qos_specs_id ?? null;
  const qosChanges = oldQos !== newQos && ((await frontEndQos(oldQos)) || (await frontEndQos(newQos)));

  const now = (): string => cinderTime(deps.clock.now());
  const claimed = await deps.records.claim<VolumeRecord>(VOLUMES, volume, (cur) => {
    const movable = (cur.status === 'available' || (cur.status === 'in-use' && !qosChanges)) && (cur.migration_status ?? null) === null && cur.volume_type_id !== type.id;
    return movable ? { ...cur, status: 'retyping', previous_status: cur.status, updated_at: now() } : undefined;
  });
  if (!claimed) {
    throw new CinderError(400, 'Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.');
  }
  const previous = claimed.previous_status as string;
  const oldName = typeNameOf(claimed);
  const typeOnly = (name: string) => ({ [typeResource('volumes', name)]: 1, [typeResource('gigabytes', name)]: claimed.size });
  try {
    await reserveOrRefuse(() => deps.quotas.reserve(volume.project_id, typeOnly(type.name)), 'volumes', claimed.size);
  } catch (err) {
    await deps.records.update<VolumeRecord>(VOLUMES, volume, (cur) => (cur.status === 'retyping' ? { ...cur, status: previous, updated_at: now() } : undefined));
    throw err;
  }
  await deps.quotas.release(volume.project_id, typeOnly(oldName));
  await deps.records.update<VolumeRecord>(VOLUMES, volume, (cur) => ({ ...cur, volume_type_id: type.id, volume_type_name: type.name, status: previous, updated_at: now() }));
  deps.logger.info('volume retyped', { volume: volume.id, from: oldName, to: type.name });
  return { status: 202 };
}
