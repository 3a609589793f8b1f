import { randomBytes } from 'node:crypto';
import { updateRecord } from '../../client/record-update.ts';
import { atLeast } from '../api-version.ts';
import { badRequest, invalidState, type NovaError, notFound } from '../errors.ts';
import type { ImageApi } from '../image-api.ts';
import { recordAction } from '../instance-actions.ts';
import { type KeypairRecord, T } from '../records.ts';
import { type ComputeRequest, type ComputeResponse, contextOf, ok } from '../request.ts';
import type { ServerRecord, VmState } from '../server-record.ts';
import { hostStatusShown } from '../host-status.ts';
import { serverDetail } from '../server-view.ts';
import { rootVolume, volumesOf } from '../block-device-record.ts';
import type { ComputeStore } from '../store.ts';
import { bodyMember, booleanParam, fieldError, isObject, nameParam, pyRepr } from '../validation.ts';
import { enqueue } from '../work-queue.ts';
import { checkLock } from './servers.ts';
import { checkInstanceState } from './instance-state.ts';

/** Nova's `rebuild`: allowed from these vm states, with no task running. */
const REBUILD_FROM: readonly VmState[] = ['active', 'stopped', 'error'];

// Before 2.75 Nova's rebuild answer leaves out what `show` adds through extensions.
const EXTENDED = /^(OS-EXT-|OS-SRV-USG:|os-extended-volumes:|OS-EXT-AZ:)|^(config_drive|security_groups)$/;

/**
 * `rebuild`: the server's disk made again from `imageRef` on the same host, keeping its ports
 * and addresses; name, metadata, access IPs, description (2.19), key (2.54) and user data
 * (2.57) replaced when given. The server is REBUILD (task `rebuilding`) until its host's agent
 * has written the new disk and started the guest again (stopped ones stay stopped, as in Nova).
 * 202 with the server and `adminPass`.
 */
