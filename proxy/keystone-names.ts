import type { Clock } from '../common/clock.ts';

/** How many names a proxy remembers. */
const MAX_NAMES = 10_000;

/** Reads a record of the identity service (`IdentityRecords.record`). */
export interface IdentityRecordReader {
  record(type: string, key: string): Promise<unknown>;
}

/**
 * User and project names by id, for container ACLs that name them (`project:user`). A token
 * carries ids only; keystonemiddleware learns the names when Keystone validates the token and
 * keeps them for `token_cache_time`, and so does this: each name is read from the identity
 * service's record (`users/<id>`, `projects/<id>`) once per `ttlMs`. A rename therefore
 * reaches ACL checks within that time, as with Keystone's validation cache.
 */
export class KeystoneNames {
  private readonly reader: IdentityRecordReader;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly cache = new Map<string, { name: string | undefined; until: number }>();

  constructor(reader: IdentityRecordReader, clock: Clock, ttlMs: number) {
    this.reader = reader;
    this.clock = clock;
    this.ttlMs = ttlMs;
  }

  user(id: string): Promise<string | undefined> {
    return this.name('users', id);
  }

  project(id: string): Promise<string | undefined> {
    return this.name('projects', id);
  }

  private async name(type: string, id: string): Promise<string | undefined> {
    if (id === '') return undefined;
    const key = `${type}/${id}`;
    const now = this.clock.monotonic();
    const known = this.cache.get(key);
    if (known && known.until > now) return known.name;
    const record = await this.reader.record(type, id);
    const name = typeof record === 'object' && record !== null && typeof (record as { name?: unknown }).name === 'string' ? (record as { name: string }).name : undefined;
    this.cache.delete(key);
    if (this.cache.size >= MAX_NAMES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { name, until: now + this.ttlMs });
    return name;
  }
}
