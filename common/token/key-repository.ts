import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.ts';
import { ConfigError } from '../errors.ts';
import { decodeFernetKey, generateFernetKey } from './fernet.ts';

/**
 * A Fernet key repository laid out as Keystone's (`keystone-manage fernet_setup` and
 * `fernet_rotate`): one file per key, named by a number. The highest number is the primary key
 * (new tokens are encrypted with it), `0` is the staged key (the next primary, already
 * accepted), the rest are secondary keys that still open older tokens. Rotating on one node
 * and then copying the directory to every identity node and proxy (as the rings are copied)
 * is safe in that order: every node knows the new primary before any token is made with it,
 * because it was their staged key. Nothing is shared at run time; each process reads the
 * directory, and reads it again when it changes.
 */
export interface FernetKeys {
  /** The primary key first, then the others from the newest down (Keystone's `load_keys`). */
  readonly keys: readonly Buffer[];
}

/** Keystone's default `[fernet_tokens] max_active_keys`: staged, primary and one secondary. */
export const DEFAULT_MAX_ACTIVE_KEYS = 3;

/** The keys in `dir`, primary first. @throws {ConfigError} when it holds none. */
export function loadFernetKeys(dir: string): Buffer[] {
  const numbers = keyNumbers(dir);
  if (numbers.length === 0) throw new ConfigError('key_repository', dir, 'no Fernet keys (run fernet_setup)');
  return numbers.sort((a, b) => b - a).map((n) => decodeFernetKey(readFileSync(join(dir, String(n)), 'utf8')));
}

/** Creates the repository with a staged and a primary key; does nothing when it has keys. */
export function fernetSetup(dir: string): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (keyNumbers(dir).length > 0) return false;
  writeKey(dir, 0);
  fernetRotate(dir);
  return true;
}

/**
 * Keystone's rotation: the staged key `0` becomes the primary (the highest number plus one),
 * a new staged key is made, and the oldest keys go until `maxActiveKeys` are left.
 */
export function fernetRotate(dir: string, maxActiveKeys = DEFAULT_MAX_ACTIVE_KEYS): void {
  if (maxActiveKeys < 2) throw new RangeError('max_active_keys must be at least 2');
  const numbers = keyNumbers(dir);
  if (!numbers.includes(0)) throw new ConfigError('key_repository', dir, 'no staged key 0 (run fernet_setup)');
  const primary = Math.max(...numbers) + 1;
  renameSync(join(dir, '0'), join(dir, String(primary)));
  writeKey(dir, 0);
  const kept = numbers.filter((n) => n !== 0).concat(primary).sort((a, b) => b - a);
  for (const old of kept.slice(maxActiveKeys - 1)) unlinkSync(join(dir, String(old)));
  fsyncDir(dir);
}

/**
 * A repository that a long-running process reads again when the directory changes (a rotation
 * renames and creates files, which changes its mtime), checking at most every `checkMs`. A
 * repository that turns unreadable or empty keeps the keys last read, as a bad ring file does.
 */
export class FernetKeyRepository implements FernetKeys {
  private loaded: Buffer[];
  private mtimeMs: number;
  private checkedAt: number;
  private readonly dir: string;
  private readonly clock: Clock;
  private readonly checkMs: number;

  constructor(dir: string, clock: Clock, checkMs = 5000) {
    this.dir = dir;
    this.clock = clock;
    this.checkMs = checkMs;
    this.mtimeMs = statSync(dir).mtimeMs;
    this.loaded = loadFernetKeys(dir);
    this.checkedAt = clock.monotonic();
  }

  get keys(): readonly Buffer[] {
    const now = this.clock.monotonic();
    if (now - this.checkedAt >= this.checkMs) {
      this.checkedAt = now;
      try {
        const mtime = statSync(this.dir).mtimeMs;
        if (mtime !== this.mtimeMs) {
          this.loaded = loadFernetKeys(this.dir);
          this.mtimeMs = mtime;
        }
      } catch {
        // Keep the last good keys; the next check tries again.
      }
    }
    return this.loaded;
  }
}

function keyNumbers(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => /^(0|[1-9]\d*)$/.test(n)).map(Number);
}

/** Writes key `n` through a temp file, flushed before the rename, readable by the owner only. */
function writeKey(dir: string, n: number): void {
  const tmp = join(dir, `.${n}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, generateFernetKey());
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, String(n)));
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
