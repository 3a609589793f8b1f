import { validationError } from './errors.ts';
import { isObject, type Json, pyRepr } from './validation.ts';

/**
 * Keystone's unified-limit request schemas (keystone/limit/schema.py) with jsonschema's first
 * message line, its path joined by `/` as Keystone prints it ("Invalid input for field
 * 'registered_limits/0/default_limit': -2 is less than the minimum of -1"). Properties are
 * checked before `required` and `additionalProperties`, in the schemas' own order.
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

type Check = (value: unknown, path: string) => void;

function fail(path: string, message: string): Error {
  return validationError(path ? `Invalid input for field '${path}': ${message}` : message);
}

const at = (path: string, key: string | number): string => (path ? `${path}/${key}` : String(key));

/** Keystone's `_limit_integer_type`: -1 (no limit) up to a signed 32-bit INT. */
const limitInteger: Check = (value, path) => {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw fail(path, `${pyRepr(value)} is not of type 'integer'`);
  if (value < -1) throw fail(path, `${value} is less than the minimum of -1`);
  if (value > 0x7fffffff) throw fail(path, `${value} is greater than the maximum of 2147483647`);
};

function stringCheck(rule: { nullable?: boolean; min?: number; max?: number; pattern?: RegExp; uuid?: boolean }): Check {
  return (value, path) => {
    if (value === null && rule.nullable) return;
    if (typeof value !== 'string') throw fail(path, `${pyRepr(value)} is not of type ${rule.nullable ? "'string', 'null'" : "'string'"}`);
    if (rule.min !== undefined && value.length < rule.min) throw fail(path, `${pyRepr(value)} should be non-empty`);
    if (rule.max !== undefined && value.length > rule.max) throw fail(path, `${pyRepr(value)} is too long`);
    if (rule.pattern && !rule.pattern.test(value)) throw fail(path, `${pyRepr(value)} does not match '${rule.pattern.source}'`);
    if (rule.uuid && !isUuidLike(value)) throw fail(path, `${pyRepr(value)} is not a 'uuid'`);
  };
}

/** oslo's `is_uuid_like`: 32 hex digits, dashes, braces and a `urn:uuid:` prefix aside. */
export function isUuidLike(value: string): boolean {
  return /^[0-9a-f]{32}$/i.test(value.replace(/^(urn:)?(uuid:)?/i, '').replace(/[{}-]/g, ''));
}

const serviceId = stringCheck({ uuid: true });
const regionId = stringCheck({ nullable: true, min: 1, max: 255 });
const name = stringCheck({ min: 1, max: 255, pattern: /[\S]+/ });
const description = stringCheck({ nullable: true, max: 255 });
const idString = stringCheck({ min: 1, max: 64, pattern: /^[a-zA-Z0-9-]+$/ });
const nullableIdString = stringCheck({ nullable: true, min: 1, max: 64, pattern: /^[a-zA-Z0-9-]+$/ });

const REGISTERED_LIMIT: Record<string, Check> = { service_id: serviceId, region_id: regionId, resource_name: name, default_limit: limitInteger, description };
const LIMIT: Record<string, Check> = { project_id: nullableIdString, domain_id: nullableIdString, resource_name: name, region_id: regionId, service_id: serviceId, resource_limit: limitInteger, description };
const LIMIT_UPDATE: Record<string, Check> = { resource_limit: limitInteger, description };

function object(value: unknown, path: string): Json {
  if (!isObject(value)) throw fail(path, `${pyRepr(value)} is not of type 'object'`);
  return value;
}

function properties(obj: Json, path: string, checks: Record<string, Check>): void {
  for (const [key, check] of Object.entries(checks)) if (obj[key] !== undefined) check(obj[key], at(path, key));
}

function noAdditional(obj: Json, path: string, known: readonly string[]): void {
  const extra = Object.keys(obj).filter((k) => !known.includes(k));
  if (extra.length > 0) throw fail(path, `Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
}

function requireKeys(obj: Json, path: string, keys: readonly string[]): void {
  for (const key of keys) if (obj[key] === undefined) throw fail(path, `'${key}' is a required property`);
}

/** `{"<key>": [item, ...]}` with at least one item, nothing else at the top. */
function list(body: unknown, key: string): unknown[] {
  const top = object(body, '');
  const items = top[key];
  if (items !== undefined) {
    if (!Array.isArray(items)) throw fail(key, `${pyRepr(items)} is not of type 'array'`);
    if (items.length === 0) throw fail(key, '[] should be non-empty');
  }
  noAdditional(top, '', [key]);
  requireKeys(top, '', [key]);
  return items as unknown[];
}

/** `{"<key>": {...}}` of a PATCH, nothing else at the top. */
function member(body: unknown, key: string, checks: Record<string, Check>): Json {
  const top = object(body, '');
  const inner = top[key] === undefined ? undefined : object(top[key], key);
  if (inner) {
    properties(inner, key, checks);
    noAdditional(inner, key, Object.keys(checks));
  }
  noAdditional(top, '', [key]);
  requireKeys(top, '', [key]);
  return inner as Json;
}

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
