import { createHash } from 'node:crypto';
import type { Clock } from '../../../common/clock.ts';
import { isAllZero } from '../all-zero.ts';
import type { VolumeFile } from '../driver/types.ts';
import { BackupCorrupt, InvalidBackup } from '../errors.ts';
import { type Compressor, compressorFor } from './compression.ts';
import type { BackupObjectStore } from './object-store.ts';
import { pythonJsonDumps } from './python-json.ts';

/**
 * The backup engine: Cinder's chunked backup driver (cinder/backup/chunkeddriver.py) with its
 * Swift driver's naming (cinder/backup/drivers/swift.py), over a `BackupObjectStore`.
 *
 * A backup is objects under one prefix, `volume_<volume>/<YYYYmmddHHMMSS>/az_<az>_backup_<id>`
 * (the backup's `service_metadata`): chunks `<prefix>-00001`..., each at most `chunkSizeBytes`
 * of the volume, compressed unless that does not make it smaller; `<prefix>_sha256file`, the
 * SHA-256 of every `shaBlockSizeBytes` block of the volume; and `<prefix>_metadata`, naming each
 * chunk with its offset, length, compression and MD5, written last, so a backup without it
 * never finished. An incremental backup compares each block's SHA-256 with its parent's and
 * uploads only runs of changed blocks (offsets stay block-aligned). Restore reads the chain from
 * the full backup up, and checks each chunk's MD5 and every block's SHA-256 before any of it is
 * written to the volume. The volume is read and written one chunk at a time, never whole.
 */
export interface BackupEngineOptions {
  /** Cinder's `backup_swift_object_size` (default 50 MiB). */
  readonly chunkSizeBytes?: number;
  /** Cinder's `backup_swift_block_size` (default 32 KiB); the chunk size must be a multiple. */
  readonly shaBlockSizeBytes?: number;
  /** Cinder's `backup_compression_algorithm` (default zlib). */
  readonly compression?: string;
  /** Cinder's `storage_availability_zone`, part of the prefix (default nova). */
  readonly availabilityZone?: string;
  /** Cinder's `backup_swift_container` (default volumebackups), for a backup that names none. */
  readonly defaultContainer?: string;
  /** Chunks compressed and uploaded at once (memory holds about this many chunks plus one). */
  readonly uploadConcurrency?: number;
}

/** What the backup records keep of a finished backup (Cinder's Backup object fields). */
export interface StoredBackup {
  readonly id: string;
  readonly container: string;
  /** The object prefix (Cinder's `service_metadata`). */
  readonly serviceMetadata: string;
  readonly parentId: string | null;
}

/** The backup to make. */
export interface BackupRequest {
  readonly id: string;
  readonly volumeId: string;
  readonly name: string | null;
  readonly description: string | null;
  /** Cinder's `str(created_at)`, e.g. `2026-12-05 10:06:22+00:00`. */
  readonly createdAt: string;
  /** The container asked for; the default when omitted. */
  readonly container?: string;
  /** The backup this one is an incremental of. */
  readonly parent?: StoredBackup;
  /** Volume metadata kept in the backup (`volume_meta`), for the service to restore. */
  readonly volumeMeta?: unknown;
}

export interface BackupResult extends StoredBackup {
  /** Chunk objects written (Cinder's `object_count`). */
  readonly objectCount: number;
  /** Volume bytes those chunks hold, before compression. */
  readonly bytesUploaded: number;
}

export interface RestoreResult {
  /** Chunks written to the volume, over the whole chain. */
  readonly objectsRestored: number;
  /** The newest backup's `volume_meta`, for the service to apply. */
  readonly volumeMeta: unknown;
}

const DRIVER_VERSION = '1.0.0';
/** New volumes are written only where the full backup holds data, in pieces this big (Cinder's _write_nonzero). */
const NONZERO_PIECE = 1024 * 1024;

interface ChunkEntry {
  offset: number;
  length: number;
  compression: string;
  md5: string;
}

interface Metadata {
  version: string;
  backup_id: string;
  parent_id: string | null;
  objects: Array<Record<string, ChunkEntry>>;
  volume_meta?: unknown;
}