export async function rebuild(store: ComputeStore, images: ImageApi, req: ComputeRequest, s: ServerRecord, arg: unknown): Promise<ComputeResponse> {
  const c = contextOf(req);
  const allowed = ['imageRef', 'name', 'adminPass', 'metadata', 'accessIPv4', 'accessIPv6', 'OS-DCF:diskConfig', 'preserve_ephemeral', ...(atLeast(req.version, '2.57') ? ['user_data'] : ['personality']), ...(atLeast(req.version, '2.19') ? ['description'] : []), ...(atLeast(req.version, '2.54') ? ['key_name'] : []), ...(atLeast(req.version, '2.63') ? ['trusted_image_certificates'] : []), ...(atLeast(req.version, '2.90') ? ['hostname'] : [])];
  const r = bodyMember({ rebuild: arg }, 'rebuild', allowed, ['imageRef']);
  if (typeof r['imageRef'] !== 'string') throw fieldError('imageRef', r['imageRef'], `${pyRepr(r['imageRef'])} is not of type 'string'`);
  const imageRef = r['imageRef'].split('/').at(-1) as string;
  const name = r['name'] === undefined ? undefined : nameParam('name', r['name']);
  if (r['metadata'] !== undefined && !isObject(r['metadata'])) throw fieldError('metadata', r['metadata'], `${pyRepr(r['metadata'])} is not of type 'object'`);
  const metadata = r['metadata'] as Record<string, string> | undefined;
  const preserveEphemeral = r['preserve_ephemeral'] === undefined ? false : booleanParam('preserve_ephemeral', r['preserve_ephemeral']);
  const password = typeof r['adminPass'] === 'string' ? r['adminPass'] : randomBytes(9).toString('base64url').slice(0, 12);
  checkLock(c, s);
  checkInstanceState(s, 'rebuild', REBUILD_FROM);
  const token = req.headers['x-auth-token'] ?? '';
  const image = await images.get(token, imageRef);
  if (!image) throw badRequest('Cannot find image for rebuild');
  if (image.status !== 'active') throw badRequest(`Image ${imageRef} is not active.`);
  const root = rootVolume(await volumesOf(store, s));
  // Nova before 2.93 (no reimage of the boot volume): a volume-backed server is rebuilt only with the image in its root volume.
  if (root !== undefined && root.image_id !== imageRef) throw badRequest(`Image ${imageRef} is unacceptable: Unable to rebuild with a different image for a volume-backed server.`);
  if (s.flavor.ram < (image.min_ram ?? 0)) throw badRequest("Flavor's memory is too small for requested image.");
  if (root === undefined && s.flavor.disk > 0 && s.flavor.disk < (image.min_disk ?? 0)) throw badRequest(`Flavor's disk is too small for requested image. Flavor disk is ${s.flavor.disk * 1024 ** 3} bytes, minimum disk is ${image.min_disk * 1024 ** 3} bytes.`);
  let key: KeypairRecord | null | undefined;
  if (r['key_name'] !== undefined) {
    // 2.54: null removes the key; a name is the caller's key (users own keys, projects own servers).
    key = r['key_name'] === null ? null : await store.get<KeypairRecord>(T.keypairs, `${c.userId}/${String(r['key_name'])}`);
    if (key === undefined) throw badRequest('Invalid key_name provided.');
  }
  let refusal: NovaError | undefined;
  const updated = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => {
    const v = cur.value;
    refusal = undefined;
    if (!REBUILD_FROM.includes(v.vm_state)) refusal = invalidState(v.uuid, 'rebuild', 'vm_state', v.vm_state);
    else if (v.task_state !== null) refusal = invalidState(v.uuid, 'rebuild', 'task_state', v.task_state);
    if (refusal || v.host === null) return undefined;
    return {
      ...v,
      task_state: 'rebuilding',
      // A volume-backed server keeps no image of its own (Nova's `image: ""`).
      image_ref: root === undefined ? imageRef : v.image_ref,
      ...(name !== undefined ? { name } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
      ...(typeof r['accessIPv4'] === 'string' ? { access_ip_v4: r['accessIPv4'] } : {}),
      ...(typeof r['accessIPv6'] === 'string' ? { access_ip_v6: r['accessIPv6'] } : {}),
      ...(r['description'] !== undefined ? { description: r['description'] === null ? null : String(r['description']) } : {}),
      ...(key !== undefined ? { key_name: key?.name ?? null, key_data: key?.public_key ?? null } : {}),
      ...(r['user_data'] !== undefined ? { user_data: r['user_data'] === null ? null : String(r['user_data']) } : {}),
      ...(typeof r['hostname'] === 'string' ? { hostname: r['hostname'] } : {}),
      fault: null,
      updated_at: store.isoSeconds(),
    };
  });
  if (refusal) throw refusal;
  if (!updated) throw notFound(`Instance ${s.uuid} could not be found.`);
  if (updated.value.host === null) throw invalidState(s.uuid, 'rebuild', 'vm_state', s.vm_state);
  await recordAction(store, c, s.uuid, 'rebuild', req.requestId);
  await enqueue(store, updated.value.host, store.clock.now(), { server: s.uuid, task: 'rebuild', token, requestId: req.requestId, ...(preserveEphemeral ? { preserveEphemeral } : {}) });
  const view = serverDetail(req, updated.value, c.isAdmin, { groups: true, hostStatus: atLeast(req.version, '2.75') ? await hostStatusShown(store, req, updated.value) : undefined, volumes: await volumesOf(store, updated.value) });
  const shown = atLeast(req.version, '2.75') ? view : Object.fromEntries(Object.entries(view).filter(([k]) => !EXTENDED.test(k) && (k !== 'key_name' || atLeast(req.version, '2.54'))));
  if (atLeast(req.version, '2.57')) shown['user_data'] = updated.value.user_data;
  return ok({ server: { ...shown, adminPass: password } }, 202);
}
