import { randomBytes } from 'node:crypto';
import { atLeast } from '../api-version.ts';
import { badRequest, invalidState } from '../errors.ts';
import type { ImageApi } from '../image-api.ts';
import { recordAction } from '../instance-actions.ts';
import { ACCEPTED, type ComputeRequest, type ComputeResponse, contextOf, ok } from '../request.ts';
import type { ServerRecord, VmState } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { checkMembers, fieldError, isObject, pyRepr, uuidParam } from '../validation.ts';
import { enqueue } from '../work-queue.ts';
import { checkLock } from './servers.ts';
import { checkInstanceState, takeTask } from './instance-state.ts';

/** Nova's `rescue` takes servers in these vm states with no task. */
const RESCUE_FROM: readonly VmState[] = ['active', 'stopped', 'error'];

export interface RescueDeps {
  readonly store: ComputeStore;
  readonly images: ImageApi;
}

/** Nova's rescue schema: `null`, or `adminPass` (any string) and `rescue_image_ref` (a UUID). */
function rescueArgs(arg: unknown): { password?: string; imageRef?: string } {
  if (arg === null) return {};
  if (!isObject(arg)) throw fieldError('rescue', arg, `${pyRepr(arg)} is not of type 'object', 'null'`);
  checkMembers('rescue', arg, ['adminPass', 'rescue_image_ref'], []);
  const password = arg['adminPass'];
  if (password !== undefined && typeof password !== 'string') throw fieldError('adminPass', password, `${pyRepr(password)} is not of type 'string'`);
  const imageRef = arg['rescue_image_ref'];
  return { ...(password !== undefined ? { password } : {}), ...(imageRef !== undefined ? { imageRef: uuidParam('rescue_image_ref', imageRef) } : {}) };
}

/**
 * `rescue` (`openstack server rescue [--image] [--password]`), as Nova's: from ACTIVE, SHUTOFF or
 * ERROR with no task, not locked; a rescue image that Glance does not show or that maps volumes
 * is Nova's 400 ("Requested rescue image ... is not supported"), as is a volume-backed server
 * (this cloud has no stable-device rescue, Nova's 2.87 with `COMPUTE_RESCUE_BFV`). The host
 * then boots the server from a copy of the rescue image (its own image by default) with its
 * own disk second (compute/agent/rescue-steps.ts). 200 with `adminPass` (Nova answers 200 here,
 * kept for compatibility): libvirt sets no password in the guest, so it is only returned.
 */
export async function rescue(d: RescueDeps, req: ComputeRequest, s: ServerRecord, arg: unknown): Promise<ComputeResponse> {
  const { password, imageRef } = rescueArgs(arg);
  const c = contextOf(req);
  checkLock(c, s);
  checkInstanceState(s, 'rescue', RESCUE_FROM);
  const token = req.headers['x-auth-token'] ?? '';
  let properties: Readonly<Record<string, unknown>> = {};
  if (imageRef !== undefined) {
    const image = await d.images.get(token, imageRef);
    // Nova cannot rescue from an image of volume snapshots either.
    if (!image || image['img_block_device_mapping'] !== undefined || image.status !== 'active') throw badRequest(`Requested rescue image '${imageRef}' is not supported`);
    properties = image;
  }
  if (s.volume_backed) {
    // From 2.87 Nova rescues a volume-backed server when the image asks for a rescue device and the host has the trait; no host here has it.
    const stable = atLeast(req.version, '2.87') && 'hw_rescue_bus' in properties && 'hw_rescue_device' in properties;
    throw badRequest(`Instance ${s.uuid} cannot be rescued: ${stable ? 'Host unable to rescue a volume-backed instance' : 'Cannot rescue a volume-backed instance'}`);
  }
  if (s.host === null) throw invalidState(s.uuid, 'rescue', 'vm_state', s.vm_state);
  await takeTask(d.store, s, 'rescue', RESCUE_FROM, 'rescuing');
  await recordAction(d.store, c, s.uuid, 'rescue', req.requestId);
  await enqueue(d.store, s.host, d.store.clock.now(), { server: s.uuid, task: 'rescue', token, requestId: req.requestId, ...(imageRef !== undefined ? { rescueImageRef: imageRef } : {}) });
  // `[api] enable_instance_password` (on by default).
  return ok({ adminPass: password ?? randomBytes(9).toString('base64url').slice(0, 12) });
}

/** `unrescue` (`openstack server unrescue`): a RESCUED server booted from its own disk again. 202. */
export async function unrescue(d: RescueDeps, req: ComputeRequest, s: ServerRecord): Promise<ComputeResponse> {
  const c = contextOf(req);
  checkLock(c, s);
  if (s.host === null) throw invalidState(s.uuid, 'unrescue', 'vm_state', s.vm_state);
  await takeTask(d.store, s, 'unrescue', ['rescued'], 'unrescuing');
  await recordAction(d.store, c, s.uuid, 'unrescue', req.requestId);
  await enqueue(d.store, s.host, d.store.clock.now(), { server: s.uuid, task: 'unrescue', token: req.headers['x-auth-token'] ?? '', requestId: req.requestId });
  return ACCEPTED;
}
