import { ConstraintError } from './errors.ts';

/**
 * Account and container listings rendered byte for byte as Swift renders them (its
 * `listing_formats` middleware, `account/utils.py` and the container server), for the storage
 * servers and for the proxy, which re-renders the JSON it gets from them.
 *
 * - JSON is Python's `json.dumps`: `", "` and `": "` separators, non-ASCII as `\uXXXX`.
 * - XML is ElementTree's output behind Swift's declaration line.
 * - Plain text is one name (or subdir) per line; an empty plain listing is a 204.
 */
export type ListingContentType = 'text/plain' | 'application/json' | 'application/xml' | 'text/xml';

/**
 * One listing entry, fields in Swift's order: `{name, hash, bytes, ...}` or `{subdir}`. An
 * `undefined` field is left out, as a key a Python dict does not have.
 */
export type ListingRecord = Readonly<Record<string, string | number | boolean | null | undefined>>;

const FORMATS: Readonly<Record<string, ListingContentType>> = { plain: 'text/plain', json: 'application/json', xml: 'application/xml' };
const OFFERED: readonly ListingContentType[] = ['text/plain', 'application/json', 'application/xml', 'text/xml'];
const TOKEN = String.raw`[^()<>@,;:\\"/\[\]?={}\x00-\x20\x7f]+`;
const ACCEPT_ITEM = new RegExp(String.raw`^\s*(${TOKEN})/(${TOKEN})((?:\s*;\s*(?:${TOKEN})\s*=\s*(?:${TOKEN}|"(?:[^"]|\\.)*"))*?\s*)$`);

/**
 * Swift's `get_listing_content_type`: `format=json|xml|plain` overrides the Accept header (an
 * unknown format means plain); otherwise the best match of Accept among plain, JSON and XML,
 * plain when there is no Accept.
 * @throws {ConstraintError} `bad_request` for a malformed Accept header, `not_acceptable`
 * when it accepts none of them.
 */
export function listingContentType(format: string | undefined, accept: string | undefined): ListingContentType {
  const match = bestMatch(listingAccept(format, accept), OFFERED);
  if (match === undefined) throw new ConstraintError('not_acceptable', 'None of the listing formats is acceptable');
  return match;
}

/**
 * The Accept a listing request means (Swift sets `req.accept` so): its `format` parameter's
 * content type (an unknown format means plain), else its Accept header.
 */
export function listingAccept(format: string | undefined, accept: string | undefined): string | undefined {
  return format ? (FORMATS[format.toLowerCase()] ?? 'text/plain') : accept;
}

/**
 * Whether an Accept (see `listingAccept`) takes `type` at all (swob's `best_match([type])`).
 * @throws {ConstraintError} `bad_request` for a malformed header.
 */
export function acceptsType(accept: string | undefined, type: string): boolean {
  return bestMatch(accept, [type]) !== undefined;
}

/** swob's `Accept.best_match`: by quality, exact types before wildcards, then header order. */
function bestMatch<T extends string>(header: string | undefined, options: readonly T[]): T | undefined {
  if (!header) return options[0];
  const types: { type: string; subtype: string; quality: number; exact: boolean; order: number }[] = [];
  for (const item of header.split(',')) {
    const m = ACCEPT_ITEM.exec(item);
    if (!m) throw new ConstraintError('bad_request', 'Invalid Accept header');
    let quality = 1;
    let seenQ = false;
    for (const param of (m[3] ?? '').split(';').map((p) => p.trim()).filter((p) => p !== '')) {
      const parts = param.split('=');
      if (parts.length !== 2) throw new ConstraintError('bad_request', 'Invalid Accept header');
      if ((parts[0] ?? '').trim() !== 'q') continue;
      if (seenQ) throw new ConstraintError('bad_request', 'Invalid Accept header');
      seenQ = true;
      quality = Number((parts[1] ?? '').trim());
      if (!Number.isFinite(quality)) throw new ConstraintError('bad_request', 'Invalid Accept header');
    }
    const type = m[1] as string;
    const subtype = m[2] as string;
    types.push({ type, subtype, quality, exact: type !== '*' && subtype !== '*', order: types.length });
  }
  types.sort((a, b) => b.quality - a.quality || Number(b.exact) - Number(a.exact) || a.order - b.order);
  for (const t of types) {
    for (const option of options) {
      const [type, subtype] = option.split('/') as [string, string];
      if ((t.type === '*' || t.type === type) && (t.subtype === '*' || t.subtype === subtype)) return option;
    }
  }
  return undefined;
}

