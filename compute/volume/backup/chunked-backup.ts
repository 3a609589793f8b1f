import type { Clock } from '../../../common/clock.ts';
import { hasOwnChunks, releaseBuffer } from '../../../common/release-buffer.ts';
import type { VolumeFile } from '../driver/types.ts';
import { BackupCorrupt, InvalidBackup } from '../errors.ts';
import type { OpenedChunk, PreparedChunk, PrepareTask } from './chunk-worker.ts';
import { type ChunkBuffers, sharedChunkBuffers } from './chunk-buffers.ts';
import { type ChunkWorkers, sharedChunkWorkers } from './chunk-workers.ts';
import { compressorFor } from './compression.ts';
import type { BackupObjectStore } from './object-store.ts';
import { pythonJsonDumps } from './python-json.ts';
import { DIGEST_BYTES, type Sha256File, Sha256FileDecoder, sha256FileBody } from './sha256-file.ts';

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
 * the full backup up, and checks each chunk's length and every block's SHA-256 before any of it
 * is written to the volume. The volume is read and written one chunk at a time, never whole.
 * Hashing, compression and checks run on the chunk workers' threads (`chunk-workers.ts`); this
 * class orders the work and does the I/O.
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
  /**
   * Chunks in flight at once (default 4): read and not yet uploaded in a backup, fetched and not
   * yet written in a restore. Memory holds about this many chunks, plus one per chunk worker.
   */
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
/** Object PUTs in flight at once: an incremental's small runs upload this many at a time. */
const MAX_UPLOADS = 16;

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

export class ChunkedBackupEngine {
  private readonly store: BackupObjectStore;
  private readonly clock: Clock;
  private readonly chunkSize: number;
  private readonly shaBlock: number;
  private readonly compression: string;
  private readonly az: string;
  private readonly defaultContainer: string;
  private readonly concurrency: number;
  private readonly workers: ChunkWorkers;
  private readonly buffers: ChunkBuffers;

