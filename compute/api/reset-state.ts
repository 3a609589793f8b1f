import { updateRecord } from '../../client/record-update.ts';
import { notFound, policyForbidden } from '../errors.ts';
import { recordAction } from '../instance-actions.ts';
import { T } from '../records.ts';
import { ACCEPTED, type ComputeRequest, type ComputeResponse, contextOf } from '../request.ts';
import type { ServerRecord } from '../server-record.ts';
import type { ComputeStore } from '../store.ts';
import { fieldError, isObject, pyRepr } from '../validation.ts';

/**
 * `os-resetState` (`openstack server set --state active|error`, admins): the server's vm state
 * set and its task state cleared, whatever they were, as Nova's `admin_actions.py` does to free a
 * server stuck in a task; recorded as the `resetState` action. The guest is not touched.
 */
export async function resetState(store: ComputeStore, req: ComputeRequest, s: ServerRecord, arg: unknown): Promise<ComputeResponse> {
  const c = contextOf(req);
  if (!isObject(arg)) throw fieldError('os-resetState', arg, `${pyRepr(arg)} is not of type 'object'`);
  const extra = Object.keys(arg).filter((k) => k !== 'state');
  if (extra.length > 0) throw fieldError('os-resetState', arg, `Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
  if (!('state' in arg)) throw fieldError('os-resetState', arg, "'state' is a required property");
  const state = arg['state'];
  if (state !== 'active' && state !== 'error') throw fieldError('state', state, `${pyRepr(state)} is not one of ['active', 'error']`);
  if (!c.isAdmin) throw policyForbidden('os_compute_api:os-admin-actions:reset_state');
  await recordAction(store, c, s.uuid, 'resetState', req.requestId);
  const done = await updateRecord<ServerRecord>(store.records, T.servers, s.uuid, (cur) => ({ ...cur.value, vm_state: state, task_state: null, updated_at: store.isoSeconds() }));
  if (!done) throw notFound(`Instance ${s.uuid} could not be found.`);
  return ACCEPTED;
}
