/**
 * Chunk-sized buffers kept for reuse. On the hosts measured (Firecracker guests), touching
 * fresh memory cost ~3.5 CPU-s per GiB, more than reading the volume into memory touched
 * before; a 50 MiB buffer is always fresh from malloc (mmap'd, unmapped when freed). A buffer
 * goes to a chunk worker and back by transfer and returns here when its chunk is done. At most
 * `keep` are kept, and all are let go after `idleMs` without use.
 */
export class ChunkBuffers {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly keep: number;
  private readonly idleMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(options: { keep?: number; idleMs?: number } = {}) {
    this.keep = options.keep ?? 8;
    this.idleMs = options.idleMs ?? 30_000;
  }

  /** A buffer of `size` bytes (contents undefined), kept or new. */
  take(size: number): Uint8Array {
    const buffer = this.free.get(size)?.pop();
    this.touch();
    return new Uint8Array(buffer ?? new ArrayBuffer(size));
  }

  /** Gives `buffer` (its whole memory) back for reuse; the caller must not use it after. */
  give(buffer: ArrayBuffer): void {
    const list = this.free.get(buffer.byteLength) ?? [];
    if (buffer.detached || list.length >= this.keep) return;
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

let shared: ChunkBuffers | undefined;

/** One set for the process: backup engines are made per request and share it. */
export function sharedChunkBuffers(): ChunkBuffers {
  shared ??= new ChunkBuffers();
  return shared;
}
