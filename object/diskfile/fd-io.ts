import { closeSync, fdatasync, fsync, mkdirSync, openSync, read, unlinkSync, writev } from 'node:fs';
import { dirname } from 'node:path';
import { withoutStackTraces } from '../../common/without-stack-traces.ts';

/*
 * File I/O for the object server's hot paths, on plain file descriptors.
 *
 * Why not `fs/promises`: every call there is a trip through libuv's thread pool (a futex wake,
 * a context switch, an eventfd write, a promise), and a small PUT made about fifteen of them.
 * On this kind of machine those trips cost more CPU than the disk work. So the cheap metadata
 * calls (open, mkdir, rename, a small read or write, readdir of an object directory) run
 * synchronously, as Swift's object server does them; what waits on the disk (fsync,
 * fdatasync) and large reads and writes still go to the pool, so the event loop never waits
 * for a flush and concurrent flushes share journal commits.
 */

/** `fdatasync(2)` in the thread pool. */
export function fdatasyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

/** `fsync(2)` in the thread pool. */
export function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Makes the entries of a directory durable (a rename or create inside it). */
export async function fsyncDirectory(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Reads exactly `length` bytes at `position` in the thread pool; resolves short when the file ends. */
export async function readFully(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const n = await new Promise<number>((resolve, reject) => read(fd, buffer, done, length - done, position + done, (err, bytes) => (err ? reject(err) : resolve(bytes))));
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Writes every byte of `buffers` at `position` in the thread pool (writev may write less than asked). */
export async function writevFully(fd: number, buffers: readonly Buffer[], position: number): Promise<void> {
  let remaining = buffers;
  let at = position;
  while (remaining.length > 0) {
    const written = await new Promise<number>((resolve, reject) => writev(fd, remaining as Buffer[], at, (err, bytes) => (err ? reject(err) : resolve(bytes))));
    at += written;
    remaining = skipBytes(remaining, written);
  }
}

/** What is left of `buffers` once their first `count` bytes are gone. */
export function skipBytes(buffers: readonly Buffer[], count: number): Buffer[] {
  let skip = count;
  const next: Buffer[] = [];
  for (const buf of buffers) {
    if (skip >= buf.length) {
      skip -= buf.length;
      continue;
    }
    next.push(skip > 0 ? buf.subarray(skip) : buf);
    skip = 0;
  }
  return next;
}

/** Removes a file if it is there: one already gone (renamed into place, never made, removed by a sibling request) is fine. */
export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}

/**
 * `mkdir -p` without a stat per level: tries the directory itself first (the common case is
 * one missing level). Returns the topmost directory it created, or undefined when `dir`
 * already existed.
 */
export function makeDirs(dir: string): string | undefined {
  // EEXIST and ENOENT are answers here (a new object's directory is tried before its parent).
  return withoutStackTraces(() => makeDirsQuietly(dir));
}

function makeDirsQuietly(dir: string): string | undefined {
  try {
    mkdirSync(dir);
    return dir;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return undefined;
    if (code !== 'ENOENT') throw err;
  }
  const created = makeDirsQuietly(dirname(dir)) ?? dir;
  try {
    mkdirSync(dir);
  } catch (err) {
    // Made meanwhile by a sibling request: fine.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return created === dir ? undefined : created;
  }
  return created;
}
