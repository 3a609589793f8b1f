import type { Json } from './validation.ts';

/**
 * Identity's records as stored (identity/store.ts) and as Keystone shows them. Fields a
 * client sent that Keystone does not know are kept in `extra` and shown beside the others, as
 * Keystone does (`email` and `description` of a user live there too).
 */
export interface DomainRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly enabled: boolean;
  readonly tags: readonly string[];
  readonly options: Json;
  readonly extra: Json;
}

export interface ProjectRecord {
  readonly id: string;
  readonly name: string;
  readonly domain_id: string;
  /** The parent project, or the domain for a top-level project (Keystone's view). */
  readonly parent_id: string;
  readonly description: string;
  readonly enabled: boolean;
  readonly tags: readonly string[];
  readonly options: Json;
  readonly extra: Json;
}

export interface UserRecord {
  readonly id: string;
  readonly name: string;
  readonly domain_id: string;
  readonly enabled: boolean;
  readonly default_project_id?: string;
  /** `scrypt$...` (identity/password-hash.ts); absent: the user cannot authenticate by password. */
  readonly password_hash?: string;
  readonly options: Json;
  readonly extra: Json;
}

export interface GroupRecord {
  readonly id: string;
  readonly name: string;
  readonly domain_id: string;
  readonly description: string;
  readonly extra: Json;
}

export interface RoleRecord {
  readonly id: string;
  readonly name: string;
  readonly description: string | null;
  readonly options: Json;
  readonly extra: Json;
}

export interface ServiceRecord {
  readonly id: string;
  readonly type: string;
  readonly name?: string;
  readonly description?: string;
  readonly enabled: boolean;
  readonly extra: Json;
}

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface EndpointRecord {
  readonly id: string;
  readonly service_id: string;
  readonly interface: EndpointInterface;
  readonly url: string;
  readonly region_id: string | null;
  readonly enabled: boolean;
  readonly extra: Json;
}

export interface RegionRecord {
  readonly id: string;
  readonly description: string;
  readonly parent_region_id: string | null;
  readonly extra: Json;
}

export interface ApplicationCredentialRecord {
  readonly id: string;
  readonly name: string;
  readonly user_id: string;
  readonly project_id: string;
  readonly description: string | null;
  /** ISO 8601, or null for none. */
  readonly expires_at: string | null;
  readonly unrestricted: boolean | null;
  readonly secret_hash: string;
  /** The roles delegated (ids): a token gets those the user still has on the project. */
  readonly role_ids: readonly string[];
}

export interface CredentialRecord {
  readonly id: string;
  readonly user_id: string;
  readonly project_id: string | null;
  readonly type: string;
  readonly blob: string;
  readonly extra: Json;
}

/** A registered limit: a resource's default limit for a service (in a region). */
export interface RegisteredLimitRecord {
  readonly id: string;
  readonly service_id: string;
  readonly region_id: string | null;
  readonly resource_name: string;
  readonly default_limit: number;
  readonly description: string | null;
}

/**
 * A project's or a domain's limit; its service, region and resource are its registered limit's
 * (Keystone's `limit` table keeps only `registered_limit_id`).
 */
export interface LimitRecord {
  readonly id: string;
  readonly project_id: string | null;
  readonly domain_id: string | null;
  readonly registered_limit_id: string;
  readonly resource_limit: number;
  readonly description: string | null;
}

/** An OS-FEDERATION identity provider (records only: no federated authentication here). */
export interface IdentityProviderRecord {
  readonly id: string;
  readonly domain_id: string;
  readonly enabled: boolean;
  readonly description: string | null;
  readonly remote_ids: readonly string[];
  readonly authorization_ttl: number | null;
}

/** An OS-FEDERATION service provider: a remote cloud enabled ones are listed to in tokens. */
export interface ServiceProviderRecord {
  readonly id: string;
  readonly enabled: boolean;
  readonly description: string | null;
  readonly auth_url: string;
  readonly sp_url: string;
  readonly relay_state_prefix: string;
}

/** Where a grant applies: a project, a domain, or the whole deployment (system). */
export type AssignmentTarget = { readonly project: string } | { readonly domain: string } | { readonly system: 'all' };
/** Who holds it. */
export type AssignmentActor = { readonly user: string } | { readonly group: string };

export interface Assignment {
  readonly target: AssignmentTarget;
  readonly actor: AssignmentActor;
  readonly roleId: string;
}

const links = (base: string, path: string): Json => ({ self: `${base}/v3/${path}` });

export function renderDomain(d: DomainRecord, base: string): Json {
  return { ...d.extra, id: d.id, name: d.name, description: d.description, enabled: d.enabled, tags: [...d.tags], options: d.options, links: links(base, `domains/${d.id}`) };
}

