import { CinderError } from './cinder-error.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';
import { DEFAULT_VOLUME_TYPE } from './views.ts';

function typeView(): Record<string, unknown> {
  return { id: DEFAULT_VOLUME_TYPE.id, name: DEFAULT_VOLUME_TYPE.name, description: DEFAULT_VOLUME_TYPE.description, is_public: true, extra_specs: {}, qos_specs_id: null, 'os-volume-type-access:is_public': true };
}

/** Volume types (cinder/api/v2/types.py): the one default type, `__DEFAULT__`, as `GET /types` and `/types/default` show it. */
export function typeRoutes(): Route[] {
  const show = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const id = req.params['type_id'];
    if (id !== DEFAULT_VOLUME_TYPE.id && id !== 'default') throw new CinderError(404, `Volume type ${id} could not be found.`);
    return { status: 200, body: { volume_type: typeView() } };
  };
  return [
    { method: 'GET', path: '/types', auth: 'token', handler: async () => ({ status: 200, body: { volume_types: [typeView()] } }) },
    { method: 'GET', path: '/types/{type_id}', auth: 'token', handler: show },
  ];
}
