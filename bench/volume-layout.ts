import { randomBytes } from 'node:crypto';

const MiB = 1024 * 1024;

/**
 * MiB `i` of the backup benches' volume: `mixed` is zeros, text and random bytes by `i % 3` (a
 * text MiB may be a little short: the rest of it stays a hole), `random` random bytes only (an
 * encrypted volume).
 */
export function volumeMiB(i: number, fill: 'mixed' | 'random'): Buffer {
  if (fill === 'random') return randomBytes(MiB);
  if (i % 3 === 0) return Buffer.alloc(MiB);
  if (i % 3 === 1) return Buffer.from(`volume block ${i} `.repeat(MiB / 16).slice(0, MiB), 'latin1');
  return randomBytes(MiB);
}

/** Where an incremental's changes go: `changed` of `size` bytes in `spots` runs of `each` bytes, spread evenly. */
export function changedSpots(size: number, changed: number, spots: number): { each: number; offsets: number[] } {
  const each = Math.floor((size * changed) / spots);
  return { each, offsets: Array.from({ length: spots }, (_, s) => Math.floor(((s + 0.5) * (size - each)) / spots)) };
}