/** A domain as Keystone's projects API shows it (a domain is a project with `is_domain` there). */
export function renderDomainAsProject(d: DomainRecord, base: string): Json {
  return { ...d.extra, id: d.id, name: d.name, domain_id: null, description: d.description, enabled: d.enabled, parent_id: null, is_domain: true, tags: [...d.tags], options: d.options, links: links(base, `projects/${d.id}`) };
}

export function renderProject(p: ProjectRecord, base: string): Json {
  return {
    ...p.extra,
    id: p.id,
    name: p.name,
    domain_id: p.domain_id,
    description: p.description,
    enabled: p.enabled,
    parent_id: p.parent_id,
    is_domain: false,
    tags: [...p.tags],
    options: p.options,
    links: links(base, `projects/${p.id}`),
  };
}

export function renderUser(u: UserRecord, base: string): Json {
  return {
    ...u.extra,
    ...(u.default_project_id !== undefined ? { default_project_id: u.default_project_id } : {}),
    id: u.id,
    name: u.name,
    domain_id: u.domain_id,
    enabled: u.enabled,
    password_expires_at: null,
    options: u.options,
    links: links(base, `users/${u.id}`),
  };
}

export function renderGroup(g: GroupRecord, base: string): Json {
  return { ...g.extra, id: g.id, name: g.name, domain_id: g.domain_id, description: g.description, links: links(base, `groups/${g.id}`) };
}

export function renderRole(r: RoleRecord, base: string): Json {
  return { ...r.extra, id: r.id, name: r.name, domain_id: null, description: r.description, options: r.options, links: links(base, `roles/${r.id}`) };
}

export function renderService(s: ServiceRecord, base: string): Json {
  return {
    ...s.extra,
    id: s.id,
    type: s.type,
    enabled: s.enabled,
    ...(s.name !== undefined ? { name: s.name } : {}),
    ...(s.description !== undefined ? { description: s.description } : {}),
    links: links(base, `services/${s.id}`),
  };
}

export function renderEndpoint(e: EndpointRecord, base: string): Json {
  return { ...e.extra, id: e.id, interface: e.interface, region_id: e.region_id, region: e.region_id, service_id: e.service_id, url: e.url, enabled: e.enabled, links: links(base, `endpoints/${e.id}`) };
}

export function renderRegion(r: RegionRecord, base: string): Json {
  return { ...r.extra, id: r.id, description: r.description, parent_region_id: r.parent_region_id, links: links(base, `regions/${r.id}`) };
}

export function renderCredential(c: CredentialRecord, base: string): Json {
  return { ...c.extra, id: c.id, user_id: c.user_id, project_id: c.project_id, type: c.type, blob: c.blob, links: links(base, `credentials/${c.id}`) };
}

export function renderRegisteredLimit(r: RegisteredLimitRecord, base: string): Json {
  return { id: r.id, service_id: r.service_id, region_id: r.region_id, resource_name: r.resource_name, default_limit: r.default_limit, description: r.description, links: links(base, `registered_limits/${r.id}`) };
}

/** A limit with the service, region and resource of `registered` (its registered limit). */
export function renderLimit(l: LimitRecord, registered: RegisteredLimitRecord | undefined, base: string): Json {
  return {
    id: l.id,
    project_id: l.project_id,
    domain_id: l.domain_id,
    service_id: registered?.service_id ?? null,
    region_id: registered?.region_id ?? null,
    resource_name: registered?.resource_name ?? null,
    resource_limit: l.resource_limit,
    description: l.description,
    links: links(base, `limits/${l.id}`),
  };
}

export function renderIdentityProvider(i: IdentityProviderRecord, base: string): Json {
  const self = `${base}/v3/OS-FEDERATION/identity_providers/${i.id}`;
  return { id: i.id, domain_id: i.domain_id, enabled: i.enabled, description: i.description, remote_ids: [...i.remote_ids], authorization_ttl: i.authorization_ttl, links: { self, protocols: `${self}/protocols` } };
}

export function renderServiceProvider(s: ServiceProviderRecord, base: string): Json {
  return { id: s.id, enabled: s.enabled, description: s.description, auth_url: s.auth_url, sp_url: s.sp_url, relay_state_prefix: s.relay_state_prefix, links: links(base, `OS-FEDERATION/service_providers/${s.id}`) };
}

/** A list answer: the items under `key` and Keystone's (always unpaged) links. */
export function renderList(key: string, items: readonly Json[], selfUrl: string): Json {
  return { [key]: items, links: { next: null, previous: null, self: selfUrl } };
}
