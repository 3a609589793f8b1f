import { notFound } from './errors.ts';
import { caller } from './policy.ts';
import type { IdentityRequest } from './request.ts';
import type { IdentityStore } from './store.ts';

/** A record by id, or Keystone's 404 ("Could not find user: <id>."). */
export async function mustGet<R>(store: IdentityStore, type: string, id: string, kind: string): Promise<R> {
  const record = await store.get<R>(type, id);
  if (record === undefined) throw notFound(kind, id);
  return record;
}

/**
 * The domain a create without `domain_id` lands in (Keystone's `_normalize_domain_id`): the
 * token's domain (a project token's project domain), else `default`.
 */
export function callerDomain(req: IdentityRequest): string {
  const scope = caller(req).scope;
  if (scope.kind === 'domain' || scope.kind === 'project') return scope.domainId || 'default';
  return 'default';
}

/** A new id: a UUID in hex, as Keystone makes them. */
export function newId(): string {
  return crypto.randomUUID().replace(/-/g, '');
}
