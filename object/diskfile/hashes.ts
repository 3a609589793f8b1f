import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { readdir, readFile, rmdir, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../common/atomic-write.ts';
import type { Clock } from '../../common/clock.ts';
import { KeyedLock } from '../../common/keyed-lock.ts';
import { selectFiles } from './ondisk.ts';

/** Files of a partition kept outside its directories (the device's `SmallFiles`). */
export interface SuffixFileSource {
  /** Suffixes with any file there. */
  suffixes(partitionDir: string): Promise<string[]>;
  /** The names of a suffix's files there, by object hash. */
  names(partitionDir: string, suffix: string): Promise<Map<string, string[]>>;
  /** Removes files there while their suffix is being rehashed (so without marking it changed). */
  remove(partitionDir: string, hash: string, names: readonly string[]): Promise<void>;
  /**
   * Suffixes whose files there changed since the last `clear` (its `hashes.invalid`), and a
   * `clear` for exactly those marks, called once the hashes that cover them are saved.
   */
  changed(partitionDir: string): Promise<{ readonly suffixes: readonly string[]; clear(): Promise<void> }>;
}

/**
 * Per-partition suffix hashes (Swift's `hashes.pkl` + `hashes.invalid`): one hash per suffix
 * directory that changes whenever a file in it changes, so replicators compare partitions
 * cheaply. A write appends its suffix to `hashes.invalid` before the file is renamed into
 * place (a crash in between only costs a needless rehash); `get` rehashes the invalid and
 * requested suffixes, saves `hashes.json`, and caches it in memory. Hashing also cleans up:
 * obsolete files, tombstones older than `reclaimAge` and empty directories go. An object's
 * files may live partly in `source` (small ones): hashing takes both places as one directory,
 * and the source keeps its own marks of changed suffixes, written with the change itself.
 */
export class SuffixHashes {
  private readonly lock = new KeyedLock();
  private readonly cache = new Map<string, Record<string, string | null>>();
  private readonly clock: Clock;
  private readonly reclaimAgeMs: number;

  private readonly source: SuffixFileSource | undefined;

  constructor(options: { clock: Clock; reclaimAgeSeconds: number; source?: SuffixFileSource }) {
    this.clock = options.clock;
    this.source = options.source;
    this.reclaimAgeMs = options.reclaimAgeSeconds * 1000;
  }

  /** Marks a suffix changed; the partition directory must exist. */
  async invalidate(partitionDir: string, suffix: string): Promise<void> {
    await this.lock.run(partitionDir, async () => this.mark(partitionDir, suffix));
  }

  /**
   * Runs `change` while no rehash of the partition runs. `change` is synchronous: it makes the
   * directories it needs, calls `mark` (which marks the suffix changed, once the partition
   * directory exists) and puts its file in place.
   */
  async changing<T>(partitionDir: string, suffix: string, change: (mark: () => void) => T): Promise<T> {
    return this.lock.run(partitionDir, async () => change(() => this.mark(partitionDir, suffix)));
  }

  /**
   * Marks a suffix changed in memory only, after `source` changed (and durably marked) it:
   * a rehash that ran meanwhile, having missed the change, does not keep its stale hash.
   */
  async noteChanged(partitionDir: string, suffix: string): Promise<void> {
    await this.lock.run(partitionDir, async () => this.markCached(partitionDir, suffix));
  }

  private mark(partitionDir: string, suffix: string): void {
    // Synchronous: a few bytes to the page cache cost less than a thread-pool trip.
    appendFileSync(join(partitionDir, 'hashes.invalid'), `${suffix}\n`);
    this.markCached(partitionDir, suffix);
  }

  private markCached(partitionDir: string, suffix: string): void {
    const cached = this.cache.get(partitionDir);
    if (cached) cached[suffix] = null;
  }

  /** Forgets a partition that was removed. */
  forget(partitionDir: string): void {
    this.cache.delete(partitionDir);
  }

  /** Suffix → hash for a partition, rehashing `recalculate` and every invalidated suffix. */
  async get(partitionDir: string, recalculate: readonly string[] = []): Promise<Record<string, string>> {
    return this.lock.run(partitionDir, async () => {
      const cached = this.cache.get(partitionDir);
      let hashes = cached ?? (await readSaved(partitionDir));
      const todo = new Set(recalculate);
      if (!hashes) {
        hashes = {};
        for (const s of await listSuffixes(partitionDir)) todo.add(s);
        for (const s of (await this.source?.suffixes(partitionDir)) ?? []) todo.add(s);
      }
      for (const [suffix, hash] of Object.entries(hashes)) if (hash === null) todo.add(suffix);
      // Once cached, every invalidation of this process is already in the cache (it marks it
      // there too); the file only matters after a restart.
      const invalid = cached ? '' : await readFile(join(partitionDir, 'hashes.invalid'), 'utf8').catch(() => '');
      for (const line of invalid.split('\n')) if (/^[0-9a-f]{3}$/.test(line)) todo.add(line);
      // Read even when cached: the marks are cleared only once hashes covering them are saved.
      const marked = await this.source?.changed(partitionDir);
      for (const suffix of marked?.suffixes ?? []) todo.add(suffix);
      for (const suffix of todo) {
        const hash = await this.hashSuffix(partitionDir, suffix);
        if (hash === undefined) delete hashes[suffix];
        else hashes[suffix] = hash;
      }
      if (todo.size > 0 || invalid !== '') {
        const partitionExists = await readdir(partitionDir).then(() => true, () => false);
        if (partitionExists) {
          await writeFileAtomic(join(partitionDir, 'hashes.json'), JSON.stringify(hashes));
          // Everything listed there is in the hashes just saved.
          await writeFile(join(partitionDir, 'hashes.invalid'), '');
        }
        // Covered now: by the hashes saved, or, with no partition directory to save them in,
        // by the full rehash the next process does without them.
        await marked?.clear();
      }
      this.cache.set(partitionDir, hashes);
      return Object.fromEntries(Object.entries(hashes).filter((e): e is [string, string] => e[1] !== null));
    });
  }

  /** Cleans a suffix (directory and source) and hashes what is left; undefined when nothing is. */
  private async hashSuffix(partitionDir: string, suffix: string): Promise<string | undefined> {
    const suffixDir = join(partitionDir, suffix);
    const elsewhere = (await this.source?.names(partitionDir, suffix)) ?? new Map<string, string[]>();
    const hashDirs = await readdir(suffixDir).catch(() => [] as string[]);
    const md5 = createHash('md5');
    let any = false;
    for (const hashDir of [...new Set([...hashDirs, ...elsewhere.keys()])].sort()) {
      const path = join(suffixDir, hashDir);
      const onDisk = await readdir(path).catch(() => [] as string[]);
      const kept = elsewhere.get(hashDir) ?? [];
      const selection = selectFiles([...onDisk, ...kept]);
      const gone = new Set(selection.obsolete.map((f) => f.name));
      let live = [selection.data, selection.tombstone, selection.meta].filter((f) => f !== undefined);
      const ts = selection.tombstone;
      if (ts && ts.timestamp.seconds * 1000 < this.clock.now() - this.reclaimAgeMs) {
        gone.add(ts.name);
        live = [];
      }
      await Promise.all(onDisk.filter((n) => gone.has(n)).map((n) => unlink(join(path, n)).catch(() => undefined)));
      const goneElsewhere = kept.filter((n) => gone.has(n));
      if (goneElsewhere.length > 0) await this.source?.remove(partitionDir, hashDir, goneElsewhere);
      if (live.length === 0) {
        await rmdir(path).catch(() => undefined);
        continue;
      }
      md5.update(hashDir);
      for (const f of live.map((l) => l.name).sort()) md5.update(f);
      any = true;
    }
    if (!any) {
      await rmdir(suffixDir).catch(() => undefined);
      return undefined;
    }
    return md5.digest('hex');
  }
}

async function readSaved(partitionDir: string): Promise<Record<string, string | null> | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(join(partitionDir, 'hashes.json'), 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, string | null>) : undefined;
  } catch {
    return undefined;
  }
}

async function listSuffixes(partitionDir: string): Promise<string[]> {
  const names = await readdir(partitionDir).catch(() => [] as string[]);
  return names.filter((n) => /^[0-9a-f]{3}$/.test(n));
}
