import type { IdentityDeps } from '../deps.ts';
import { conflict, notFoundMessage } from '../errors.ts';
import { deleteAssociation, endpointsForProject } from '../endpoint-filter.ts';
import { mustGet } from '../lookup.ts';
import { requireAdmin, requireAdminOrSystemReader } from '../policy.ts';
import { type EndpointRecord, type ProjectRecord, renderEndpoint, renderList, renderProject } from '../records.ts';
import { NO_CONTENT, ok, selfUrl } from '../request.ts';
import type { Route } from '../route.ts';
import { T } from '../store.ts';

/**
 * OS-EP-FILTER's project-endpoint associations (keystone/api/os_ep_filter.py): a project with
 * any sees only those endpoints in its tokens' catalog (identity/catalog.ts). One association
 * is two keys, `project-endpoints/<project>/<endpoint>` and `endpoint-projects/<endpoint>/<project>`,
 * so each side lists without reading records. Admins change them; admins and system readers
 * read them (Keystone's defaults).
 */
export function projectEndpointRoutes(deps: IdentityDeps): Route[] {
  const store = deps.store;
  const both = async (req: { params: Readonly<Record<string, string>> }): Promise<{ project: ProjectRecord; endpoint: EndpointRecord }> => {
    const endpoint = await mustGet<EndpointRecord>(store, T.endpoints, req.params['endpoint_id'] as string, 'endpoint');
    const project = await mustGet<ProjectRecord>(store, T.projects, req.params['project_id'] as string, 'project');
    return { project, endpoint };
  };
  const path = '/v3/OS-EP-FILTER/projects/{project_id}/endpoints/{endpoint_id}';
  const notAssociated = (endpointId: string, projectId: string) => notFoundMessage(`Endpoint ${endpointId} not found in project ${projectId}`);
  const associated = async (projectId: string, endpointId: string): Promise<boolean> => (await store.records.get(T.projectEndpoints, `${projectId}/${endpointId}`)) !== undefined;
  return [
    {
      method: 'PUT',
      path,
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:add_endpoint_to_project');
        const { project, endpoint } = await both(req);
        if (await associated(project.id, endpoint.id)) throw conflict('project_endpoint', 'Duplicate entry.');
        await store.mark(T.projectEndpoints, `${project.id}/${endpoint.id}`);
        await store.mark(T.endpointProjects, `${endpoint.id}/${project.id}`);
        return NO_CONTENT;
      },
    },
    {
      method: 'GET',
      path,
      auth: 'token',
      handler: async (req) => {
        requireAdminOrSystemReader(req, 'identity:check_endpoint_in_project');
        const { project, endpoint } = await both(req);
        if (!(await associated(project.id, endpoint.id))) throw notAssociated(endpoint.id, project.id);
        return NO_CONTENT;
      },
    },
    {
      method: 'DELETE',
      path,
      auth: 'token',
      handler: async (req) => {
        requireAdmin(req, 'identity:remove_endpoint_from_project');
        const projectId = req.params['project_id'] as string;
        const endpointId = req.params['endpoint_id'] as string;
        if (!(await associated(projectId, endpointId))) throw notAssociated(endpointId, projectId);
        await deleteAssociation(store, projectId, endpointId);
        return NO_CONTENT;
      },
    },
    {
      method: 'GET',
      path: '/v3/OS-EP-FILTER/projects/{project_id}/endpoints',
      auth: 'token',
      handler: async (req) => {
        requireAdminOrSystemReader(req, 'identity:list_endpoints_for_project');
        const project = await mustGet<ProjectRecord>(store, T.projects, req.params['project_id'] as string, 'project');
        const endpoints = await endpointsForProject(store, project.id);
        return ok(renderList('endpoints', endpoints.map((e) => renderEndpoint(e, req.base)), selfUrl(req)));
      },
    },
    {
      method: 'GET',
      path: '/v3/OS-EP-FILTER/endpoints/{endpoint_id}/projects',
      auth: 'token',
      handler: async (req) => {
        requireAdminOrSystemReader(req, 'identity:list_projects_for_endpoint');
        const endpoint = await mustGet<EndpointRecord>(store, T.endpoints, req.params['endpoint_id'] as string, 'endpoint');
        const projects: ProjectRecord[] = [];
        for (const key of await store.keys(T.endpointProjects, `${endpoint.id}/`)) {
          const project = await store.get<ProjectRecord>(T.projects, key.slice(endpoint.id.length + 1));
          if (project) projects.push(project);
        }
        return ok(renderList('projects', projects.map((p) => renderProject(p, req.base)), selfUrl(req)));
      },
    },
  ];
}
