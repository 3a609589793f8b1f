import { CinderError } from './cinder-error.ts';
import { contextOf } from './context.ts';
import { forbidden } from './forbidden.ts';
import type { VolumeApiDeps } from './deps.ts';
import { bodyObject, optionalString } from './input.ts';
import type { Route, VolumeRequest, VolumeResponse } from './request.ts';

/**
 * Cinder's volume type access (cinder/api/contrib/volume_type_access.py; `openstack volume
 * type set/unset --project`, `volume type show`'s access_project_ids), admins only: the
 * projects a private type is shared with, whose members then list it and make volumes of it.
 */
export function typeAccessRoutes(deps: VolumeApiDeps): Route[] {
  const { types } = deps;
  const adminOnly = (req: VolumeRequest, action: string): void => {
    if (!contextOf(req).isAdmin) throw forbidden(`volume_extension:volume_type_access${action}`);
  };
  const find = async (req: VolumeRequest) => {
    const id = req.params['type_id'] as string;
    const found = await types.get(id);
    if (!found) throw new CinderError(404, `Volume type ${id} could not be found.`);
    return found;
  };

  const index = async (req: VolumeRequest): Promise<VolumeResponse> => {
    adminOnly(req, '');
    const type = await find(req);
    if (type.is_public) throw new CinderError(404, 'Access list not available for public volume types.');
    return { status: 200, body: { volume_type_access: (type.projects ?? []).map((p) => ({ volume_type_id: type.id, project_id: p })) } };
  };

  const action = async (req: VolumeRequest): Promise<VolumeResponse> => {
    const body = req.body as Record<string, unknown> | undefined;
    const name = body && typeof body === 'object' ? Object.keys(body)[0] : undefined;
    if (name !== 'addProjectAccess' && name !== 'removeProjectAccess') throw new CinderError(400, `There is no such action: ${name ?? 'None'}`);
    adminOnly(req, `:${name}`);
    const project = optionalString(bodyObject(req, name), 'project');
    if (!project) throw new CinderError(400, `Invalid input for field/attribute ${name}. Value: 'project' is a required property`);
    const type = await find(req);
    if (type.is_public) throw new CinderError(400, 'Invalid volume type: Type access modification is not applicable to public volume type.');
    let refusal: CinderError | undefined;
    await types.update(type.id, (cur) => {
      // Called again on a compare-and-swap retry: only the last call's view counts.
      refusal = undefined;
      const projects = cur.projects ?? [];
      if (name === 'addProjectAccess' && projects.includes(project)) refusal = new CinderError(409, `Volume type access for ${type.id} / ${project} combination already exists.`);
      if (name === 'removeProjectAccess' && !projects.includes(project)) refusal = new CinderError(404, `Volume type access not found for ${type.id} / ${project} combination.`);
      if (refusal) return cur;
      return { ...cur, projects: name === 'addProjectAccess' ? [...projects, project] : projects.filter((p) => p !== project) };
    });
    if (refusal) throw refusal;
    return { status: 202 };
  };

  return [
    { method: 'GET', path: '/types/{type_id}/os-volume-type-access', auth: 'token', handler: index },
    { method: 'POST', path: '/types/{type_id}/action', auth: 'token', handler: action },
  ];
}
