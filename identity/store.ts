import type { Clock } from '../common/clock.ts';
import { type RecordStore, RecordExistsError, RecordVersionError, type StoredRecord } from '../client/record-store.ts';
import { listAllKeys, updateRecord } from '../client/record-update.ts';
import type { Assignment, AssignmentActor, AssignmentTarget } from './records.ts';

/**
 * Identity's state in the record store (client/record-store.ts), one record type per
 * resource. Ids are the primary keys; names that Keystone keeps unique have an index record
 * each, created first with create-if-absent, so two concurrent creates of one name never both
 * succeed:
 *
 *   domains/<id>, domain-names/<name>            projects/<id>, project-names/<domain>/<name>
 *   users/<id>, user-names/<domain>/<name>       groups/<id>, group-names/<domain>/<name>
 *   roles/<id>, role-names/<name>                role-implications/<prior>/<implied>
 *   group-members/<group>/<user> and user-groups/<user>/<group> (one membership, two keys)
 *   assignments/<target>/<actor>/<role>          (target `project:<id>`, `domain:<id>`,
 *                                                 `system:all`; actor `user:<id>`, `group:<id>`)
 *   services/<id>, endpoints/<id>, regions/<id>, credentials/<id>
 *   application-credentials/<id>, application-credential-names/<user>/<name>
 *   registered-limits/<id>, registered-limit-keys/<service>/<region>/<resource name>
 *   limits/<id>, limit-keys/<registered limit>/<project:<id> or domain:<id>>
 *   project-endpoints/<project>/<endpoint> and endpoint-projects/<endpoint>/<project>
 *                                                (one OS-EP-FILTER association, two keys)
 *   identity-providers/<id>, idp-remote-ids/<remote id>, service-providers/<id>
 *
 * Memberships, assignments and implications are whole in their keys: the listing alone
 * answers "who has what", without reading a record.
 */
export const T = {
  domains: 'domains',
  domainNames: 'domain-names',
  projects: 'projects',
  projectNames: 'project-names',
  users: 'users',
  userNames: 'user-names',
  groups: 'groups',
  groupNames: 'group-names',
  groupMembers: 'group-members',
  userGroups: 'user-groups',
  roles: 'roles',
  roleNames: 'role-names',
  implications: 'role-implications',
  assignments: 'assignments',
  services: 'services',
  endpoints: 'endpoints',
  regions: 'regions',
  credentials: 'credentials',
  appCreds: 'application-credentials',
  appCredNames: 'application-credential-names',
  registeredLimits: 'registered-limits',
  registeredLimitKeys: 'registered-limit-keys',
  limits: 'limits',
  limitKeys: 'limit-keys',
  projectEndpoints: 'project-endpoints',
  endpointProjects: 'endpoint-projects',
  identityProviders: 'identity-providers',
  idpRemoteIds: 'idp-remote-ids',
  serviceProviders: 'service-providers',
} as const;

interface NameIndex {
  readonly id: string;
  /** Wall-clock ms; an index whose record never appeared may be taken over after `DANGLING_MS`. */
  readonly created_at: number;
}

/**
 * A name index whose record does not exist is left by a create that failed between its two
 * writes (or a delete between its two); after this long it no longer blocks the name. Younger
 * ones may belong to a create still under way.
 */
const DANGLING_MS = 60_000;

/** How many records a scan reads at once. */
const READ_CONCURRENCY = 8;

export class IdentityStore {
  readonly records: RecordStore;
  private readonly clock: Clock;
  /** Records seen by `scan`, by type and key, reused while the listing shows the same version. */
  private readonly cache = new Map<string, Map<string, StoredRecord>>();

  constructor(records: RecordStore, clock: Clock) {
    this.records = records;
    this.clock = clock;
  }

  async get<R>(type: string, id: string): Promise<R | undefined> {
    return (await this.records.get<R>(type, id))?.value;
  }

