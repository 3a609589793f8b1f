import { randomBytes } from 'node:crypto';
import type { TokenPayload } from './token-payload.ts';

/**
 * Revocation events, Keystone's model (keystone/models/revoke_model.py): an event names some
 * of a token's facts, and every token that has all of them and was issued at or before
 * `issued_before` is revoked. Deleting or disabling a user is `{user_id}`, removing a role
 * assignment `{user_id, project_id}`, disabling a project `{project_id}`, a domain
 * `{domain_id}` (the user's or the scope's), deleting a role `{role_id}`, a token revoked
 * with `DELETE /v3/auth/tokens` `{audit_id}`. `application_credential_id` is ours: Keystone
 * checks that credential in its database on every validation, a proxy cannot.
 *
 * Events are records in the cluster (type `REVOKE_EVENT_TYPE` in the identity service's system
 * account, keys from `revokeEventKey`, JSON as below), written by the identity service and read
 * by every validator, which polls for new ones (`RevocationPoller`).
 */
export interface RevokeEvent {
  readonly user_id?: string;
  readonly project_id?: string;
  /** Matches the user's domain or the token's scope domain (a project's, or a domain scope). */
  readonly domain_id?: string;
  readonly role_id?: string;
  readonly audit_id?: string;
  readonly audit_chain_id?: string;
  readonly application_credential_id?: string;
  /** ISO 8601; only tokens that expire exactly then. */
  readonly expires_at?: string;
  /** ISO 8601 with microseconds: tokens issued at or before this are revoked. */
  readonly issued_before: string;
  readonly revoked_at: string;
}

/** The record type (container) that holds the events. */
export const REVOKE_EVENT_TYPE = 'revoke-events';

/** A token's facts an event can name (Keystone's `build_token_values`). */
export interface TokenFacts {
  readonly userId: string;
  readonly userDomainId: string;
  readonly projectId?: string;
  /** The project's domain, or the domain of a domain-scoped token. */
  readonly assignmentDomainId?: string;
  readonly roleIds: readonly string[];
  readonly auditId: string;
  readonly auditChainId: string;
  readonly applicationCredentialId?: string;
  /** Milliseconds; whole seconds, as in the token. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

/** The facts of a decoded token issued at `issuedAt` (the Fernet timestamp, in ms). */
export function tokenFacts(payload: TokenPayload, issuedAt: number): TokenFacts {
  const scope = payload.scope;
  const auditId = payload.auditIds[0] ?? '';
  return {
    userId: payload.userId,
    userDomainId: payload.userDomainId,
    ...(scope.kind === 'project' ? { projectId: scope.projectId, assignmentDomainId: scope.domainId } : {}),
    ...(scope.kind === 'domain' ? { assignmentDomainId: scope.domainId } : {}),
    roleIds: payload.roles.map((r) => r.id),
    auditId,
    auditChainId: payload.auditIds[1] ?? auditId,
    ...(payload.applicationCredentialId !== undefined ? { applicationCredentialId: payload.applicationCredentialId } : {}),
    issuedAt,
    expiresAt: payload.expiresAt,
  };
}

/** Whether `event` revokes a token with these facts. */
export function revokes(event: RevokeEvent, token: TokenFacts): boolean {
  if (token.issuedAt > Date.parse(event.issued_before)) return false;
  if (event.user_id !== undefined && event.user_id !== token.userId) return false;
  if (event.project_id !== undefined && event.project_id !== token.projectId) return false;
  if (event.domain_id !== undefined && event.domain_id !== token.userDomainId && event.domain_id !== token.assignmentDomainId) return false;
  if (event.role_id !== undefined && !token.roleIds.includes(event.role_id)) return false;
  if (event.audit_id !== undefined && event.audit_id !== token.auditId) return false;
  if (event.audit_chain_id !== undefined && event.audit_chain_id !== token.auditChainId) return false;
  if (event.application_credential_id !== undefined && event.application_credential_id !== token.applicationCredentialId) return false;
  if (event.expires_at !== undefined && Math.floor(Date.parse(event.expires_at) / 1000) !== Math.floor(token.expiresAt / 1000)) return false;
  return true;
}

/**
 * A new event at `nowMs` (both times), naming `facts`. Keystone's events have second
 * resolution, like the tokens' `issued_at`, so a token issued later in the same second as the
 * event is revoked too (the identity service waits for the next second before issuing one
 * that would be, see identity/token-issuer.ts).
 */
export function newRevokeEvent(facts: Omit<RevokeEvent, 'issued_before' | 'revoked_at'>, nowMs: number): RevokeEvent {
  const at = isoMicro(nowMs);
  return { ...facts, issued_before: at, revoked_at: at };
}

/**
 * An event's record key: its `revoked_at` in milliseconds (zero-padded, so keys sort by time)
 * and a random tail, so pollers can list only what is new (see `RevocationPoller`).
 */
export function revokeEventKey(event: RevokeEvent): string {
  return `${String(Date.parse(event.revoked_at)).padStart(15, '0')}-${randomBytes(6).toString('hex')}`;
}

/** The `revoked_at` milliseconds a key was made from. */
export function revokeEventKeyTime(key: string): number {
  return Number(key.slice(0, 15));
}

/** Validates an event read from the store (a record anyone with the account could have written). */
export function parseRevokeEvent(value: unknown): RevokeEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const strings = ['user_id', 'project_id', 'domain_id', 'role_id', 'audit_id', 'audit_chain_id', 'application_credential_id', 'expires_at', 'issued_before', 'revoked_at'];
  for (const k of strings) if (v[k] !== undefined && typeof v[k] !== 'string') return undefined;
  if (typeof v['issued_before'] !== 'string' || Number.isNaN(Date.parse(v['issued_before'])) || typeof v['revoked_at'] !== 'string') return undefined;
  return v as unknown as RevokeEvent;
}

/** The events a validator knows, by key. */
export class RevocationList {
  private readonly events = new Map<string, { event: RevokeEvent; issuedBefore: number }>();

  add(key: string, event: RevokeEvent): void {
    this.events.set(key, { event, issuedBefore: Date.parse(event.issued_before) });
  }

  has(key: string): boolean {
    return this.events.has(key);
  }

  /** Whether any known event revokes the token. */
  revoked(token: TokenFacts): boolean {
    for (const { event, issuedBefore } of this.events.values()) if (token.issuedAt <= issuedBefore && revokes(event, token)) return true;
    return false;
  }

  /** Forgets events that can only match tokens expired by now: issued before `oldestLiveIssue`. */
  prune(oldestLiveIssue: number): void {
    for (const [key, { issuedBefore }] of this.events) if (issuedBefore < oldestLiveIssue) this.events.delete(key);
  }

  get size(): number {
    return this.events.size;
  }
}

/** `2026-12-05T06:50:26.000000Z`: Keystone's time format, microseconds included. */
export function isoMicro(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
