import { HttpBadRequest, InvalidAttribute, InvalidInput } from './errors.ts';

/**
 * A resource's attributes as neutron-lib's `RESOURCE_ATTRIBUTE_MAP` declares them: whether a
 * POST or PUT may set each, whether a POST must, and its converter and validator. Bodies are
 * checked in `neutron/api/v2/base.py`'s order: the body's shape, unknown attributes, required
 * and read-only ones, then each value converted (a converter's failure is InvalidInput) and
 * validated (HTTPBadRequest "Invalid input for <attr>. Reason: <why>.").
 */
export interface AttributeSpec {
  readonly post: boolean;
  readonly put: boolean;
  /** A POST without it is refused ("Required attribute ... not specified"). */
  readonly required?: boolean;
  readonly convert?: (value: unknown) => unknown;
  /** The reason a (converted) value is refused, or undefined. */
  readonly validate?: (value: unknown) => string | undefined;
}

export type AttributeMap = Readonly<Record<string, AttributeSpec>>;

export type Fields = Record<string, unknown>;

/** `{"<resource>": {...}}` checked against `attributes`; returns the converted attributes given. */
export function parseBody(body: unknown, resource: string, attributes: AttributeMap, mode: 'create' | 'update'): Fields {
  if (body === undefined || body === null || (typeof body === 'object' && Object.keys(body).length === 0)) throw new HttpBadRequest('Resource body required');
  if (typeof body !== 'object' || Array.isArray(body) || !(resource in body)) throw new HttpBadRequest(`Unable to find '${resource}' in request body`);
  const item = (body as Record<string, unknown>)[resource];
  if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new HttpBadRequest(`Unable to find '${resource}' in request body`);
  const given = item as Fields;
  const unknown = Object.keys(given).filter((k) => !(k in attributes));
  if (unknown.length > 0) throw new HttpBadRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  for (const [attr, spec] of Object.entries(attributes)) {
    if (mode === 'create') {
      if (spec.post && spec.required && !(attr in given)) throw new HttpBadRequest(`Failed to parse request. Required attribute '${attr}' not specified`);
      if (!spec.post && attr in given) throw new HttpBadRequest(`Attribute '${attr}' not allowed in POST`);
    } else if (!spec.put && attr in given) throw new HttpBadRequest(`Cannot update read-only attribute ${attr}`);
  }
  const out: Fields = {};
  for (const [attr, value] of Object.entries(given)) {
    const spec = attributes[attr] as AttributeSpec;
    const converted = spec.convert ? spec.convert(value) : value;
    const reason = spec.validate?.(converted);
    if (reason !== undefined) throw new InvalidAttribute(attr, reason);
    out[attr] = converted;
  }
  return out;
}

/** neutron-lib's `convert_to_boolean`. */
export function toBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
  }
  if (value === 0 || value === 1) return value === 1;
  throw new InvalidInput(`'${pyText(value)}' cannot be converted to boolean`);
}

/** `convert_to_int`. */
export function toInt(value: unknown): number {
  const n = typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n)) return n;
  throw new InvalidInput(`'${pyText(value)}' is not an integer`);
}

/** `type:string` with a maximum length. */
export function stringOf(maxLen: number): (v: unknown) => string | undefined {
  return (v) => {
    if (typeof v !== 'string') return `'${pyText(v)}' is not a valid string`;
    if (v.length > maxLen) return `'${v}' exceeds maximum length of ${maxLen}`;
    return undefined;
  };
}

/** `type:uuid`. */
export function uuidOrNull(allowNull: boolean): (v: unknown) => string | undefined {
  return (v) => {
    if (v === null && allowNull) return undefined;
    return typeof v === 'string' && /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(v) ? undefined : `'${pyText(v)}' is not a valid UUID`;
  };
}

/** How Python prints a value in a message (`None`, `True`, lists and dicts as repr). */
export function pyText(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'string' ? `'${x}'` : pyText(x))).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `'${k}': ${typeof x === 'string' ? `'${x}'` : pyText(x)}`).join(', ')}}`;
  return String(v);
}
