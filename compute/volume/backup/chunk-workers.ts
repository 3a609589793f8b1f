import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { OpenedChunk, OpenTask, PreparedChunk, PrepareTask } from './chunk-worker.ts';

/**
 * The threads that hash, compress, decompress and check backup chunks (`chunk-worker.ts`), so
 * that work leaves the event loop and uses every core, as Cinder runs it in native threads
 * (`tpool_wrap`). A Piscina pool: threads start on first use, stop after a minute idle, and an
 * idle one does not keep the process alive. A chunk's memory is shared with the thread
 * (`ChunkBuffers`) or moves to it and back by transfer; either way the caller must not use a
 * buffer it handed over until the answer comes back.
 */
export class ChunkWorkers {
  private readonly pool: Piscina;

  constructor(options: { threads?: number } = {}) {
    const threads = Math.max(1, options.threads ?? availableParallelism());
    this.pool = new Piscina({ filename: new URL('./chunk-worker.ts', import.meta.url).href, minThreads: 0, maxThreads: threads, idleTimeout: 60_000 });
  }

  /** Threads that may run at once. */
  get threads(): number {
    return this.pool.options.maxThreads;
  }

  /** Hashes and compresses a chunk to back up; `task.data` and `task.out` are handed over. */
  prepare(task: PrepareTask): Promise<PreparedChunk> {
    return this.pool.run(task, { name: 'prepareChunk', transferList: transferable(task.data, task.out) });
  }

  /** Opens and checks a chunk object read back; `task.body` and `task.out` are handed over. */
  open(task: OpenTask): Promise<OpenedChunk> {
    return this.pool.run(task, { name: 'openChunk', transferList: transferable(task.body, task.out) });
  }

  /** Stops the threads (work queued or running fails). */
  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** The memory of `views` that moves by transfer; shared memory (`ChunkBuffers`') is seen by the thread as it is. */
function transferable(...views: Uint8Array[]): ArrayBuffer[] {
  return [...new Set(views.map((v) => v.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer))];
}

let shared: ChunkWorkers | undefined;

/** One pool for the process: backup engines are made per request and share it. */
export function sharedChunkWorkers(): ChunkWorkers {
  shared ??= new ChunkWorkers();
  return shared;
}
