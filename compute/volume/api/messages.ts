import { CinderError } from './cinder-error.ts';
import { atLeast } from './microversion.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';

/**
 * Cinder's user messages API (cinder/api/v3/messages.py, 3.3; `openstack volume message
 * list/show/delete`). This service records no messages (a failed operation's reason is in the
 * log and, for a backup, its `fail_reason`), so the list is empty and any one is not found,
 * as Cinder answers a project without messages. Before 3.3 the resource does not exist.
 */
export function messageRoutes(): Route[] {
  const since = (req: VolumeRequest): void => {
    if (!atLeast(req.version, '3.3')) throw new CinderError(404, 'The resource could not be found.');
  };
  const index = async (req: VolumeRequest): Promise<VolumeResponse> => {
    since(req);
    return { status: 200, body: { messages: [] } };
  };
  const one = async (req: VolumeRequest): Promise<VolumeResponse> => {
    since(req);
    throw new CinderError(404, `Message ${req.params['message_id']} could not be found.`);
  };
  return [
    { method: 'GET', path: '/messages', auth: 'token', handler: index },
    { method: 'GET', path: '/messages/{message_id}', auth: 'token', handler: one },
    { method: 'DELETE', path: '/messages/{message_id}', auth: 'token', handler: one },
  ];
}