interface Sha256File {
  version: string;
  chunk_size: number;
  sha256s: string[];
}

export class ChunkedBackupEngine {
  private readonly store: BackupObjectStore;
  private readonly clock: Clock;
  private readonly chunkSize: number;
  private readonly shaBlock: number;
  private readonly compressor: Compressor | undefined;
  private readonly az: string;
  private readonly defaultContainer: string;
  private readonly concurrency: number;

  /** @throws {InvalidBackup} an unsupported compression algorithm */
  constructor(options: BackupEngineOptions, deps: { store: BackupObjectStore; clock: Clock }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.chunkSize = options.chunkSizeBytes ?? 52_428_800;
    this.shaBlock = options.shaBlockSizeBytes ?? 32_768;
    this.compressor = compressorFor(options.compression ?? 'zlib');
    this.az = options.availabilityZone ?? 'nova';
    this.defaultContainer = options.defaultContainer ?? 'volumebackups';
    this.concurrency = Math.max(1, options.uploadConcurrency ?? 2);
  }

  /**
   * Backs `volume` up (an incremental when `request.parent` is set). On any failure every
   * object written is deleted before the error is thrown.
   * @throws {InvalidBackup} (chunk size not a multiple of the block size, the parent's block
   * size differs, the volume grew since the parent), {BackupStoreError}
   */
  async backup(request: BackupRequest, volume: VolumeFile): Promise<BackupResult> {
    if (this.chunkSize % this.shaBlock !== 0) throw new InvalidBackup('Chunk size is not multiple of block size for creating hash.');
    let parentShas: string[] | undefined;
    if (request.parent) {
      const parentSha = await this.readSha256File(request.parent);
      if (parentSha.chunk_size !== this.shaBlock) {
        throw new InvalidBackup(`Hash block size has changed since the last backup. New hash block size: ${this.shaBlock}. Old hash block size: ${parentSha.chunk_size}. Do a full backup.`);
      }
      if (Math.ceil(volume.sizeBytes / this.shaBlock) > parentSha.sha256s.length) throw new InvalidBackup('Volume size increased since the last backup. Do a full backup.');
      parentShas = parentSha.sha256s;
    }
    if (volume.sizeBytes <= 0) throw new InvalidBackup(`volume size ${volume.sizeBytes} is invalid.`);

    const container = request.container ?? this.defaultContainer;
    await this.store.ensureContainer(container);
    const prefix = `volume_${request.volumeId}/${utcStamp(this.clock.now())}/az_${this.az}_backup_${request.id}`;
    const written: string[] = [];
    const objects: Array<Record<string, ChunkEntry>> = [];
    const sha256s: string[] = [];
    let bytesUploaded = 0;
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;

    const upload = (offset: number, data: Uint8Array): void => {
      const name = `${prefix}-${String(objects.length + 1).padStart(5, '0')}`;
      const entry: ChunkEntry = { offset, length: data.length, compression: 'none', md5: createHash('md5').update(data).digest('hex') };
      objects.push({ [name]: entry });
      written.push(name);
      bytesUploaded += data.length;
      const task = (async () => {
        const { algorithm, body } = await this.prepareOutput(data);
        entry.compression = algorithm;
        await this.store.put(container, name, body);
      })().then(
        () => {
          inFlight.delete(task);
        },
        (err: unknown) => {
          inFlight.delete(task);
          failure ??= err;
        },
      );
      inFlight.add(task);
    };

    try {
      let shaIndex = 0;
      for (let offset = 0; offset < volume.sizeBytes && failure === undefined; offset += this.chunkSize) {
        while (inFlight.size >= this.concurrency) await Promise.race(inFlight);
        if (failure !== undefined) break;
        const data = await volume.read(offset, this.chunkSize);
        if (data.length === 0) break;
        const shas = this.blockShas(data);
        sha256s.push(...shas);
        if (!parentShas) {
          upload(offset, data);
          continue;
        }
        // Runs of blocks whose SHA-256 differs from the parent's become chunks of their own.
        let runStart = -1;
        for (let i = 0; i < shas.length; i++, shaIndex++) {
          if (shas[i] !== parentShas[shaIndex]) {
            if (runStart === -1) runStart = i * this.shaBlock;
          } else if (runStart !== -1) {
            upload(offset + runStart, data.subarray(runStart, i * this.shaBlock));
            runStart = -1;
          }
        }
        if (runStart !== -1) upload(offset + runStart, data.subarray(runStart));
      }
      await Promise.all(inFlight);
      if (failure !== undefined) throw failure;

      const common = { backup_description: request.description, backup_id: request.id, backup_name: request.name, created_at: request.createdAt, version: DRIVER_VERSION, volume_id: request.volumeId };
      await this.putJson(container, `${prefix}_sha256file`, { ...common, chunk_size: this.shaBlock, sha256s }, written);
      await this.putJson(container, `${prefix}_metadata`, { ...common, objects, parent_id: request.parent?.id ?? null, volume_meta: request.volumeMeta ?? null }, written);
    } catch (err) {
      await Promise.allSettled(inFlight);
      await this.deleteNames(container, written);
      throw err;
    }
    return { id: request.id, container, serviceMetadata: prefix, parentId: request.parent?.id ?? null, objectCount: objects.length, bytesUploaded };
  }

