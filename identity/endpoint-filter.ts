import type { EndpointRecord } from './records.ts';
import { type IdentityStore, T } from './store.ts';

/**
 * OS-EP-FILTER's project-endpoint associations as stored: one association is two keys,
 * `project-endpoints/<project>/<endpoint>` and `endpoint-projects/<endpoint>/<project>`.
 */

/**
 * The endpoints associated with a project (Keystone's `list_endpoints_for_project`); an
 * association whose endpoint is gone is dropped, as Keystone drops it.
 */
export async function endpointsForProject(store: IdentityStore, projectId: string): Promise<EndpointRecord[]> {
  const endpoints: EndpointRecord[] = [];
  for (const key of await store.keys(T.projectEndpoints, `${projectId}/`)) {
    const endpointId = key.slice(projectId.length + 1);
    const endpoint = await store.get<EndpointRecord>(T.endpoints, endpointId);
    if (endpoint) endpoints.push(endpoint);
    else await deleteAssociation(store, projectId, endpointId);
  }
  return endpoints;
}

export async function deleteAssociation(store: IdentityStore, projectId: string, endpointId: string): Promise<void> {
  await store.records.delete(T.endpointProjects, `${endpointId}/${projectId}`);
  await store.records.delete(T.projectEndpoints, `${projectId}/${endpointId}`);
}

/** Every association of a project or an endpoint that is being deleted. */
export async function deleteAssociationsOf(store: IdentityStore, of: { project: string } | { endpoint: string }): Promise<void> {
  if ('project' in of) {
    for (const key of await store.keys(T.projectEndpoints, `${of.project}/`)) await deleteAssociation(store, of.project, key.slice(of.project.length + 1));
  } else {
    for (const key of await store.keys(T.endpointProjects, `${of.endpoint}/`)) await deleteAssociation(store, key.slice(of.endpoint.length + 1), of.endpoint);
  }
}