  /** Every key of a type under `prefix`. */
  async keys(type: string, prefix?: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of listAllKeys(this.records, type, prefix)) keys.push(key);
    return keys;
  }

  /**
   * Every record of a type (under `prefix`), in key order. Records whose listed version is the
   * one read before are not read again, so listing a type that rarely changes costs one listing.
   */
  async scan<R>(type: string, prefix?: string): Promise<R[]> {
    let cached = this.cache.get(type);
    if (!cached) this.cache.set(type, (cached = new Map()));
    const entries: { key: string; version: string }[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.records.list(type, { ...(prefix !== undefined ? { prefix } : {}), ...(marker !== undefined ? { marker } : {}) });
      entries.push(...page.entries);
      if (!page.truncated || page.entries.length === 0) break;
      marker = (page.entries.at(-1) as { key: string }).key;
    }
    const out: (R | undefined)[] = new Array(entries.length);
    const stale: number[] = [];
    entries.forEach((e, i) => {
      const hit = cached.get(e.key);
      if (hit && hit.version === e.version) out[i] = hit.value as R;
      else stale.push(i);
    });
    for (let i = 0; i < stale.length; i += READ_CONCURRENCY) {
      await Promise.all(
        stale.slice(i, i + READ_CONCURRENCY).map(async (index) => {
          const key = (entries[index] as { key: string }).key;
          const record = await this.records.get<R>(type, key);
          if (record) cached.set(key, record);
          else cached.delete(key);
          out[index] = record?.value;
        }),
      );
    }
    if (prefix === undefined) {
      const listed = new Set(entries.map((e) => e.key));
      for (const key of cached.keys()) if (!listed.has(key)) cached.delete(key);
    }
    return out.filter((r): r is Awaited<R> => r !== undefined) as R[];
  }

  /** The record a name index points to, if both exist. */
  async byName<R>(type: string, nameType: string, nameKey: string): Promise<R | undefined> {
    const index = await this.get<NameIndex>(nameType, nameKey);
    return index ? this.get<R>(type, index.id) : undefined;
  }

  /**
   * Creates a record with a unique name: the name index first (create-if-absent), then the
   * record; the index is removed again if the record could not be written.
   * @throws the error `conflict()` makes when the name is taken.
   */
  async createNamed<R extends { readonly id: string }>(type: string, nameType: string, nameKey: string, record: R, conflict: () => Error): Promise<void> {
    await this.claimName(type, nameType, nameKey, record.id, conflict);
    try {
      await this.records.create(type, record.id, record);
    } catch (err) {
      await this.releaseName(nameType, nameKey, record.id).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Changes a record by compare-and-swap; a changed name moves its index (the new one claimed
   * first, so a rename onto a taken name fails before anything changes).
   * @returns the record as written, or undefined when there is none.
   */
  async update<R extends { readonly id: string }>(type: string, id: string, change: (current: R) => R, names?: { nameType: string; keyOf: (r: R) => string; conflict: () => Error }): Promise<R | undefined> {
    const current = await this.get<R>(type, id);
    if (!current) return undefined;
    const next = change(current);
    const claimed = names && names.keyOf(next) !== names.keyOf(current) ? names.keyOf(next) : undefined;
    if (names && claimed !== undefined) await this.claimName(type, names.nameType, claimed, id, names.conflict);
    let written: R | undefined;
    try {
      written = (await updateRecord<R>(this.records, type, id, (r) => change(r.value)))?.value;
    } catch (err) {
      if (names && claimed !== undefined) await this.releaseName(names.nameType, claimed, id).catch(() => undefined);
      throw err;
    }
    if (names && claimed !== undefined) await this.releaseName(names.nameType, names.keyOf(current), id);
    return written;
  }

  /** Removes a record and its name index; false when there was no record. */
  async deleteNamed(type: string, nameType: string, nameKey: string, id: string): Promise<boolean> {
    const existed = await this.records.delete(type, id);
    await this.releaseName(nameType, nameKey, id);
    return existed;
  }

  /** Creates an index-free record (fresh id). */
  async create(type: string, record: { readonly id: string }): Promise<void> {
    await this.records.create(type, record.id, record);
  }

  /** Writes a record whose key holds all there is to know (memberships, assignments). */
  async mark(type: string, key: string): Promise<void> {
    await this.records.put(type, key, {});
  }

  private async claimName(type: string, nameType: string, nameKey: string, id: string, conflict: () => Error): Promise<void> {
    const index: NameIndex = { id, created_at: this.clock.now() };
    try {
      await this.records.create(nameType, nameKey, index);
      return;
    } catch (err) {
      if (!(err instanceof RecordExistsError)) throw err;
    }
    const existing = await this.records.get<NameIndex>(nameType, nameKey);
    if (existing && (existing.value.created_at > this.clock.now() - DANGLING_MS || (await this.records.get(type, existing.value.id)))) throw conflict();
    try {
      if (existing) await this.records.put(nameType, nameKey, index, { ifVersion: existing.version });
      else await this.records.create(nameType, nameKey, index);
    } catch (err) {
      if (err instanceof RecordExistsError || err instanceof RecordVersionError) throw conflict();
      throw err;
    }
  }

  /** Removes a name index if it still points to `id`. */
  private async releaseName(nameType: string, nameKey: string, id: string): Promise<void> {
    const index = await this.records.get<NameIndex>(nameType, nameKey);
    if (!index || index.value.id !== id) return;
    await this.records.delete(nameType, nameKey, { ifVersion: index.version }).catch((err: unknown) => {
      if (!(err instanceof RecordVersionError)) throw err;
    });
  }
}

/** `project:<id>`, `domain:<id>`, `system:all`. */
export function targetKey(target: AssignmentTarget): string {
  if ('project' in target) return `project:${target.project}`;
  if ('domain' in target) return `domain:${target.domain}`;
  return 'system:all';
}

export function actorKey(actor: AssignmentActor): string {
  return 'user' in actor ? `user:${actor.user}` : `group:${actor.group}`;
}

export function assignmentKey(a: Assignment): string {
  return `${targetKey(a.target)}/${actorKey(a.actor)}/${a.roleId}`;
}

/** The assignment a key names, or undefined for a key that is not one. */
export function parseAssignmentKey(key: string): Assignment | undefined {
  const m = /^(project|domain|system):([^/]+)\/(user|group):([^/]+)\/([^/]+)$/.exec(key);
  if (!m) return undefined;
  const [, tk, tid, ak, aid, roleId] = m as unknown as [string, string, string, string, string, string];
  const target: AssignmentTarget = tk === 'project' ? { project: tid } : tk === 'domain' ? { domain: tid } : { system: 'all' };
  const actor: AssignmentActor = ak === 'user' ? { user: aid } : { group: aid };
  return { target, actor, roleId };
}