/** Printable ASCII without `"` or `\\`: most names, which need no escaping at all. */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** A JSON string as Python's `json.dumps` writes it (`ensure_ascii`). */
function pyString(text: string): string {
  if (PLAIN_ASCII.test(text)) return `"${text}"`;
  const json = JSON.stringify(text);
  return /[\u007f-\uffff]/.test(json) ? json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : json;
}

function pyValue(value: string | number | boolean | null): string {
  if (typeof value === 'string') return pyString(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null) return 'null';
  return String(value);
}

/** A listing as Python's `json.dumps(listing)`. */
export function listingToJson(listing: readonly ListingRecord[]): string {
  const parts: string[] = [];
  for (const record of listing) {
    const fields: string[] = [];
    for (const [k, v] of Object.entries(record)) if (v !== undefined) fields.push(`${pyString(k)}: ${pyValue(v)}`);
    parts.push(`{${fields.join(', ')}}`);
  }
  return `[${parts.join(', ')}]`;
}

/** Swift's `listing_to_text`: each name (or subdir) and a newline. */
export function listingToText(listing: readonly ListingRecord[]): string {
  let out = '';
  for (const record of listing) out += `${String(record['name'] ?? record['subdir'] ?? '')}\n`;
  return out;
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttribute(text: string): string {
  return escapeText(text).replace(/"/g, '&quot;').replace(/\r/g, '&#13;').replace(/\n/g, '&#10;').replace(/\t/g, '&#09;');
}

/** Python's `str()` of a listing value. */
function pyStr(value: string | number | boolean | null): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null) return 'None';
  return String(value);
}

function element(tag: string, value: string | number | boolean | null | undefined): string {
  const text = escapeText(pyStr(value ?? null));
  return text === '' ? `<${tag} />` : `<${tag}>${text}</${tag}>`;
}

/** Swift's `container_to_xml`: objects with their fields, then any extra fields sorted by name. */
export function containerToXml(listing: readonly ListingRecord[], containerName: string): string {
  const items: string[] = [];
  for (const record of listing) {
    if ('subdir' in record) {
      const name = pyStr(record['subdir'] ?? null);
      items.push(`<subdir name="${escapeAttribute(name)}">${element('name', name)}</subdir>`);
      continue;
    }
    const known = ['name', 'hash', 'bytes', 'content_type', 'last_modified'];
    const extra = Object.keys(record).filter((k) => !known.includes(k) && record[k] !== undefined).sort();
    items.push(`<object>${[...known, ...extra].map((k) => element(k, record[k])).join('')}</object>`);
  }
  const open = `<container name="${escapeAttribute(containerName)}"`;
  return XML_DECLARATION + (items.length === 0 ? `${open} />` : `${open}>${items.join('')}</container>`);
}

/** Swift's `account_to_xml`: one container or subdir per line. */
export function accountToXml(listing: readonly ListingRecord[], accountName: string): string {
  let body = `<account name="${escapeAttribute(accountName)}">\n`;
  for (const record of listing) {
    if ('subdir' in record) {
      body += `<subdir name="${escapeAttribute(pyStr(record['subdir'] ?? null))}" />\n`;
      continue;
    }
    body += `<container>${['name', 'count', 'bytes', 'last_modified'].map((k) => element(k, record[k])).join('')}</container>\n`;
  }
  return `${XML_DECLARATION}${body}</account>`;
}
