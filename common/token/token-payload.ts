import { randomBytes } from 'node:crypto';
import { Packr } from 'msgpackr';
import { SwiftError } from '../errors.ts';

/**
 * What a token says, packed as Keystone's Fernet payloads are (keystone/token/token_formatters.py):
 * a msgpack array `[version, user_id, methods, scope, expires_at, audit_ids(, app_cred_id)]`
 * with UUID-hex ids as `[true, 16 bytes]` (else `[false, string]`), methods as Keystone's bit
 * set, `expires_at` in float seconds and audit ids as their 16 bytes. Versions: 0 unscoped,
 * 1 domain, 2 project, 8 system, 9 project through an application credential.
 *
 * One element is ours, appended last (Keystone reads its fields by position and ignores it):
 * a map with the token's `roles` (`[id, name]` pairs) and the user's and the scope's domain ids.
 * Keystone recomputes those on every validation from its database; a proxy validating tokens
 * on its own has no database, so the token carries them, and revocation events make changes
 * take effect before expiry (`revocation.ts`).
 */
export type TokenScope =
  | { readonly kind: 'unscoped' }
  | { readonly kind: 'project'; readonly projectId: string; readonly domainId: string }
  | { readonly kind: 'domain'; readonly domainId: string }
  | { readonly kind: 'system' };

export interface TokenRole {
  readonly id: string;
  readonly name: string;
}

export interface TokenPayload {
  readonly userId: string;
  readonly userDomainId: string;
  /** Keystone's method names, e.g. `['password']`, `['password', 'token']`. */
  readonly methods: readonly string[];
  readonly scope: TokenScope;
  /** Milliseconds since the epoch (whole seconds, as Keystone renders them). */
  readonly expiresAt: number;
  /** The token's own audit id, then its chain's (the first token's) when rescoped. */
  readonly auditIds: readonly string[];
  /** The effective roles on the scope (none when unscoped). */
  readonly roles: readonly TokenRole[];
  /** Set when the token came from an application credential (project scope only). */
  readonly applicationCredentialId?: string;
}

/** A payload Keystone's formatter would not know, or bytes that are not one. */
export class TokenPayloadError extends SwiftError {
  constructor(problem: string) {
    super('TOKEN_PAYLOAD_INVALID', `token payload: ${problem}`);
  }
}

/** Keystone's `[auth] methods` default: a method's bit is 2^(its index). */
const METHODS = ['external', 'password', 'token', 'oauth1', 'mapped', 'application_credential'] as const;

const VERSION = { unscoped: 0, domain: 1, project: 2, system: 8, applicationCredential: 9 } as const;

const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });

/** A new audit id: 16 random bytes, URL-safe base64 without padding (Keystone's `random_urlsafe_str`). */
export function newAuditId(): string {
  return randomBytes(16).toString('base64url');
}

export function encodeTokenPayload(payload: TokenPayload): Uint8Array {
  const user = idField(payload.userId);
  const methods = methodBits(payload.methods);
  const expires = payload.expiresAt / 1000;
  const audits = payload.auditIds.map((a) => Buffer.from(a, 'base64url'));
  const ours: Record<string, unknown> = { roles: payload.roles.map((r) => [idField(r.id), r.name]), user_domain_id: payload.userDomainId };
  const scope = payload.scope;
  switch (scope.kind) {
    case 'unscoped':
      return packr.pack([VERSION.unscoped, user, methods, expires, audits, ours]);
    case 'domain':
      return packr.pack([VERSION.domain, user, methods, uuidBytes(scope.domainId) ?? scope.domainId, expires, audits, ours]);
    case 'system':
      return packr.pack([VERSION.system, user, methods, 'all', expires, audits, ours]);
    case 'project':
      ours['project_domain_id'] = scope.domainId;
      if (payload.applicationCredentialId !== undefined) {
        return packr.pack([VERSION.applicationCredential, user, methods, idField(scope.projectId), expires, audits, idField(payload.applicationCredentialId), ours]);
      }
      return packr.pack([VERSION.project, user, methods, idField(scope.projectId), expires, audits, ours]);
  }
}

/**
 * Reads a payload. A Keystone-made token (no element of ours) decodes with no roles and the
 * domains unknown (empty strings): its holder must ask the identity service.
 * @throws {TokenPayloadError}
 */
