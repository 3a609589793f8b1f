import { badRequest, type NovaError } from './errors.ts';

/**
 * Nova's request validation answers (nova/api/validation/validators.py over jsonschema): a
 * 400 `badRequest` whose message is jsonschema's, wrapped as Nova wraps it:
 * "Invalid input for field/attribute ram. Value: abc. 'abc' does not match '^[0-9]*$'" for a
 * field, the bare message ("'flavor' is a required property") at the top. Values print as
 * Python prints them (`str` for the value, `repr` inside messages), so clients and tests that
 * match Nova's words match ours.
 */
export type JsonObject = Record<string, unknown>;

/** Python's `repr` of a JSON value. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof value === 'number') return Number.isInteger(value) || !Number.isFinite(value) ? String(value) : String(value);
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(value as JsonObject).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
}

/** Python's `str` of a JSON value (a string is itself). */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

/** A 400 for `field` (the last path element) holding `value`. */
export function fieldError(field: string, value: unknown, message: string): NovaError {
  return badRequest(`Invalid input for field/attribute ${field}. Value: ${pyStr(value)}. ${message}`);
}

/** A 400 for a query parameter. */
export function queryError(param: string, value: unknown, message: string): NovaError {
  return badRequest(`Invalid input for query parameters ${param}. Value: ${pyStr(value)}. ${message}`);
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body's one top-level member `key`, whatever it holds. @throws {NovaError} 400 with jsonschema's first complaint. */
export function onlyMember(body: unknown, key: string): unknown {
  if (!isObject(body)) throw badRequest(`${pyRepr(body ?? null)} is not of type 'object'`);
  if (!(key in body)) throw badRequest(`'${key}' is a required property`);
  const extra = Object.keys(body).filter((k) => k !== key);
  if (extra.length > 0) throw badRequest(`Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
  return body[key];
}

/**
 * The body's one top-level member `key`, an object with only `allowed` members and every
 * `required` one. @throws {NovaError} 400 with jsonschema's first complaint.
 */
export function bodyMember(body: unknown, key: string, allowed: readonly string[], required: readonly string[] = []): JsonObject {
  const member = onlyMember(body, key);
  if (!isObject(member)) throw fieldError(key, member, `${pyRepr(member)} is not of type 'object'`);
  checkMembers(key, member, allowed, required);
  return member;
}

/** An object's members are within `allowed` and include `required`. */
export function checkMembers(field: string, obj: JsonObject, allowed: readonly string[], required: readonly string[]): void {
  for (const r of required) if (!(r in obj)) throw fieldError(field, obj, `'${r}' is a required property`);
  const extra = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw fieldError(field, obj, `Additional properties are not allowed (${extra.map(pyRepr).join(', ')} ${extra.length === 1 ? 'was' : 'were'} unexpected)`);
}

/** oslo's `is_uuid_like`: 32 hex digits, hyphens where a UUID has them or none, any case. */
export const UUID_LIKE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** The largest integer Nova's database columns hold (`db.MAX_INT`). */
export const MAX_INT = 2_147_483_647;

/**
 * Nova's integer parameters (`positive_integer`, `non_negative_integer`, `flavor_param_*`): an
 * integer or a string of digits, at least `min`, at most `max`. Returns the number.
 */
export function integerParam(field: string, value: unknown, min: number, max = MAX_INT): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw fieldError(field, value, `${pyRepr(value)} is not of type 'integer', 'string'`);
  } else if (typeof value === 'string') {
    if (value === '') throw fieldError(field, value, `'' should be non-empty`);
    if (!/^[0-9]*$/.test(value)) throw fieldError(field, value, `${pyRepr(value)} does not match '^[0-9]*$'`);
  } else {
    throw fieldError(field, value, `${pyRepr(value)} is not of type 'integer', 'string'`);
  }
  const n = Number(value);
  if (n < min) throw fieldError(field, value, `${pyRepr(value)} is less than the minimum of ${min}`);
  if (n > max) throw fieldError(field, value, `${pyRepr(value)} is greater than the maximum of ${max}`);
  return n;
}

/**
 * Nova's `name` parameter: 1 to 255 characters, no leading or trailing whitespace, printable.
 * Returns it.
 */
export function nameParam(field: string, value: unknown, maxLength = 255): string {
  if (typeof value !== 'string') throw fieldError(field, value, `${pyRepr(value)} is not of type 'string'`);
  if (value.length === 0) throw fieldError(field, value, `'' should be non-empty`);
  if (value.length > maxLength) throw fieldError(field, value, `${pyRepr(value)} is too long`);
  if (/^\s|\s$/.test(value) || /[\p{Cc}]/u.test(value)) throw badRequest(`An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.`);
  return value;
}

/** A string in Nova's `{'type': 'string', 'format': 'uuid'}` (oslo's `is_uuid_like`). */
export function uuidParam(field: string, value: unknown): string {
  if (typeof value !== 'string') throw fieldError(field, value, `${pyRepr(value)} is not of type 'string'`);
  if (!UUID_LIKE.test(value)) throw fieldError(field, value, `${pyRepr(value)} is not a 'uuid'`);
  return value;
}

/** Nova's `fqdn` parameter (a compute host's name). */
export function fqdnParam(field: string, value: unknown): string {
  if (typeof value !== 'string') throw fieldError(field, value, `${pyRepr(value)} is not of type 'string'`);
  if (value.length === 0) throw fieldError(field, value, "'' should be non-empty");
  if (value.length > 255) throw fieldError(field, value, `${pyRepr(value)} is too long`);
  if (!/^[a-zA-Z0-9-._]*$/.test(value)) throw fieldError(field, value, `${pyRepr(value)} does not match '^[a-zA-Z0-9-._]*$'`);
  return value;
}

/** Nova's `boolean` parameter: true/false and the strings oslo accepts. */
export function booleanParam(field: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const truthy = ['1', 't', 'true', 'on', 'y', 'yes'];
  const falsy = ['0', 'f', 'false', 'off', 'n', 'no'];
  const text = typeof value === 'string' ? value.toLowerCase() : undefined;
  if (text !== undefined && truthy.includes(text)) return true;
  if (text !== undefined && falsy.includes(text)) return false;
  throw fieldError(field, value, `${pyRepr(value)} is not one of [True, 'True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes', 'y', 't', False, 'False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no', 'n', 'f']`);
}