  /**
   * Restores `chain` (the backup asked for first, then its parent, ... down to the full backup)
   * onto `volume`: the full backup first, each incremental over it. Every metadata and sha256
   * file is read and checked before the volume is touched; each chunk is checked before it is
   * written. `volumeIsNew`: the volume holds only zeros, so the full backup's zero pieces are
   * not written and the volume stays sparse.
   * @throws {InvalidBackup} (a broken chain, an unknown version, objects that do not match the
   * metadata, a volume too small), {BackupCorrupt}, {BackupObjectMissing}, {BackupStoreError}
   */
  async restore(chain: readonly StoredBackup[], volume: VolumeFile, options: { volumeIsNew: boolean }): Promise<RestoreResult> {
    if (chain.length === 0) throw new InvalidBackup('nothing to restore');
    chain.forEach((b, i) => {
      const expected = chain[i + 1]?.id ?? null;
      if (b.parentId !== expected) throw new InvalidBackup(`backup ${b.id} has parent ${b.parentId}, not ${expected}`);
    });
    const layers = [];
    for (const backup of [...chain].reverse()) {
      const metadata = await this.readJson<Metadata>(backup, `${backup.serviceMetadata}_metadata`);
      if (metadata.version !== DRIVER_VERSION) throw new InvalidBackup(`No support to restore backup version ${metadata.version}`);
      const sha = await this.readSha256File(backup);
      const listed = (await this.store.listNames(backup.container, backup.serviceMetadata)).filter((n) => n !== `${backup.serviceMetadata}_metadata` && n !== `${backup.serviceMetadata}_sha256file`);
      const named = metadata.objects.flatMap((o) => Object.keys(o));
      if (JSON.stringify([...listed].sort()) !== JSON.stringify([...named].sort())) throw new InvalidBackup('restore_backup aborted, actual object list does not match object list stored in metadata.');
      layers.push({ backup, metadata, sha });
    }
    let needed = 0;
    for (const layer of layers) for (const o of layer.metadata.objects) for (const e of Object.values(o)) needed = Math.max(needed, e.offset + e.length);
    if (needed > volume.sizeBytes) throw new InvalidBackup(`volume size ${volume.sizeBytes} is too small to restore backup of size ${needed}`);

    let restored = 0;
    for (const [layerIndex, layer] of layers.entries()) {
      const entries = layer.metadata.objects.map((o) => Object.entries(o)[0] as [string, ChunkEntry]);
      // One chunk is fetched while the one before it is checked and written.
      let next = entries[0] ? this.store.get(layer.backup.container, entries[0][0]) : undefined;
      for (let i = 0; i < entries.length; i++) {
        const [name, entry] = entries[i] as [string, ChunkEntry];
        const body = await (next as Promise<Uint8Array>);
        next = entries[i + 1] ? this.store.get(layer.backup.container, (entries[i + 1] as [string, ChunkEntry])[0]) : undefined;
        next?.catch(() => undefined); // awaited on its turn; a failure then is the one reported
        const data = await this.decompress(name, entry, body);
        this.check(name, entry, data, layer.sha);
        // Only the full backup may skip zeros on a new volume: an incremental's zeros replace data.
        if (options.volumeIsNew && layerIndex === 0) await writeNonzero(volume, entry.offset, data);
        else await volume.write(entry.offset, data);
        await volume.sync();
        restored++;
      }
    }
    return { objectsRestored: restored, volumeMeta: (layers.at(-1)?.metadata.volume_meta as unknown) ?? null };
  }

