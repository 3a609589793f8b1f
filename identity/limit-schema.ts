import { type Check, fail, list, member, noAdditional, object, properties, requireKeys, stringCheck } from './schema-checks.ts';
import { pyRepr } from './validation.ts';

/**
 * Keystone's unified-limit request schemas (keystone/limit/schema.py), checked as
 * identity/schema-checks.ts does.
 */

export interface RegisteredLimitInput {
  readonly service_id: string;
  readonly region_id: string | null;
  readonly resource_name: string;
  readonly default_limit: number;
  readonly description: string | null;
}

export interface LimitInput {
  readonly service_id: string;
  readonly region_id: string | null;
  readonly resource_name: string;
  readonly resource_limit: number;
  readonly description: string | null;
  readonly project_id: string | null;
  readonly domain_id: string | null;
}

/** A PATCH's fields, only those sent (`null` is sent). */
export type Patch<R> = { -readonly [K in keyof R]?: R[K] };

/** Keystone's `_limit_integer_type`: -1 (no limit) up to a signed 32-bit INT. */
const limitInteger: Check = (value, path) => {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw fail(path, `${pyRepr(value)} is not of type 'integer'`);
  if (value < -1) throw fail(path, `${value} is less than the minimum of -1`);
  if (value > 0x7fffffff) throw fail(path, `${value} is greater than the maximum of 2147483647`);
};

const serviceId = stringCheck({ uuid: true });
const regionId = stringCheck({ nullable: true, min: 1, max: 255 });
const name = stringCheck({ min: 1, max: 255, pattern: /[\S]+/ });
const description = stringCheck({ nullable: true, max: 255 });
const idString = stringCheck({ min: 1, max: 64, pattern: /^[a-zA-Z0-9-]+$/ });
const nullableIdString = stringCheck({ nullable: true, min: 1, max: 64, pattern: /^[a-zA-Z0-9-]+$/ });

const REGISTERED_LIMIT: Record<string, Check> = { service_id: serviceId, region_id: regionId, resource_name: name, default_limit: limitInteger, description };
const LIMIT: Record<string, Check> = { project_id: nullableIdString, domain_id: nullableIdString, resource_name: name, region_id: regionId, service_id: serviceId, resource_limit: limitInteger, description };
const LIMIT_UPDATE: Record<string, Check> = { resource_limit: limitInteger, description };

const nullable = <T>(value: unknown): T | null => (value === undefined ? null : (value as T | null));

/** POST /v3/registered_limits. @throws 400 */
export function registeredLimitsCreate(body: unknown): RegisteredLimitInput[] {
  return list(body, 'registered_limits').map((raw, i) => {
    const path = `registered_limits/${i}`;
    const item = object(raw, path);
    properties(item, path, REGISTERED_LIMIT);
    noAdditional(item, path, Object.keys(REGISTERED_LIMIT));
    requireKeys(item, path, ['service_id', 'resource_name', 'default_limit']);
    return {
      service_id: item['service_id'] as string,
      region_id: nullable<string>(item['region_id']),
      resource_name: item['resource_name'] as string,
      default_limit: item['default_limit'] as number,
      description: nullable<string>(item['description']),
    };
  });
}

/** PATCH /v3/registered_limits/{id}. @throws 400 */
export function registeredLimitUpdate(body: unknown): Patch<RegisteredLimitInput> {
  return member(body, 'registered_limit', REGISTERED_LIMIT) as Patch<RegisteredLimitInput>;
}

const LIMIT_REQUIRED = ['service_id', 'resource_name', 'resource_limit'];

/** POST /v3/limits: each limit names exactly one of a project and a domain. @throws 400 */
export function limitsCreate(body: unknown): LimitInput[] {
  return list(body, 'limits').map((raw, i) => {
    const path = `limits/${i}`;
    const item = object(raw, path);
    properties(item, path, LIMIT);
    requireKeys(item, path, LIMIT_REQUIRED);
    const owners = ['domain_id', 'project_id'].filter((k) => item[k] !== undefined);
    if (owners.length === 0) throw fail(path, `${pyRepr(item)} is not valid under any of the given schemas`);
    if (owners.length === 2) throw fail(path, `${pyRepr(item)} is valid under each of ${['domain_id', 'project_id'].map((k) => pyRepr({ required: [...LIMIT_REQUIRED, k] })).join(', ')}`);
    noAdditional(item, path, Object.keys(LIMIT));
    return {
      service_id: item['service_id'] as string,
      region_id: nullable<string>(item['region_id']),
      resource_name: item['resource_name'] as string,
      resource_limit: item['resource_limit'] as number,
      description: nullable<string>(item['description']),
      project_id: nullable<string>(item['project_id']),
      domain_id: nullable<string>(item['domain_id']),
    };
  });
}

/** PATCH /v3/limits/{id}: only the limit's value and description change. @throws 400 */
export function limitUpdate(body: unknown): Patch<Pick<LimitInput, 'resource_limit' | 'description'>> {
  return member(body, 'limit', LIMIT_UPDATE) as Patch<Pick<LimitInput, 'resource_limit' | 'description'>>;
}

const QUERY: Record<string, Check> = { service_id: serviceId, region_id: regionId, resource_name: name, project_id: idString, domain_id: idString };

/**
 * The list filters among `keys` that the query has, checked as Keystone's query schemas do
 * (other parameters are let through, as its `additionalProperties: True` does). @throws 400
 */
export function limitFilters(query: URLSearchParams, keys: readonly string[]): Record<string, string> {
  const filters: Record<string, string> = {};
  for (const key of keys) {
    const value = query.get(key);
    if (value === null) continue;
    (QUERY[key] as Check)(value, key);
    filters[key] = value;
  }
  return filters;
}
