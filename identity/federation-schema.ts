import { type Check, fail, member, noAdditional, object, properties, requireKeys, stringCheck } from './schema-checks.ts';
import { type Json, pyRepr } from './validation.ts';

/**
 * Keystone's OS-FEDERATION request schemas for identity and service providers
 * (keystone/federation/schema.py), checked as identity/schema-checks.ts does.
 */

const TRUE = ['True', 'TRUE', 'true', '1', 'y', 'Y', 'on', 'ON', 'yes', 'YES', 'Yes'];
const FALSE = ['False', 'FALSE', 'false', '', '0', 'n', 'N', 'off', 'OFF', 'no', 'NO', 'No'];

/** Keystone's `parameter_types.boolean`: a boolean, one of its spellings as a string, or null. */
const boolean: Check = (value, path) => {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value !== 'string') throw fail(path, `${pyRepr(value)} is not of type 'boolean', 'string', 'null'`);
  if (!TRUE.includes(value) && !FALSE.includes(value)) throw fail(path, `${pyRepr(value)} is not one of [True, ${[...TRUE.slice(0, 3), 'False', ...FALSE.slice(0, 3)].map(pyRepr).join(', ')}, ...]`);
};

/** A checked boolean field as a boolean (undefined: absent or null). */
export function booleanOf(value: unknown): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  return value === true || (typeof value === 'string' && TRUE.includes(value));
}

const nullableString = stringCheck({ nullable: true });
const url = stringCheck({ min: 0, max: 225, pattern: /^[a-zA-Z0-9+.-]+:.+/ });

const authorizationTtl: Check = (value, path) => {
  if (value === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw fail(path, `${pyRepr(value)} is not of type 'integer', 'null'`);
  if (value < 0) throw fail(path, `${value} is less than the minimum of 0`);
};

const remoteIds: Check = (value, path) => {
  if (value === null) return;
  if (!Array.isArray(value)) throw fail(path, `${pyRepr(value)} is not of type 'array', 'null'`);
  const item = stringCheck({ max: 64 });
  for (const [i, v] of value.entries()) item(v, `${path}/${i}`);
  if (new Set(value).size !== value.length) throw fail(path, `${pyRepr(value)} has non-unique elements`);
};

const IDP: Record<string, Check> = { enabled: boolean, description: nullableString, authorization_ttl: authorizationTtl, remote_ids: remoteIds };
const IDP_CREATE: Record<string, Check> = { ...IDP, domain_id: stringCheck({ nullable: true, min: 1, max: 64, pattern: /^[a-zA-Z0-9-]+$/ }) };
const SP: Record<string, Check> = { auth_url: url, sp_url: url, description: nullableString, enabled: boolean, relay_state_prefix: nullableString };

/** PUT /v3/OS-FEDERATION/identity_providers/{id}: the body's `identity_provider` may be absent. @throws 400 */
export function identityProviderCreate(body: unknown): Json {
  const top = object(body, '');
  const inner = top['identity_provider'] === undefined ? {} : object(top['identity_provider'], 'identity_provider');
  properties(inner, 'identity_provider', IDP_CREATE);
  noAdditional(inner, 'identity_provider', Object.keys(IDP_CREATE));
  noAdditional(top, '', ['identity_provider']);
  return inner;
}

/** PATCH: at least one field. @throws 400 */
export function identityProviderUpdate(body: unknown): Json {
  const inner = member(body, 'identity_provider', IDP);
  if (Object.keys(inner).length === 0) throw fail('identity_provider', '{} should be non-empty');
  return inner;
}

/** PUT /v3/OS-FEDERATION/service_providers/{id}: `auth_url` and `sp_url` required. @throws 400 */
export function serviceProviderCreate(body: unknown): Json {
  const top = object(body, '');
  const inner = top['service_provider'] === undefined ? undefined : object(top['service_provider'], 'service_provider');
  if (inner) {
    properties(inner, 'service_provider', SP);
    requireKeys(inner, 'service_provider', ['auth_url', 'sp_url']);
    noAdditional(inner, 'service_provider', Object.keys(SP));
  }
  noAdditional(top, '', ['service_provider']);
  requireKeys(top, '', ['service_provider']);
  return inner as Json;
}

export function serviceProviderUpdate(body: unknown): Json {
  return member(body, 'service_provider', SP);
}
