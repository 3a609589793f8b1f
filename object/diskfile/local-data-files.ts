import type { Clock } from '../../common/clock.ts';
import type { LocalBodyReader, LocalDataFiles, LocalFileAnswer } from '../../common/http/local-file-read.ts';
import type { Logger } from '../../common/logger.ts';
import { isThisHost } from '../../common/this-host.ts';
import { AlignedSlabs } from './aligned-slabs.ts';
import { DIRECT_READ_MIN_BYTES } from './fs-reader.ts';
import { openLocalDataFile } from './local-data-file.ts';

/** Slabs for `O_DIRECT` reads: two per large body read at once (eight at once, 16 MiB, made on first use). */
const SLABS = 16;

/** Slabs one large read takes (the reader reads into one while the other is sent). */
const SLABS_PER_READ = 2;

/** How long a process that cannot read the object servers' files stops asking for them. */
const REFUSED_BACKOFF_MS = 60_000;

/**
 * Opens failing in a row, with none succeeding between, that mean this process does not see
 * the object servers' files (other mounts: a container without the devices) rather than a
 * file removed by a write racing the read, which happens once in a while among successes.
 */
const FAILURES_IN_A_ROW = 3;

/**
 * A proxy's local reads from this machine's devices (`common/http/local-file-read.ts`): the
 * object servers on a local address, and their data files opened with `openLocalDataFile`.
 */
export class DiskLocalDataFiles implements LocalDataFiles {
  private readonly slabs: AlignedSlabs;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private refusedAt = Number.NEGATIVE_INFINITY;
  private failuresInARow = 0;

  constructor(deps: { clock: Clock; logger: Logger; slabs?: number }) {
    this.clock = deps.clock;
    this.logger = deps.logger;
    this.slabs = new AlignedSlabs({ slabBytes: 1024 * 1024, count: deps.slabs ?? SLABS });
  }

  /**
   * A node on this machine, while this process may read its files and has slabs for another
   * large read: past that, reads are relayed, and the object server reads with its own slabs
   * rather than this process through the page cache (which costs this machine several times
   * the CPU per byte).
   */
  isLocal(node: { readonly ip: string }): boolean {
    return isThisHost(node.ip) && this.slabs.available >= SLABS_PER_READ && this.clock.now() - this.refusedAt >= REFUSED_BACKOFF_MS;
  }

  async open(file: LocalFileAnswer, etag: string): Promise<LocalBodyReader> {
    try {
      const reader = await openLocalDataFile(file, etag, this.slabs, DIRECT_READ_MIN_BYTES);
      this.failuresInARow = 0;
      return reader;
    } catch (err) {
      // A process that may not read the devices (another user) or does not see them (other
      // mounts) would otherwise fail every large GET once before relaying it: it stops asking
      // for a while, and says so once.
      const code = (err as NodeJS.ErrnoException).code;
      this.failuresInARow++;
      if (code === 'EACCES' || code === 'EPERM' || this.failuresInARow >= FAILURES_IN_A_ROW) {
        if (this.clock.now() - this.refusedAt >= REFUSED_BACKOFF_MS) this.logger.warn('the object servers\' data files cannot be read here; large bodies are relayed for a minute (run the proxy as their user with their devices mounted, or set local_file_reads = false)', { path: file.path, code, failures: this.failuresInARow });
        this.refusedAt = this.clock.now();
        this.failuresInARow = 0;
      }
      throw err;
    }
  }
}
