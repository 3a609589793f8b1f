import { deleteProject } from '../cascade.ts';
import type { IdentityDeps } from '../deps.ts';
import { conflict, forbidden, validationError, notFound } from '../errors.ts';
import { callerDomain, mustGet, newId } from '../lookup.ts';
import { requireAdmin, requireAdminOrProject } from '../policy.ts';
import { type DomainRecord, type ProjectRecord, renderDomainAsProject, renderList, renderProject } from '../records.ts';
import { NO_CONTENT, ok, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';
import { extraFields, ID_STRING, type Json, NAME, optionalBoolean, optionalObject, optionalString, optionalTags, queryBoolean, requiredString, section } from '../validation.ts';

const PROJECT_NAME = { ...NAME, max: 64 };
const KNOWN = ['id', 'name', 'domain_id', 'parent_id', 'description', 'enabled', 'is_domain', 'tags', 'options', 'links'];

/**
 * Projects (`/v3/projects`): names unique within a domain; a project under another (`parent_id`)
 * stays in its parent's domain; only leaves may be deleted, and a project with enabled
 * projects under it stays enabled (Keystone's hierarchy rules).
 */
export function projectRoutes(deps: IdentityDeps): Route[] {
  const store = deps.store;
  const taken = (name: string, id: string) => (): Error =>
    conflict('project', `it is not permitted to have two projects with either the same name or same id in the same domain: name is ${name}, project id ${id}.`);
  const children = async (id: string): Promise<ProjectRecord[]> => (await store.scan<ProjectRecord>(T.projects)).filter((p) => p.parent_id === id);

  return [
    {
      method: 'POST',
      path: '/v3/projects',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:create_project');
        const body = section(req.body, 'project');
        const name = requiredString(body, 'name', PROJECT_NAME);
        const domainId = optionalString(body, 'domain_id', { ...ID_STRING, nullable: true }) ?? callerDomain(req);
        const parentId = optionalString(body, 'parent_id', { ...ID_STRING, nullable: true });
        if (body['is_domain'] === true) throw validationError('Creating projects that act as domains is done with /v3/domains here.');
        const domain = await store.get<DomainRecord>(T.domains, domainId);
        if (!domain) throw validationError(`Could not find domain: ${domainId}.`);
        if (parentId !== undefined && parentId !== domainId) {
          const parent = await store.get<ProjectRecord>(T.projects, parentId);
          if (!parent) throw validationError(`Could not find project: ${parentId}.`);
          if (parent.domain_id !== domainId) throw validationError(`Cannot create project, since it specifies its domain_id ${domainId}, but specifies a parent in a different domain (${parent.domain_id}).`);
        }
        const project: ProjectRecord = {
          id: newId(),
          name,
          domain_id: domainId,
          parent_id: parentId ?? domainId,
          description: optionalString(body, 'description', { nullable: true }) ?? '',
          enabled: optionalBoolean(body, 'enabled') ?? true,
          tags: optionalTags(body) ?? [],
          options: optionalObject(body, 'options') ?? {},
          extra: extraFields(body, KNOWN),
        };
        await store.createNamed(T.projects, T.projectNames, `${domainId}/${name}`, project, taken(name, project.id));
        return ok({ project: renderProject(project, req.base) }, 201);
      },
    },
    {
      method: 'GET',
      path: '/v3/projects',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:list_projects');
        const q = req.query;
        const name = q.get('name');
        const domainId = q.get('domain_id');
        let projects: ProjectRecord[];
        if (name !== null && domainId !== null) projects = [await store.byName<ProjectRecord>(T.projects, T.projectNames, `${domainId}/${name}`)].filter((p): p is ProjectRecord => p !== undefined);
        else projects = await store.scan<ProjectRecord>(T.projects);
        if (q.get('is_domain') !== null && queryBoolean(q.get('is_domain') as string)) projects = [];
        projects = projects.filter(
          (p) =>
            (name === null || p.name === name) &&
            (domainId === null || p.domain_id === domainId) &&
            (q.get('parent_id') === null || p.parent_id === q.get('parent_id')) &&
            (q.get('enabled') === null || p.enabled === queryBoolean(q.get('enabled') as string)),
        );
        return ok(renderList('projects', projects.map((p) => renderProject(p, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/projects/{project_id}',
      auth: 'token',
      handler: async (req) => {
        const id = req.params['project_id'] as string;
        requireAdminOrProject(req, 'identity:get_project', id);
        const project = await store.get<ProjectRecord>(T.projects, id);
        if (project === undefined) {
          // Keystone keeps each domain as a project with is_domain (its SQL backend hides only
          // the root), so a domain's id reads as one: openstackclient's `quota show --class
          // default` looks up `default` this way first.
          const domain = await store.get<DomainRecord>(T.domains, id);
          if (domain === undefined) throw notFound('project', id);
          return ok({ project: renderDomainAsProject(domain, req.base) });
        }
        const body: Json = renderProject(project, req.base);
        if (req.query.has('parents_as_ids')) body['parents'] = await parents(project);
        if (req.query.has('subtree_as_ids')) body['subtree'] = await subtree(project.id);
        return ok({ project: body });
      },
    },
    {
      method: 'PATCH',
      path: '/v3/projects/{project_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:update_project');
        const id = req.params['project_id'] as string;
        const body = section(req.body, 'project');
        const name = optionalString(body, 'name', PROJECT_NAME);
        const description = optionalString(body, 'description', { nullable: true });
        const enabled = optionalBoolean(body, 'enabled');
        const tags = optionalTags(body);
        const options = optionalObject(body, 'options');
        const before = await mustGet<ProjectRecord>(store, T.projects, id, 'project');
        if (body['domain_id'] !== undefined && body['domain_id'] !== before.domain_id) throw validationError('Cannot change Domain ID');
        if (body['parent_id'] !== undefined && body['parent_id'] !== before.parent_id) throw forbidden('Update of `parent_id` is not allowed.');
        if (enabled === false && before.enabled) {
          if ((await children(id)).some((c) => c.enabled)) throw forbidden(`Cannot disable project ${id} since its subtree contains enabled projects.`);
          await deps.revocations.revoke({ project_id: id });
        }
        const updated = await store.update<ProjectRecord>(
          T.projects,
          id,
          (p) => ({
            ...p,
            ...(name !== undefined ? { name } : {}),
            ...(description !== undefined ? { description } : {}),
            ...(enabled !== undefined ? { enabled } : {}),
            ...(tags !== undefined ? { tags } : {}),
            ...(options !== undefined ? { options: { ...p.options, ...options } } : {}),
            extra: { ...p.extra, ...extraFields(body, KNOWN) },
          }),
          { nameType: T.projectNames, keyOf: (p) => `${p.domain_id}/${p.name}`, conflict: taken(name ?? '', id) },
        );
        return ok({ project: renderProject(updated ?? before, req.base) });
      },
    },
    {
      method: 'DELETE',
      path: '/v3/projects/{project_id}',
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:delete_project');
        const project = await mustGet<ProjectRecord>(store, T.projects, req.params['project_id'] as string, 'project');
        if ((await children(project.id)).length > 0) throw forbidden(`Cannot delete the project ${project.id} since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.`);
        await deleteProject(deps, project);
        return NO_CONTENT;
      },
    },
  ];

  /** `{parent_id: {grandparent_id: ... {domain_id: null}}}` as Keystone's `parents_as_ids` nests them. */
  async function parents(project: ProjectRecord): Promise<Json> {
    let tree: Json = { [project.domain_id]: null };
    const chain: string[] = [];
    for (let id = project.parent_id; id !== project.domain_id && chain.length < 100; ) {
      const p = await store.get<ProjectRecord>(T.projects, id);
      if (!p) throw notFound('project', id);
      chain.push(p.id);
      id = p.parent_id;
    }
    for (const id of chain.reverse()) tree = { [id]: tree };
    return chain.length === 0 ? { [project.domain_id]: null } : tree;
  }

  async function subtree(id: string, depth = 0): Promise<Json | null> {
    const kids = await children(id);
    if (kids.length === 0 || depth > 100) return depth === 0 ? {} : null;
    const out: Json = {};
    for (const k of kids) out[k.id] = await subtree(k.id, depth + 1);
    return out;
  }
}
