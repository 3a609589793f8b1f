import { hash } from 'node:crypto';
import type { BackupObjectStore } from './object-store.ts';
import { BackupObjectMissing, BackupStoreError } from './store-errors.ts';

/** The backup store's twin: containers of objects in memory; `puts` counts every object written. */
export class MemoryBackupObjectStore implements BackupObjectStore {
  private readonly containers = new Map<string, Map<string, Uint8Array>>();
  puts = 0;

  async ensureContainer(container: string): Promise<void> {
    if (!this.containers.has(container)) this.containers.set(container, new Map());
  }

  async listNames(container: string, prefix: string): Promise<string[]> {
    return [...(this.containers.get(container)?.keys() ?? [])].filter((n) => n.startsWith(prefix)).sort();
  }

  async put(container: string, name: string, data: Uint8Array, md5?: string): Promise<void> {
    const objects = this.containers.get(container);
    if (!objects) throw new BackupStoreError(`PUT ${container}/${name}: 404`);
    // Swift's object server answers 422 to a body that is not its ETag, and stores nothing.
    if (md5 !== undefined && hash('md5', data, 'hex') !== md5) throw new BackupStoreError(`PUT ${container}/${name}: 422`);
    objects.set(name, new Uint8Array(data)); // a copy (a Buffer's slice would be a view)
    this.puts++;
  }

  async get(container: string, name: string): Promise<Uint8Array> {
    const data = this.containers.get(container)?.get(name);
    if (!data) throw new BackupObjectMissing(container, name);
    return new Uint8Array(data);
  }

  async getInto(container: string, name: string, into: Uint8Array): Promise<Uint8Array> {
    const data = this.containers.get(container)?.get(name);
    if (!data) throw new BackupObjectMissing(container, name);
    if (data.length > into.length) return new Uint8Array(data);
    into.set(data);
    return into.subarray(0, data.length);
  }

  async delete(container: string, name: string): Promise<void> {
    this.containers.get(container)?.delete(name);
  }

  /** Replaces an object's bytes behind the engine's back (tests of corruption). */
  tamper(container: string, name: string, data: Uint8Array): void {
    this.containers.get(container)?.set(name, data);
  }
}