export function decodeTokenPayload(bytes: Uint8Array): TokenPayload {
  let raw: unknown;
  try {
    raw = packr.unpack(bytes);
  } catch {
    throw new TokenPayloadError('not msgpack');
  }
  if (!Array.isArray(raw)) throw new TokenPayloadError('not an array');
  const [version, user, methods, ...rest] = raw as unknown[];
  const base = { userId: readId(user), methods: methodNames(methods) };
  const ours = (index: number): { roles: TokenRole[]; userDomainId: string; projectDomainId: string } => {
    const extra = rest[index];
    if (extra === undefined) return { roles: [], userDomainId: '', projectDomainId: '' };
    if (typeof extra !== 'object' || extra === null) throw new TokenPayloadError('bad extension');
    const e = extra as { roles?: unknown; user_domain_id?: unknown; project_domain_id?: unknown };
    if (!Array.isArray(e.roles)) throw new TokenPayloadError('bad roles');
    const roles = e.roles.map((r: unknown) => {
      if (!Array.isArray(r) || typeof r[1] !== 'string') throw new TokenPayloadError('bad role');
      return { id: readId(r[0]), name: r[1] };
    });
    return { roles, userDomainId: String(e.user_domain_id ?? ''), projectDomainId: String(e.project_domain_id ?? '') };
  };
  const common = (expires: unknown, audits: unknown): { expiresAt: number; auditIds: string[] } => {
    if (typeof expires !== 'number' || !Number.isFinite(expires)) throw new TokenPayloadError('bad expires_at');
    if (!Array.isArray(audits) || !audits.every((a) => a instanceof Uint8Array)) throw new TokenPayloadError('bad audit_ids');
    return { expiresAt: Math.round(expires * 1000), auditIds: audits.map((a: Uint8Array) => Buffer.from(a).toString('base64url')) };
  };
  switch (version) {
    case VERSION.unscoped: {
      const o = ours(2);
      return { ...base, ...common(rest[0], rest[1]), scope: { kind: 'unscoped' }, roles: o.roles, userDomainId: o.userDomainId };
    }
    case VERSION.domain: {
      const o = ours(3);
      const domain = rest[0];
      const domainId = domain instanceof Uint8Array && domain.length === 16 ? Buffer.from(domain).toString('hex') : domain instanceof Uint8Array ? Buffer.from(domain).toString() : String(domain);
      return { ...base, ...common(rest[1], rest[2]), scope: { kind: 'domain', domainId }, roles: o.roles, userDomainId: o.userDomainId };
    }
    case VERSION.system: {
      const o = ours(3);
      return { ...base, ...common(rest[1], rest[2]), scope: { kind: 'system' }, roles: o.roles, userDomainId: o.userDomainId };
    }
    case VERSION.project: {
      const o = ours(3);
      return { ...base, ...common(rest[1], rest[2]), scope: { kind: 'project', projectId: readId(rest[0]), domainId: o.projectDomainId }, roles: o.roles, userDomainId: o.userDomainId };
    }
    case VERSION.applicationCredential: {
      const o = ours(4);
      return {
        ...base,
        ...common(rest[1], rest[2]),
        scope: { kind: 'project', projectId: readId(rest[0]), domainId: o.projectDomainId },
        roles: o.roles,
        userDomainId: o.userDomainId,
        applicationCredentialId: readId(rest[3]),
      };
    }
    default:
      throw new TokenPayloadError(`unknown version ${String(version)}`);
  }
}

/** Keystone's `attempt_convert_uuid_hex_to_bytes`: `[true, bytes]` for a UUID, else `[false, id]`. */
function idField(id: string): [boolean, Buffer | string] {
  const bytes = uuidBytes(id);
  return bytes ? [true, bytes] : [false, id];
}

/** The 16 bytes of a UUID-hex id; only lower-case hex, so the id reads back exactly. */
function uuidBytes(id: string): Buffer | undefined {
  return /^[0-9a-f]{32}$/.test(id) ? Buffer.from(id, 'hex') : undefined;
}

function readId(field: unknown): string {
  if (!Array.isArray(field) || field.length !== 2) throw new TokenPayloadError('bad id');
  const [isBytes, value] = field as [unknown, unknown];
  if (isBytes === true && value instanceof Uint8Array && value.length === 16) return Buffer.from(value).toString('hex');
  if (isBytes === false && typeof value === 'string') return value;
  if (isBytes === false && value instanceof Uint8Array) return Buffer.from(value).toString();
  throw new TokenPayloadError('bad id');
}

function methodBits(methods: readonly string[]): number {
  let bits = 0;
  for (const m of methods) {
    const i = (METHODS as readonly string[]).indexOf(m);
    if (i === -1) throw new TokenPayloadError(`unknown method ${m}`);
    bits |= 1 << i;
  }
  return bits;
}

/** Keystone's `convert_integer_to_method_list`: the highest bit first (`['token', 'password']`). */
function methodNames(bits: unknown): string[] {
  if (typeof bits !== 'number' || !Number.isInteger(bits) || bits < 0) throw new TokenPayloadError('bad methods');
  return METHODS.filter((_, i) => (bits & (1 << i)) !== 0).reverse();
}
