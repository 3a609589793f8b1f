import { createHash, hash as digestOf } from 'node:crypto';
import xxhash from 'xxhash-wasm';
import { ConfigError, InvalidPathError } from './errors.ts';

const hasher = await xxhash();

/**
 * Names to hashes, salted with the cluster's secret prefix and suffix (Swift's
 * `swift_hash_path_prefix`/`_suffix`): without the secret, nobody can aim many names at one
 * partition. Every node of a cluster must use the same secret.
 *
 * - `hash()` is the MD5 hex Swift uses to name object directories and databases: 128 bits, so
 *   two names never share a directory in practice.
 * - `placementKey()` is the 64-bit xxHash the ring takes its partition from: fast, and only
 *   needs to spread names evenly.
 */
export class HashPath {
  readonly prefix: string;
  readonly suffix: string;

  constructor(prefix: string, suffix: string) {
    this.prefix = prefix;
    this.suffix = suffix;
  }

  /**
   * MD5 hex of `prefix/account[/container[/object]]suffix`. One-shot: every object request
   * hashes its name, and a `Hash` object per call cost about 2.5 times as much.
   */
  hash(account: string, container?: string, object?: string): string {
    return digestOf('md5', this.salted(account, container, object), 'hex');
  }

  /** 64-bit xxHash of the same salted path, for placement. */
  placementKey(account: string, container?: string, object?: string): bigint {
    return hasher.h64(this.salted(account, container, object));
  }

  /**
   * A digest of the secret, to compare nodes' secrets without showing them (what Swift's
   * recon does with `swiftconfmd5`): SHA-256 of a label and both parts, first 16 hex digits.
   */
  secretDigest(): string {
    return createHash('sha256').update(`swiftlet hash-path secret\0${this.prefix}\0${this.suffix}`).digest('hex').slice(0, 16);
  }

  private salted(account: string, container?: string, object?: string): string {
    if (object !== undefined && container === undefined) {
      throw new InvalidPathError(`/${account}//${object}`, 'an object needs a container');
    }
    let path = `/${account}`;
    if (container !== undefined) path += `/${container}`;
    if (object !== undefined) path += `/${object}`;
    return this.prefix + path + this.suffix;
  }
}

/** xxHash64 of raw bytes, as a 16-digit hex string (block checksums, suffix hashes). */
export function xxh64Hex(data: Uint8Array | string, seed = 0n): string {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  return hasher.h64Raw(bytes, seed).toString(16).padStart(16, '0');
}

/** xxHash64 of raw bytes, as a number (no hex string to make when the bytes are what is wanted). */
export function xxh64(data: Uint8Array, seed = 0n): bigint {
  return hasher.h64Raw(data, seed);
}

/** A streaming xxHash64 (for data that arrives in pieces). */
export function createXxh64(seed = 0n): { update(data: Uint8Array | string): unknown; digest(): bigint; digestHex(): string } {
  const state = hasher.create64(seed);
  return {
    update(data) {
      state.update(data);
      return this;
    },
    digest() {
      return state.digest();
    },
    digestHex() {
      return state.digest().toString(16).padStart(16, '0');
    },
  };
}

/**
 * The cluster's `HashPath` from its `[swift-hash]` section. Like Swift, refuses to run with no
 * secret at all: placement would be guessable and could never be changed later.
 * @throws {ConfigError} when both prefix and suffix are empty.
 */
export function hashPathFromConfig(section: { swift_hash_path_prefix: string; swift_hash_path_suffix: string }): HashPath {
  if (section.swift_hash_path_prefix === '' && section.swift_hash_path_suffix === '') {
    throw new ConfigError('swift-hash.swift_hash_path_suffix', '', 'set swift_hash_path_prefix and/or swift_hash_path_suffix (the cluster secret)');
  }
  return new HashPath(section.swift_hash_path_prefix, section.swift_hash_path_suffix);
}

/** A value in (0, 1) that is a fixed, evenly spread function of `text` (for stable orders). */
export function uniformHash(text: string): number {
  return (Number(hasher.h64(text) >> 11n) + 0.5) / 2 ** 53;
}
