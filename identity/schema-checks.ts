import { validationError } from './errors.ts';
import { isObject, type Json, pyRepr } from './validation.ts';

/**
 * Checks of a request body against one of Keystone's JSON schemas, with jsonschema's first
 * message line and its path joined by `/` as Keystone prints it ("Invalid input for field
 * 'registered_limits/0/default_limit': -2 is less than the minimum of -1"). Callers check
 * `properties` before `additionalProperties` and `required`, in their schema's own order.
 */

export type Check = (value: unknown, path: string) => void;

export function fail(path: string, message: string): Error {
  return validationError(path ? `Invalid input for field '${path}': ${message}` : message);
}

export const at = (path: string, key: string | number): string => (path ? `${path}/${key}` : String(key));

export function stringCheck(rule: { nullable?: boolean; min?: number; max?: number; pattern?: RegExp; uuid?: boolean }): Check {
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

export function object(value: unknown, path: string): Json {
  if (!isObject(value)) throw fail(path, `${pyRepr(value)} is not of type 'object'`);
  return value;
}

export function properties(obj: Json, path: string, checks: Record<string, Check>): void {
  for (const [key, check] of Object.entries(checks)) if (obj[key] !== undefined) check(obj[key], at(path, key));
}

export function noAdditional(obj: Json, path: string, known: readonly string[]): void {
  const extra = Object.keys(obj).filter((k) => !known.includes(k));
  if (extra.length > 0) throw fail(path, `Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
}

export function requireKeys(obj: Json, path: string, keys: readonly string[]): void {
  for (const key of keys) if (obj[key] === undefined) throw fail(path, `'${key}' is a required property`);
}

/** `{"<key>": [item, ...]}` with at least one item, nothing else at the top. */
export function list(body: unknown, key: string): unknown[] {
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
export function member(body: unknown, key: string, checks: Record<string, Check>): Json {
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