  /**
   * `deps.workers`: the threads for the CPU work; `deps.buffers`: chunk memory kept for reuse
   * (default: the process's shared ones).
   * @throws {InvalidBackup} an unsupported compression algorithm
   */
  constructor(options: BackupEngineOptions, deps: { store: BackupObjectStore; clock: Clock; workers?: ChunkWorkers; buffers?: ChunkBuffers }) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.chunkSize = options.chunkSizeBytes ?? 52_428_800;
    this.shaBlock = options.shaBlockSizeBytes ?? 32_768;
    this.compression = compressorFor(options.compression ?? 'zlib')?.name ?? 'none';
    this.az = options.availabilityZone ?? 'nova';
    this.defaultContainer = options.defaultContainer ?? 'volumebackups';
    this.concurrency = Math.max(1, options.uploadConcurrency ?? 4);
    this.workers = deps.workers ?? sharedChunkWorkers();
    this.buffers = deps.buffers ?? sharedChunkBuffers();
  }

  /**
   * Backs the volume up (an incremental when `request.parent` is set). On any failure every
   * object written is deleted before the error is thrown. `opening` may be the volume still
   * being opened (the caller closes it either way, once this settles); the parent's sha256 file
   * and the container are fetched meanwhile.
   *
   * The volume is read in order, one chunk at a time; the chunk workers hash and compress
   * several chunks at once (one per thread, and one more waiting) while earlier ones upload.
   * Chunks are named and listed in volume order whatever order the threads finish in. Memory
   * holds at most `uploadConcurrency` chunks' worth of data read and not yet uploaded.
   * @throws {InvalidBackup} (chunk size not a multiple of the block size, the parent's block
   * size differs, the volume grew since the parent), {BackupStoreError}
   */
  async backup(request: BackupRequest, opening: VolumeFile | Promise<VolumeFile>): Promise<BackupResult> {
    if (this.chunkSize % this.shaBlock !== 0) throw new InvalidBackup('Chunk size is not multiple of block size for creating hash.');
    const container = request.container ?? this.defaultContainer;
    // The parent's sha256 file (2.3 MB of JSON per GiB) and the container are fetched while the
    // volume is still being opened (a qcow2 volume is marked, then its qemu-nbd started).
    const fetched = Promise.all([request.parent ? this.readSha256File(request.parent) : undefined, this.store.ensureContainer(container)]);
    fetched.catch(() => undefined); // awaited below, or settled before a refusal is thrown
    let volume: VolumeFile;
    try {
      volume = await opening;
      if (volume.sizeBytes <= 0) throw new InvalidBackup(`volume size ${volume.sizeBytes} is invalid.`);
    } catch (err) {
      await fetched.catch(() => undefined);
      throw err;
    }
    // An incremental of a volume that tracks its changes since the parent's backup reads only
    // those (the rest is the parent's, block for block).
    const tracking = request.parent && volume.changedSince ? volume.changedSince(request.parent.id) : undefined;
    tracking?.catch(() => undefined); // awaited below, or settled before a refusal is thrown
    // Otherwise the first chunk is read while the parent's sha256 file is still coming: an
    // incremental is a read of the volume, and that starts now.
    const firstRead = tracking ? undefined : this.readChunk(volume, 0);
    firstRead?.catch(() => undefined); // awaited below, or settled before a refusal is thrown
    let parentShas: Uint8Array | undefined;
    let changed: ReadonlyArray<readonly [number, number]> | undefined;
    try {
      const [[parentSha], tracked] = await Promise.all([fetched, tracking]);
      changed = tracked;
      if (parentSha) {
        if (parentSha.chunkSize !== this.shaBlock) {
          throw new InvalidBackup(`Hash block size has changed since the last backup. New hash block size: ${this.shaBlock}. Old hash block size: ${parentSha.chunkSize}. Do a full backup.`);
        }
        if (Math.ceil(volume.sizeBytes / this.shaBlock) * DIGEST_BYTES > parentSha.digests.length) throw new InvalidBackup('Volume size increased since the last backup. Do a full backup.');
        parentShas = parentSha.digests;
      }
    } catch (err) {
      await firstRead?.catch(() => undefined);
      throw err;
    }
    const prefix = `volume_${request.volumeId}/${utcStamp(this.clock.now())}/az_${this.az}_backup_${request.id}`;
    const written: string[] = [];
    const objects: Array<Record<string, ChunkEntry>> = [];
    /** Every chunk's block digests so far, in volume order. */
    const sha256s: Uint8Array[] = [];
    let bytesUploaded = 0;
    /** Chunks being hashed and compressed, oldest first. */
    const preparing: Array<{ offset: number; size: number; result: Promise<PreparedChunk> }> = [];
    const uploads = new Set<Promise<void>>();
    const budget = this.concurrency * this.chunkSize;
    let held = 0; // bytes read and not yet uploaded (being prepared, or bodies being sent)
    let failure: unknown;
    let shaFile: Promise<void> | undefined;
    const common = { backup_description: request.description, backup_id: request.id, backup_name: request.name, created_at: request.createdAt, version: DRIVER_VERSION, volume_id: request.volumeId };

    /** Objects waiting for one of the `MAX_UPLOADS` places, in volume order. */
    const waiting: Array<() => void> = [];
    /**
     * Sends one object, now or when a place frees; `held` counts `extra` bytes (memory of the
     * body's own) until it is sent. Taking a chunk never waits for a place, so every SHA-256 is
     * known (and the sha256 file goes up) while a tracked incremental's extents still upload.
     */
    const upload = (name: string, body: Uint8Array, md5: string, extra: number, done: () => void): void => {
      held += extra;
      const start = (): void => {
        const task = this.store.put(container, name, body, md5).then(
          () => {
            held -= extra;
            uploads.delete(task);
            done();
            next();
          },
          (err: unknown) => {
            held -= extra;
            uploads.delete(task);
            failure ??= err;
            waiting.length = 0;
          },
        );
        uploads.add(task);
      };
      if (uploads.size < MAX_UPLOADS && waiting.length === 0) start();
      else waiting.push(start);
    };
    const next = (): void => {
      if (failure === undefined && uploads.size < MAX_UPLOADS) waiting.shift()?.();
    };
    /** Settles when every object sent or waiting is sent (or one failed). */
    const allSent = async (): Promise<void> => {
      while (uploads.size > 0) await Promise.allSettled([...uploads]);
    };
    /** Takes the oldest chunk's pieces, in order, into the metadata and on to upload. */
    const takeOldest = async (): Promise<void> => {
      const chunk = preparing.shift() as (typeof preparing)[number];
      const prepared = await chunk.result;
      sha256s.push(prepared.shas);
      // The chunk's memory (read into, compressed into) stays held until no upload sends from
      // it, then is reused: it is shared with the threads, so nothing else stops a later chunk
      // from being read into it while an upload still sends it.
      const memory = new Set([prepared.data.buffer, prepared.out.buffer]);
      let users = prepared.pieces.filter((p) => memory.has(p.body.buffer)).length;
      const release = (): void => {
        held -= chunk.size;
        for (const m of memory) this.reuse(m);
      };
      if (users === 0) release();
      for (const piece of prepared.pieces) {
        if (failure !== undefined) return;
        const name = `${prefix}-${String(objects.length + 1).padStart(5, '0')}`;
        objects.push({ [name]: { offset: chunk.offset + piece.start, length: piece.length, compression: piece.compression, md5: piece.md5 } });
        written.push(name);
        bytesUploaded += piece.length;
        const inChunk = memory.has(piece.body.buffer);
        upload(name, piece.body, piece.bodyMd5, inChunk ? 0 : piece.body.length, () => {
          if (inChunk && --users === 0) release();
        });
      }
    };

    try {
      for (let offset = 0; offset < volume.sizeBytes && failure === undefined; offset += this.chunkSize) {
        // Room for one more chunk: a thread free (or about to be), and the memory budget.
        while (failure === undefined && (preparing.length > this.workers.threads || (held + this.chunkSize > budget && (preparing.length > 0 || uploads.size > 0)))) {
          if (preparing.length > 0) await takeOldest();
          else await Promise.race(uploads);
        }
        if (failure !== undefined) break;
        const first = offset / this.shaBlock;
        const dirty = changed && parentShas ? blocksWithin(changed, offset, Math.min(this.chunkSize, volume.sizeBytes - offset), this.shaBlock) : undefined;
        if (dirty?.length === 0) {
          // Nothing in this chunk changed since the parent: its blocks are the parent's, unread.
          const shas = (parentShas as Uint8Array).subarray(first * DIGEST_BYTES, (first + Math.ceil(Math.min(this.chunkSize, volume.sizeBytes - offset) / this.shaBlock)) * DIGEST_BYTES);
          preparing.push({ offset, size: 0, result: Promise.resolve({ data: new Uint8Array(0), out: new Uint8Array(0), shas, pieces: [] }) });
          continue;
        }
        const data = await (dirty ? this.readBlocks(volume, offset, dirty) : offset === 0 && firstRead ? firstRead : this.readChunk(volume, offset));
        if (data.length === 0) break;
        const out = this.compression === 'none' ? new Uint8Array(0) : this.buffers.take(this.chunkSize);
        const task: PrepareTask = {
          data,
          out,
          blockSize: this.shaBlock,
          compression: this.compression,
          // A copy: a view would take the whole list's memory along to the thread.
          ...(parentShas ? { parentShas: parentShas.slice(first * DIGEST_BYTES, (first + Math.ceil(data.length / this.shaBlock)) * DIGEST_BYTES) } : {}),
          ...(dirty ? { dirty } : {}),
        };
        const size = data.length;
        const result = this.workers.prepare(task);
        result.catch(() => undefined); // awaited in its turn; a failure then is the one reported
        held += size;
        preparing.push({ offset, size, result });
      }
      while (preparing.length > 0 && failure === undefined) await takeOldest();
      // Every SHA-256 is known: the sha256 file goes up beside the last chunks, the metadata
      // (which makes the backup exist) only after all of them.
      if (failure === undefined) {
        const name = `${prefix}_sha256file`;
        written.push(name);
        shaFile = this.store.put(container, name, sha256FileBody({ ...common, chunk_size: this.shaBlock }, sha256s));
        shaFile.catch(() => undefined); // awaited below
      }
      await allSent();
      if (failure !== undefined) throw failure;
      await shaFile;
      await this.putJson(container, `${prefix}_metadata`, { ...common, objects, parent_id: request.parent?.id ?? null, volume_meta: request.volumeMeta ?? null }, written);
    } catch (err) {
      await firstRead?.catch(() => undefined);
      await Promise.allSettled(preparing.map((p) => p.result));
      failure ??= err;
      waiting.length = 0;
      await allSent();
      await shaFile?.catch(() => undefined);
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
   *
   * Up to `uploadConcurrency` chunks are fetched, opened and checked at once (on the chunk
   * workers), and written strictly in order, so an incremental's chunks land over its parent's.
   * The volume is synced before this returns (and while it is written, so the last sync is short).
   * @throws {InvalidBackup} (a broken chain, an unknown version or compression, objects that do
   * not match the metadata, a volume too small), {BackupCorrupt}, {BackupObjectMissing},
   * {BackupStoreError}
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
      const blockSize = sha.chunkSize;
      if (typeof blockSize !== 'number' || !Number.isSafeInteger(blockSize) || blockSize <= 0) throw new BackupCorrupt(`${backup.serviceMetadata}_sha256file`, `chunk_size ${JSON.stringify(blockSize)} is not a block size`);
      layers.push({ backup, metadata, sha, blockSize });
    }
    let needed = 0;
    for (const layer of layers) for (const o of layer.metadata.objects) for (const e of Object.values(o)) needed = Math.max(needed, e.offset + e.length);
    if (needed > volume.sizeBytes) throw new InvalidBackup(`volume size ${volume.sizeBytes} is too small to restore backup of size ${needed}`);

    // Every chunk of the chain, in the order it is written; checked before anything is fetched.
    const chunks = layers.flatMap((layer, layerIndex) =>
      layer.metadata.objects.map((o) => {
        const [name, entry] = Object.entries(o)[0] as [string, ChunkEntry];
        compressorFor(entry.compression); // an algorithm we cannot open fails the restore before it starts
        if (entry.offset % layer.blockSize !== 0) throw new BackupCorrupt(name, `offset ${entry.offset} is not on a hash block boundary`);
        return { layer, layerIndex, name, entry };
      }),
    );
    const open = async (chunk: (typeof chunks)[number]): Promise<OpenedChunk> => {
      const { layer, layerIndex, name, entry } = chunk;
      // Into reused memory when the store can (a stored body is at most the chunk's length).
      const body = this.store.getInto && entry.length <= this.chunkSize ? await this.store.getInto(layer.backup.container, name, this.buffers.take(this.chunkSize)) : owned(await this.store.get(layer.backup.container, name));
      const { blockSize } = layer;
      const first = entry.offset / blockSize;
      // Only the full backup may skip zeros on a new volume: an incremental's zeros replace data.
      const nonzero = options.volumeIsNew && layerIndex === 0 ? { nonzeroPiece: NONZERO_PIECE } : {};
      // A compressed chunk opens into reused memory (a chunk bigger than ours, from another configuration, into its own).
      const out = entry.compression === 'none' ? new Uint8Array(0) : entry.length <= this.chunkSize ? this.buffers.take(this.chunkSize) : new Uint8Array(entry.length);
      const opened = await this.workers.open({ body, out, compression: entry.compression, length: entry.length, offset: entry.offset, blockSize, shas: layer.sha.digests.slice(first * DIGEST_BYTES, (first + Math.ceil(entry.length / blockSize)) * DIGEST_BYTES), ...nonzero });
      // A compressed body's memory is free once opened; an uncompressed one is the data, reused after its write.
      if (entry.compression !== 'none') this.reuse(body.buffer);
      return opened;
    };
    const opening: Array<Promise<OpenedChunk>> = [];
    const fill = (next: number): void => {
      for (let i = next + opening.length; i < chunks.length && opening.length < this.concurrency; i++) {
        const p = open(chunks[i] as (typeof chunks)[number]);
        p.catch(() => undefined); // awaited in its turn; a failure then is the one reported
        opening.push(p);
      }
    };
    // Past the page cache where the volume can: a restore does not read its bytes back, and
    // their copy into the cache was a fifth of its CPU (chunk memory is page-aligned for it).
    const write = volume.writeDirect ? volume.writeDirect.bind(volume) : volume.write.bind(volume);
    // The volume is flushed while later chunks are fetched and written: one sync at a time,
    // started after a chunk's writes when none runs, so the last sync finds only the last
    // chunks dirty (one sync at the end left the whole volume's writeback to it, ~0.6 s a GiB).
    let flushing: Promise<void> | undefined;
    let flushFailure: unknown;
    const flush = (): void => {
      if (flushing) return;
      flushing = volume.sync().then(
        () => {
          flushing = undefined;
        },
        (err: unknown) => {
          flushing = undefined;
          flushFailure ??= err;
        },
      );
    };
    try {
      for (let i = 0; i < chunks.length; i++) {
        fill(i);
        const { name, entry } = chunks[i] as (typeof chunks)[number];
        const opened = await (opening.shift() as Promise<OpenedChunk>);
        fill(i + 1);
        if ('corrupt' in opened) throw new BackupCorrupt(name, opened.corrupt);
        if (flushFailure !== undefined) throw flushFailure;
        // A chunk's pieces do not overlap: they are written at once (positional writes); the
        // next chunk waits for them, so an incremental's chunks still land over their parent's.
        const pieces = opened.nonzero ?? [[0, opened.data.length]];
        const written = await Promise.allSettled(pieces.map(([start, end]) => write(entry.offset + start, opened.data.subarray(start, end))));
        for (const w of written) if (w.status === 'rejected') throw w.reason;
        this.reuse(opened.data.buffer);
        flush();
      }
      await flushing;
      if (flushFailure !== undefined) throw flushFailure;
      await volume.sync();
    } finally {
      await Promise.allSettled(opening);
      await flushing;
    }
    return { objectsRestored: chunks.length, volumeMeta: (layers.at(-1)?.metadata.volume_meta as unknown) ?? null };
  }

  /** Deletes every object of the backup (Cinder's delete_backup); objects already gone are no error. */
  async delete(backup: Pick<StoredBackup, 'container' | 'serviceMetadata'>): Promise<void> {
    await this.deleteNames(backup.container, await this.store.listNames(backup.container, backup.serviceMetadata));
  }

  /** Keeps chunk-sized memory (`ChunkBuffers`') for the next chunk; any other is left to the collector. */
  private reuse(memory: ArrayBufferLike): void {
    if (memory instanceof SharedArrayBuffer && memory.byteLength === this.chunkSize) this.buffers.give(memory);
  }

  /** The chunk at `offset`, in reused memory when the volume can read into it; its whole buffer is the caller's. */
  private async readChunk(volume: VolumeFile, offset: number): Promise<Uint8Array> {
    if (!volume.readInto) return owned(await volume.read(offset, this.chunkSize));
    const buffer = this.buffers.take(this.chunkSize);
    return buffer.subarray(0, await volume.readInto(buffer, offset));
  }

  /**
   * The chunk at `offset` with only its `dirty` block ranges read (the rest of its memory is
   * left as it was: the worker hashes and uploads only those blocks).
   */
  private async readBlocks(volume: VolumeFile, offset: number, dirty: ReadonlyArray<readonly [number, number]>): Promise<Uint8Array> {
    const length = Math.min(this.chunkSize, volume.sizeBytes - offset);
    const buffer = this.buffers.take(this.chunkSize);
    await Promise.all(
      dirty.map(async ([first, end]) => {
        const start = first * this.shaBlock;
        const into = buffer.subarray(start, Math.min(length, end * this.shaBlock));
        let got: number;
        if (volume.readInto) got = await volume.readInto(into, offset + start);
        else {
          const read = await volume.read(offset + start, into.length);
          into.set(read);
          got = read.length;
        }
        if (got !== into.length) throw new InvalidBackup(`volume read ${got} bytes at ${offset + start}, expected ${into.length}`);
      }),
    );
    return buffer.subarray(0, length);
  }

  /** The backup's sha256 file, read as it arrives: only the digests are held, never its text. */
  private async readSha256File(backup: StoredBackup): Promise<Sha256File> {
    const name = `${backup.serviceMetadata}_sha256file`;
    const { length, pieces } = await this.store.getStream(backup.container, name);
    const decoder = new Sha256FileDecoder(length);
    // Pieces nobody else holds go back as soon as they are read (socket memory: see releaseBuffer).
    const release = hasOwnChunks(pieces);
    try {
      for await (const piece of pieces) {
        decoder.write(piece);
        if (release) releaseBuffer(piece);
      }
      return decoder.end();
    } catch (err) {
      // The decoder's (a store's failure is a BackupStoreError, its own).
      if (err instanceof SyntaxError) throw new BackupCorrupt(name, `is not a sha256 file: ${err.message}`);
      throw err;
    }
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

/**
 * The `[first, end)` block ranges (block indexes within the chunk) of the chunk at `offset`,
 * `length` bytes long, that `changed` byte ranges touch, rounded out to whole blocks, merged.
 */
export function blocksWithin(changed: ReadonlyArray<readonly [number, number]>, offset: number, length: number, blockSize: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const [start, end] of changed) {
    const from = Math.max(start, offset);
    const to = Math.min(end, offset + length);
    if (from >= to) continue;
    ranges.push([Math.floor((from - offset) / blockSize), Math.ceil((to - offset) / blockSize)]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = merged.at(-1);
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push(r);
  }
  return merged;
}

/** `YYYYmmddHHMMSS` in UTC, as the Swift driver's prefix has it. */
function utcStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** `data` in memory of its own, so it can be handed to a chunk worker (a view into more is copied). */
function owned(data: Uint8Array): Uint8Array {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer ? data : data.slice();
}
