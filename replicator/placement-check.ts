import type { HashPath } from '../common/hash-path.ts';
import type { Logger } from '../common/logger.ts';
import type { DiskFileManager } from '../object/diskfile/types.ts';

/** What recon and `swiftlet status` show of the placement check. */
export interface PlacementReport {
  /** Objects whose name was hashed and compared with their directory. */
  readonly checked: number;
  /** Distinct objects found whose name does not hash to where they are (counted to 100,000). */
  readonly misplaced: number;
  /** The last misplaced one seen, to look at. */
  readonly example?: { readonly device: string; readonly partition: number; readonly hash: string; readonly name: string; readonly expected: string };
}

/**
 * Does this node's data hash to where it lies, under the configured hash-path secret? An
 * object lives in the directory named by the MD5 of its salted name; a node given another
 * secret than the one its data was written with looks for every name elsewhere, answers 404
 * for all it holds and stores what it is sent where no other node looks. Nothing else tells:
 * so a sample is checked at start, and the object auditor checks every object it reads.
 * Misplaced objects are reported (error log, recon, metrics), never moved or quarantined: the
 * secret may be what is wrong, and then the data is right.
 */
export class PlacementCheck {
  private readonly hashPath: HashPath;
  private readonly logger: Logger;
  private checked = 0;
  private readonly misplaced = new Set<string>();
  private example: PlacementReport['example'];

  constructor(hashPath: HashPath, logger: Logger) {
    this.hashPath = hashPath;
    this.logger = logger;
  }

  /** Compares one object's name (its metadata's `/a/c/o`) with its hash; returns whether it matches. */
  note(device: string, partition: number, hash: string, name: string | undefined): boolean {
    const parts = splitName(name);
    if (!parts) return true;
    this.checked++;
    const expected = this.hashPath.hash(parts[0], parts[1], parts[2]);
    if (expected === hash) return true;
    if (this.misplaced.size < 100_000) this.misplaced.add(`${device}/${hash}`);
    this.example = { device, partition, hash, name: name as string, expected };
    return false;
  }

  report(): PlacementReport {
    return { checked: this.checked, misplaced: this.misplaced.size, ...(this.example ? { example: this.example } : {}) };
  }

  /**
   * Checks up to `limit` objects of the node's devices (the first partitions of each) and logs
   * an error when any is misplaced. Run at start, in the background.
   */
  async sample(diskFiles: DiskFileManager, devices: readonly string[], limit = 32): Promise<PlacementReport> {
    let seen = 0;
    let bad = 0;
    for (const device of devices) {
      const partitions = await diskFiles.partitions(device).catch(() => [] as number[]);
      for (const partition of partitions) {
        for await (const entry of diskFiles.objects(device, partition)) {
          if (!entry.dataTimestamp) continue;
          const state = await (await diskFiles.diskFileByHash(device, partition, entry.hash)).readMetadata({ openExpired: true }).catch(() => undefined);
          if (!state) continue;
          seen++;
          if (!this.note(device, partition, entry.hash, state.metadata['name'])) bad++;
          if (seen >= limit) return this.logged(seen, bad);
        }
      }
    }
    return this.logged(seen, bad);
  }

  private logged(seen: number, bad: number): PlacementReport {
    if (bad > 0) {
      this.logger.error('objects here do not hash to their place under the configured hash-path secret: this node\'s [swift-hash] (swiftlet.conf) is not the one the data was written with, or these objects were written under another', {
        sampled: seen,
        misplaced: bad,
        example: this.example,
      });
    }
    return this.report();
  }
}

/** `/a/c/o` as its three parts (the object may hold slashes). */
function splitName(name: string | undefined): [string, string, string] | undefined {
  if (name === undefined || !name.startsWith('/')) return undefined;
  const c = name.indexOf('/', 1);
  const o = c === -1 ? -1 : name.indexOf('/', c + 1);
  if (c === -1 || o === -1) return undefined;
  return [name.slice(1, c), name.slice(c + 1, o), name.slice(o + 1)];
}
