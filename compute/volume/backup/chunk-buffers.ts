/**
 * Chunk-sized buffers kept for reuse. On the hosts measured (Firecracker guests), touching
 * fresh memory cost ~3.5 CPU-s per GiB, more than reading the volume into memory touched
 * before; a 50 MiB buffer is always fresh from malloc (mmap'd, unmapped when freed). At most
 * `keep` are kept, and all are let go after `idleMs` without use.
 *
 * The memory is shared (`SharedArrayBuffer`): a chunk worker sees the same bytes without a
 * transfer. A transferred 50 MiB `ArrayBuffer` counts as new external memory in the isolate
 * that receives it, and V8 starts a full GC on that pressure: ~40 per GiB across the threads,
 * a third of an incremental backup's CPU. Shared memory is not counted so. The price: nothing
 * detaches a buffer handed over, so the engine must not give one back (or write it) while a
 * worker or an upload still reads it; it gives back only after both are done.
 */
export class ChunkBuffers {
  private readonly free = new Map<number, SharedArrayBuffer[]>();
  private readonly keep: number;
  private readonly idleMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: { keep?: number; idleMs?: number } = {}) {
    // A restore at the engine's default concurrency (4) holds 9 at once (4 bodies fetched,
    // 4 outputs being opened into, 1 being written); keeping 8 made every restore touch a
    // fresh 50 MiB, and the first one after a backup three.
    this.keep = options.keep ?? 10;
    this.idleMs = options.idleMs ?? 30_000;
  }

  /** A buffer of `size` bytes (contents undefined), kept or new; page-aligned when `size` is a multiple of 64 KiB. */
  take(size: number): Uint8Array {
    const buffer = this.free.get(size)?.pop();
    this.touch();
    return new Uint8Array(buffer ?? alignedShared(size));
  }

  /** Gives `buffer` (its whole memory, one `take` answered) back for reuse; the caller must not use it after. */
  give(buffer: SharedArrayBuffer): void {
    const list = this.free.get(buffer.byteLength) ?? [];
    if (list.length >= this.keep) return;
    list.push(buffer);
    this.free.set(buffer.byteLength, list);
    this.touch();
  }

  private touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.free.clear(), this.idleMs);
    this.timer.unref();
  }
}

/** The part of the WebAssembly global used here (this project's TypeScript libraries do not declare it). */
const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer } } }).WebAssembly;

/** WebAssembly's page: a shared memory's bytes start on a boundary of it. */
const WASM_PAGE = 65536;

/**
 * Shared memory of `size` bytes that starts on a page boundary when `size` is a multiple of
 * 64 KiB: a shared WebAssembly memory, which V8 maps on its own pages. A plain
 * `SharedArrayBuffer`'s bytes start 16 bytes into a page, which O_DIRECT refuses (a restore
 * writes chunks from this memory straight to the volume: `VolumeFile.writeDirect`).
 */
function alignedShared(size: number): SharedArrayBuffer {
  if (size <= 0 || size % WASM_PAGE !== 0) return new SharedArrayBuffer(size);
  const pages = size / WASM_PAGE;
  try {
    return new wasm.Memory({ initial: pages, maximum: pages, shared: true }).buffer;
  } catch {
    return new SharedArrayBuffer(size); // past WebAssembly's limit (4 GiB) or its address space
  }
}

let shared: ChunkBuffers | undefined;

/** One set for the process: backup engines are made per request and share it. */
export function sharedChunkBuffers(): ChunkBuffers {
  shared ??= new ChunkBuffers();
  return shared;
}
