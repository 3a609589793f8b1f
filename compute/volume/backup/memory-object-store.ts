import { hash } from 'node:crypto';
import { markOwnChunks } from '../../../common/release-buffer.ts';
import type { BackupObjectStore, ObjectStream, PiecedBody } from './object-store.ts';
import { BackupObjectMissing, BackupStoreError } from './store-errors.ts';

/**
 * The backup store's twin: containers of objects in memory; `puts` counts every object written.
 * A stream is read in pieces of an odd size, copies of their own, so readers meet pieces that
 * split whatever they hold.
 */
export class MemoryBackupObjectStore implements BackupObjectStore {
  private readonly containers = new Map<string, Map<string, Uint8Array>>();
  puts = 0;

  async ensureContainer(container: string): Promise<void> {
    if (!this.containers.has(container)) this.containers.set(container, new Map());
  }

  async listNames(container: string, prefix: string): Promise<string[]> {
    return [...(this.containers.get(container)?.keys() ?? [])].filter((n) => n.startsWith(prefix)).sort();
  }

  async put(container: string, name: string, body: Uint8Array | PiecedBody, md5?: string): Promise<void> {
    const objects = this.containers.get(container);
    if (!objects) throw new BackupStoreError(`PUT ${container}/${name}: 404`);
    const data = body instanceof Uint8Array ? body : joined(body, `${container}/${name}`);
    // Swift's object server answers 422 to a body that is not its ETag, and stores nothing.
    if (md5 !== undefined && hash('md5', data, 'hex') !== md5) throw new BackupStoreError(`PUT ${container}/${name}: 422`);
    objects.set(name, data === body ? new Uint8Array(data) : data); // a copy (a Buffer's slice would be a view)
    this.puts++;
  }

  async get(container: string, name: string): Promise<Uint8Array> {
    const data = this.containers.get(container)?.get(name);
    if (!data) throw new BackupObjectMissing(container, name);
    return new Uint8Array(data);
  }

  async getStream(container: string, name: string): Promise<ObjectStream> {
    const data = this.containers.get(container)?.get(name);
    if (!data) throw new BackupObjectMissing(container, name);
    const pieces = async function* (): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < data.length; at += STREAM_PIECE_BYTES) yield new Uint8Array(data.subarray(at, at + STREAM_PIECE_BYTES)); // a copy, whatever `data` is
    };
    return { length: data.length, pieces: markOwnChunks(pieces()) };
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

/** Odd, so a stream's pieces fall anywhere in what they carry. */
const STREAM_PIECE_BYTES = 65_521;

/** A pieced body's bytes (a store holds them whole), refused when they are not its `length`. */
function joined(body: PiecedBody, path: string): Uint8Array {
  const data = new Uint8Array(body.length);
  let at = 0;
  for (const piece of body.pieces()) {
    if (at + piece.length > data.length) throw new BackupStoreError(`PUT ${path}: more than its length, ${body.length}`);
    data.set(piece, at);
    at += piece.length;
  }
  if (at !== data.length) throw new BackupStoreError(`PUT ${path}: ${at} bytes of ${body.length}`);
  return data;
}
