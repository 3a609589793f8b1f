import { ConstraintError } from '../errors.ts';
import type { ListingQuery } from './listing-scan.ts';

/**
 * Query parameters the way Swift reads them (`parse_qsl` with blank values kept, then
 * `get_param`): `+` is a space, `%XX` escapes are bytes, the last of repeated names wins, and
 * a value that is not UTF-8 is refused when asked for (400).
 */
export class QueryParams {
  private readonly raw = new Map<string, number[]>();

  constructor(rawQuery: string) {
    for (const part of rawQuery.split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const name = bytesToLatin1(unquotePlus(eq === -1 ? part : part.slice(0, eq)));
      this.raw.set(name, unquotePlus(eq === -1 ? '' : part.slice(eq + 1)));
    }
  }

  has(name: string): boolean {
    return this.raw.has(name);
  }

  /**
   * The value of `name` as text, or undefined when absent.
   * @throws {ConstraintError} `bad_request`: `"name" parameter not valid UTF-8`.
   */
  get(name: string): string | undefined {
    const bytes = this.raw.get(name);
    if (bytes === undefined) return undefined;
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
    } catch {
      throw new ConstraintError('bad_request', `"${name}" parameter not valid UTF-8`);
    }
  }
}

function unquotePlus(text: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2b) bytes.push(0x20);
    else if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else bytes.push(...Buffer.from(String.fromCharCode(c), 'latin1'));
  }
  return bytes;
}

function bytesToLatin1(bytes: number[]): string {
  return Buffer.from(bytes).toString('latin1');
}

/** Swift's `config_true_value`. */
export function isTrueValue(value: string | undefined): boolean {
  return value !== undefined && ['true', '1', 'yes', 'on', 't', 'y'].includes(value.trim().toLowerCase());
}

/**
 * The listing parameters of an account or container GET, checked as Swift's servers check
 * them: a `limit` that is not all digits is ignored (the maximum applies), one above the
 * maximum is 412 "Maximum limit is N". A delimiter may be any string (Swift 2.30 dropped its
 * one-character rule). `path` is for container listings only; `allowReserved` (the request's
 * `X-Backend-Allow-Reserved-Names`) lists the reserved namespace too.
 * @throws {ConstraintError} `precondition` or `bad_request` (parameter not UTF-8).
 */
export function listingQuery(params: QueryParams, maxLimit: number, withPath: boolean, allowReserved = false): ListingQuery {
  const delimiter = params.get('delimiter');
  let limit = maxLimit;
  const given = params.get('limit');
  if (given && /^[0-9]+$/.test(given)) {
    limit = Number(given);
    if (limit > maxLimit) throw new ConstraintError('precondition', `Maximum limit is ${maxLimit}`);
  }
  const path = withPath ? params.get('path') : undefined;
  const prefix = params.get('prefix');
  const endMarker = params.get('end_marker');
  return {
    limit,
    marker: params.get('marker') ?? '',
    ...(endMarker !== undefined ? { endMarker } : {}),
    ...(prefix !== undefined ? { prefix } : {}),
    ...(delimiter !== undefined ? { delimiter } : {}),
    ...(path !== undefined ? { path } : {}),
    reverse: isTrueValue(params.get('reverse')),
    ...(allowReserved ? { allowReserved } : {}),
  };
}