  /** Deletes every object of the backup (Cinder's delete_backup); objects already gone are no error. */
  async delete(backup: Pick<StoredBackup, 'container' | 'serviceMetadata'>): Promise<void> {
    await this.deleteNames(backup.container, await this.store.listNames(backup.container, backup.serviceMetadata));
  }

  private blockShas(data: Uint8Array): string[] {
    const shas: string[] = [];
    for (let at = 0; at < data.length; at += this.shaBlock) shas.push(createHash('sha256').update(data.subarray(at, at + this.shaBlock)).digest('hex'));
    return shas;
  }

  private async prepareOutput(data: Uint8Array): Promise<{ algorithm: string; body: Uint8Array }> {
    if (!this.compressor) return { algorithm: 'none', body: data };
    const compressed = await this.compressor.compress(data);
    // Cinder keeps a chunk that compression does not shrink as it is.
    if (compressed.length >= data.length) return { algorithm: 'none', body: data };
    return { algorithm: this.compressor.name, body: compressed };
  }

  private async decompress(name: string, entry: ChunkEntry, body: Uint8Array): Promise<Uint8Array> {
    const codec = compressorFor(entry.compression);
    if (!codec) return body;
    try {
      return await codec.decompress(body);
    } catch (err) {
      throw new BackupCorrupt(name, `does not decompress as ${entry.compression}: ${(err as Error).message}`);
    }
  }

  private check(name: string, entry: ChunkEntry, data: Uint8Array, sha: Sha256File): void {
    if (data.length !== entry.length) throw new BackupCorrupt(name, `holds ${data.length} bytes, the metadata says ${entry.length}`);
    const md5 = createHash('md5').update(data).digest('hex');
    if (md5 !== entry.md5) throw new BackupCorrupt(name, `MD5 ${md5} is not the recorded ${entry.md5}`);
    if (entry.offset % sha.chunk_size !== 0) throw new BackupCorrupt(name, `offset ${entry.offset} is not on a hash block boundary`);
    const first = entry.offset / sha.chunk_size;
    for (let b = 0, at = 0; at < data.length; b++, at += sha.chunk_size) {
      const got = createHash('sha256').update(data.subarray(at, at + sha.chunk_size)).digest('hex');
      if (got !== sha.sha256s[first + b]) throw new BackupCorrupt(name, `block ${first + b} (offset ${entry.offset + at}) does not match its SHA-256`);
    }
  }

  private readSha256File(backup: StoredBackup): Promise<Sha256File> {
    return this.readJson<Sha256File>(backup, `${backup.serviceMetadata}_sha256file`);
  }

  private async readJson<T>(backup: StoredBackup, name: string): Promise<T> {
    const bytes = await this.store.get(backup.container, name);
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as T;
    } catch {
      throw new BackupCorrupt(name, 'is not JSON');
    }
  }

  private async putJson(container: string, name: string, value: unknown, written: string[]): Promise<void> {
    written.push(name);
    await this.store.put(container, name, new TextEncoder().encode(pythonJsonDumps(value)));
  }

  private async deleteNames(container: string, names: readonly string[]): Promise<void> {
    for (const name of names) await this.store.delete(container, name).catch(() => undefined);
  }
}

/** `YYYYmmddHHMMSS` in UTC, as the Swift driver's prefix has it. */
function utcStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

async function writeNonzero(volume: VolumeFile, offset: number, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length; at += NONZERO_PIECE) {
    const piece = data.subarray(at, at + NONZERO_PIECE);
    if (!isAllZero(piece)) await volume.write(offset + at, piece);
  }
}
