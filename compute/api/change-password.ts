import { NovaError } from '../errors.ts';
import type { ImageApi } from '../image-api.ts';
import { recordAction } from '../instance-actions.ts';
import { type ComputeRequest, type ComputeResponse, contextOf } from '../request.ts';
import type { ServerRecord } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { bodyMember, fieldError, pyRepr } from '../validation.ts';
import { checkInstanceState } from './instance-state.ts';
import { checkLock } from './servers.ts';

/**
 * `changePassword` (`openstack server set --root-password`), as Nova's API with the libvirt
 * driver: ACTIVE with no task, not locked; the driver sets a password only through the QEMU guest
 * agent, which the image must ask for (`hw_qemu_guest_agent=yes`), else Nova's 409 "QEMU guest
 * agent is not enabled". With it, this driver still cannot (the libvirt binding has no
 * `virDomainSetUserPassword`): Nova's 409 "Set admin password is not supported". The action is
 * recorded either way, as Nova records it before the host answers.
 */
export async function changePassword(d: { readonly store: ComputeStore; readonly images: ImageApi }, req: ComputeRequest, s: ServerRecord, arg: unknown): Promise<ComputeResponse> {
  const body = bodyMember({ changePassword: arg }, 'changePassword', ['adminPass'], ['adminPass']);
  if (typeof body['adminPass'] !== 'string') throw fieldError('adminPass', body['adminPass'], `${pyRepr(body['adminPass'])} is not of type 'string'`);
  const c = contextOf(req);
  checkLock(c, s);
  checkInstanceState(s, 'changePassword', ['active']);
  await recordAction(d.store, c, s.uuid, 'changePassword', req.requestId);
  const image = s.image_ref === '' ? undefined : await d.images.get(req.headers['x-auth-token'] ?? '', s.image_ref);
  const agent = String(image?.['hw_qemu_guest_agent'] ?? '').toLowerCase();
  if (!['yes', 'true', '1', 'on', 'y', 't'].includes(agent)) throw new NovaError(409, 'QEMU guest agent is not enabled');
  throw new NovaError(409, 'Set admin password is not supported');
}
