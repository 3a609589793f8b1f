import type { IdentityDeps } from './deps.ts';
import { KeystoneError } from './errors.ts';
import type { DomainRecord, LimitRecord, ProjectRecord, RegionRecord, RegisteredLimitRecord, ServiceRecord } from './records.ts';
import { type IdentityStore, T } from './store.ts';

/**
 * What registered limits and limits share (Keystone's keystone/limit/core.py and its SQL
 * driver): the checks that what they name exists, their uniqueness keys, and what goes with
 * a deleted project or domain.
 */

/** The one registered limit per service, region and resource (`registered-limit-keys/...`). */
export function registeredLimitKey(r: { readonly service_id: string; readonly region_id: string | null; readonly resource_name: string }): string {
  return [r.service_id, r.region_id ?? '', r.resource_name].map(encodeURIComponent).join('/');
}

/** The one limit per registered limit and project or domain (`limit-keys/...`). */
export function limitKey(l: Pick<LimitRecord, 'registered_limit_id' | 'project_id' | 'domain_id'>): string {
  return `${l.registered_limit_id}/${l.project_id !== null ? `project:${l.project_id}` : `domain:${l.domain_id}`}`;
}

/** Keystone's ValidationError: "Expecting to find service_id in limit. ..." */
export function expectingToFind(attribute: string, target: 'registered_limit' | 'limit'): KeystoneError {
  return new KeystoneError(400, 'Bad Request', `Expecting to find ${attribute} in ${target}. The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error.`);
}

export function registeredLimitNotFound(id: string): KeystoneError {
  return new KeystoneError(404, 'Not Found', `Could not find registered limit for ${id}.`);
}

export function limitNotFound(id: string): KeystoneError {
  return new KeystoneError(404, 'Not Found', `Could not find limit for ${id}.`);
}

/** 403 NoLimitReference. */
export function noLimitReference(): KeystoneError {
  return new KeystoneError(403, 'Forbidden', 'Unable to create a limit that has no corresponding registered limit.');
}

/** 403 RegisteredLimitError: a registered limit that limits use can be neither changed nor deleted. */
export function registeredLimitInUse(id: string): KeystoneError {
  return new KeystoneError(403, 'Forbidden', `Unable to update or delete registered limit ${id} because there are project limits associated with it.`);
}

/**
 * Keystone's `_assert_resource_exist`: the service, region, project and domain a limit names
 * exist (400 naming the field otherwise). A project id that is a domain's makes the limit the
 * domain's, as Keystone's domains-as-projects do.
 * @returns the project and domain ids the limit ends up with.
 */
export async function assertResourcesExist(
  store: IdentityStore,
  l: { readonly service_id?: string | undefined; readonly region_id?: string | null | undefined; readonly project_id?: string | null | undefined; readonly domain_id?: string | null | undefined },
  target: 'registered_limit' | 'limit',
): Promise<{ project_id: string | null; domain_id: string | null }> {
  if (l.service_id !== undefined && !(await store.get<ServiceRecord>(T.services, l.service_id))) throw expectingToFind('service_id', target);
  if (l.region_id !== undefined && l.region_id !== null && !(await store.get<RegionRecord>(T.regions, l.region_id))) throw expectingToFind('region_id', target);
  let projectId = l.project_id ?? null;
  let domainId = l.domain_id ?? null;
  if (projectId !== null && !(await store.get<ProjectRecord>(T.projects, projectId))) {
    if (!(await store.get<DomainRecord>(T.domains, projectId))) throw expectingToFind('project_id', target);
    domainId = projectId;
    projectId = null;
  }
  if (domainId !== null && !(await store.get<DomainRecord>(T.domains, domainId))) throw expectingToFind('domain_id', target);
  return { project_id: projectId, domain_id: domainId };
}

/** Whether any limit refers to this registered limit. */
export async function registeredLimitInUseBy(store: IdentityStore, registeredLimitId: string): Promise<boolean> {
  return (await store.keys(T.limitKeys, `${registeredLimitId}/`)).length > 0;
}

/** Keystone's `delete_limits_for_project` (and, for a domain, its own limits). */
export async function deleteLimitsFor(deps: IdentityDeps, owner: { project_id: string } | { domain_id: string }): Promise<void> {
  for (const limit of await deps.store.scan<LimitRecord>(T.limits)) {
    const mine = 'project_id' in owner ? limit.project_id === owner.project_id : limit.domain_id === owner.domain_id;
    if (mine) await deps.store.deleteNamed(T.limits, T.limitKeys, limitKey(limit), limit.id);
  }
}

/** Registered limits by id, to show limits with their service, region and resource. */
export async function registeredLimitsById(store: IdentityStore): Promise<Map<string, RegisteredLimitRecord>> {
  return new Map((await store.scan<RegisteredLimitRecord>(T.registeredLimits)).map((r) => [r.id, r]));
}
