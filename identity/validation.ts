import { validationError } from './errors.ts';

/**
 * Request checks with Keystone's (jsonschema's) first message line: "'name' is a required
 * property", "Invalid input for field 'enabled': 'yes' is not of type 'boolean'". A check
 * throws the 400 before anything is stored.
 */
export type Json = Record<string, unknown>;

/** The object under `key` of a request body (`{"user": {...}}`); missing or not an object is 400. */
export function section(body: unknown, key: string): Json {
  const value = isObject(body) ? body[key] : undefined;
  if (value === undefined) throw validationError(`'${key}' is a required property`);
  if (!isObject(value)) throw validationError(`Invalid input for field '${key}': ${pyRepr(value)} is not of type 'object'`);
  return value;
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function required(obj: Json, ...keys: string[]): void {
  for (const key of keys) if (obj[key] === undefined) throw validationError(`'${key}' is a required property`);
}

export interface StringRule {
  readonly min?: number;
  readonly max?: number;
  /** A regular expression the value must match somewhere (jsonschema's `pattern`). */
  readonly pattern?: RegExp;
  readonly nullable?: boolean;
}

/** Keystone's `name` type: 1 to `max` characters with at least one that is not a space. */
export const NAME: StringRule = { min: 1, max: 255, pattern: /\S/ };
/** Keystone's `id_string`: 1 to 64 of letters, digits and `-`. */
export const ID_STRING: StringRule = { min: 1, max: 64, pattern: /^[a-zA-Z0-9-]+$/ };

/** A string field when present (`undefined` when absent). */
export function optionalString(obj: Json, key: string, rule: StringRule = {}): string | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (value === null && rule.nullable) return undefined;
  if (typeof value !== 'string') throw invalid(key, value, `is not of type ${rule.nullable ? "'string', 'null'" : "'string'"}`);
  if (rule.min !== undefined && value.length < rule.min) throw invalid(key, value, rule.min === 1 ? 'should be non-empty' : `is too short`);
  if (rule.max !== undefined && value.length > rule.max) throw invalid(key, value, 'is too long');
  if (rule.pattern && !rule.pattern.test(value)) throw invalid(key, value, `does not match '${rule.pattern.source}'`);
  return value;
}

export function requiredString(obj: Json, key: string, rule: StringRule = {}): string {
  required(obj, key);
  return optionalString(obj, key, rule) as string;
}

/** A boolean field when present; Keystone also accepts `null` for "leave as is". */
export function optionalBoolean(obj: Json, key: string): boolean | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(key, value, "is not of type 'boolean'");
  return value;
}

export function optionalEnum<T extends string>(obj: Json, key: string, allowed: readonly T[]): T | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw invalid(key, value, `is not one of [${allowed.map((a) => `'${a}'`).join(', ')}]`);
  return value as T;
}

/** Keystone's project and domain tags: up to 80 unique strings of 1-255 characters without `,` or `/`. */
export function optionalTags(obj: Json, key = 'tags'): string[] | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalid(key, value, "is not of type 'array'");
  if (value.length > 80) throw invalid(key, value, 'is too long');
  for (const tag of value) {
    if (typeof tag !== 'string' || tag.length < 1 || tag.length > 255 || /[,/]/.test(tag)) throw invalid(key, value, `has an invalid tag ${pyRepr(tag)}`);
  }
  if (new Set(value).size !== value.length) throw invalid(key, value, 'has non-unique elements');
  return value as string[];
}

export function optionalObject(obj: Json, key: string): Json | undefined {
  const value = obj[key];
  if (value === undefined) return undefined;
  if (!isObject(value)) throw invalid(key, value, "is not of type 'object'");
  return value;
}

function invalid(key: string, value: unknown, problem: string): Error {
  return validationError(`Invalid input for field '${key}': ${pyRepr(value)} ${problem}`);
}

/** A value as Python prints it, as Keystone's messages show it (`'yes'`, `True`, `None`). */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`).join(', ')}}`;
  return String(value);
}

/** The fields of `obj` not in `known`: Keystone keeps them as the resource's `extra` and shows them. */
export function extraFields(obj: Json, known: readonly string[]): Json {
  const extra: Json = {};
  for (const [k, v] of Object.entries(obj)) if (!known.includes(k)) extra[k] = v;
  return extra;
}

/** Keystone's boolean query values (`?enabled=false`): false for `0`, `false`, `no`, `off` (any case). */
export function queryBoolean(value: string): boolean {
  return !['0', 'false', 'no', 'off', 'f', 'n'].includes(value.trim().toLowerCase());
}
