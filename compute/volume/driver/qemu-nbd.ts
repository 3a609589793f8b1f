import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathExists } from '../../../common/path-exists.ts';
import { InvalidVolume } from '../errors.ts';

/** A running qemu-nbd: the unix socket it serves, and how to end it. */
export interface QemuNbd {
  socket: string;
  /** qemu-nbd's process id (for its CPU time in /proc; `stop()` is how to end it). */
  pid: number;
  /** Ends qemu-nbd (SIGTERM, so a writable export closes cleanly), waits for it, removes its files. */
  stop(): Promise<void>;
}

export interface QemuNbdOptions {
  /** qemu-nbd's path; `qemu-nbd` on PATH by default. */
  binary?: string;
  /** The image file to export. */
  path: string;
  format: 'qcow2' | 'raw';
  readOnly: boolean;
  /** Persistent dirty bitmaps of the image to expose, each as meta context `qemu:dirty-bitmap:<name>`. */
  bitmaps?: readonly string[];
  /** Where the socket (and pid file) go; keep it short: a unix socket path has at most 107 bytes. */
  dir: string;
  /** How long qemu-nbd may take to be ready before it is killed; 10 s by default. */
  startTimeoutMs?: number;
  /**
   * QEMU's cache mode: `writeback` (the default) through the page cache; `none` opens the image
   * with O_DIRECT (refused by file systems without it, tmpfs among them).
   */
  cache?: 'writeback' | 'none';
  /**
   * Read even while another process writes the image (a guest's QEMU: a backup or an upload
   * of an in-use volume, `--force`), as `qemu-img -U` did for the working copy; read-only only.
   */
  forceShare?: boolean;
}

const POLL_MS = 5;

/**
 * How the socket and pid file of a qemu-nbd started here are named in its `dir`:
 * `nbd-<12 hex>.sock` and `.pid` (the volume driver's start-up sweep finds a dead process's by it).
 */
export const QEMU_NBD_FILE = /^nbd-[0-9a-f]{12}\.(sock|pid)$/;

/**
 * glibc malloc settings for qemu-nbd. It allocates a buffer for every request; by default one of
 * 128 KiB or more is a fresh mmap, freed with munmap, so every read from the page cache faulted
 * its buffer in page by page: 3.6 CPU-s per GiB read, mostly page faults (perf). With the mmap
 * threshold at its maximum (32 MiB) and freed memory kept up to 128 MiB (16 requests of 1 MiB
 * in flight need 16 MiB), buffers are reused: about 1.2 CPU-s per GiB.
 */
const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=134217728';

function tunables(inherited: string | undefined): string {
  return inherited ? `${inherited}:${MALLOC_TUNABLES}` : MALLOC_TUNABLES;
}
const STOP_GRACE_MS = 10_000;

/**
 * Starts qemu-nbd (Debian qemu-utils) serving `path` on a new unix socket in `dir`, and resolves
 * once it accepts clients.
 *
 * Readiness is the pid file: qemu-nbd writes it only after the export is set up and the socket
 * is served (qemu-nbd.c; "the pid file intentionally does NOT appear until after the socket is
 * ready to go", Eric Blake on the patch), so no probe connection is made. That matters because
 * without `--persistent` qemu-nbd serves one connection and exits when it closes: the export
 * lives as long as its reader, and a reader that dies takes it (and the image's lock) with it.
 * So it is one connection per start; `stop()` is still needed when no client ever came.
 *
 * `--cache=writeback` unless `cache` says otherwise (qemu-nbd's default, stated): the reader's requests go through the page
 * cache, which holds a just-written volume and works on every filesystem (`none`, O_DIRECT,
 * fails on tmpfs); it costs nothing in durability, because NBD_CMD_FLUSH is an fdatasync.
 *
 * @throws {InvalidVolume} qemu-nbd is not installed, exits first (its stderr: a missing bitmap,
 * an image locked by another process...), or is not ready within `startTimeoutMs`.
 */
export async function startQemuNbd(options: QemuNbdOptions): Promise<QemuNbd> {
  const binary = options.binary ?? 'qemu-nbd';
  const id = randomBytes(6).toString('hex');
  const socket = join(options.dir, `nbd-${id}.sock`);
  const pidFile = join(options.dir, `nbd-${id}.pid`);
  const args = ['--socket', socket, '--pid-file', pidFile, `--cache=${options.cache ?? 'writeback'}`];
  if (options.readOnly) args.push('--read-only');
  for (const bitmap of options.bitmaps ?? []) args.push('--bitmap', bitmap);
  // qemu-nbd 7.2 has no --force-share: the file's locking is turned off instead (in QEMU's
  // option syntax a comma in a value is doubled).
  if (options.readOnly && options.forceShare) args.push('--image-opts', `driver=${options.format},file.driver=file,file.locking=off,file.filename=${options.path.replaceAll(',', ',,')}`);
  else args.push('--format', options.format, options.path);

  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GLIBC_TUNABLES: tunables(process.env['GLIBC_TUNABLES']) } });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 64 * 1024) stderr += s;
  });
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      exited = true;
      resolve({ code: null, signal: null, error });
    });
    // 'close', not 'exit': stderr is read to its end by then.
    child.once('close', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    });
  });
  const removeFiles = (): Promise<unknown> => Promise.all([rm(socket, { force: true }), rm(pidFile, { force: true })]);

  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  for (;;) {
    if (exited) {
      const { code, signal, error } = await exit;
      await removeFiles();
      if (error?.code === 'ENOENT') throw new InvalidVolume(`qcow2 volumes need ${binary} (Debian qemu-utils), which is not installed`);
      if (error !== undefined) throw new InvalidVolume(`${binary}: ${error.message}`);
      throw new InvalidVolume(`${binary}: ${stderr.trim() || `exited with ${signal ?? `code ${code}`} before serving ${options.path}`}`);
    }
    if (await pathExists(pidFile)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exit;
      await removeFiles();
      throw new InvalidVolume(`${binary} did not serve ${options.path} within ${options.startTimeoutMs ?? 10_000} ms${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    }
    await Promise.race([sleep(POLL_MS), exit]);
  }

  let stopping: Promise<void> | undefined;
  return {
    socket,
    pid: child.pid as number,
    stop() {
      stopping ??= (async () => {
        if (!exited) {
          child.kill('SIGTERM');
          // SIGTERM lets qemu close the image (flushing it and storing its dirty bitmaps); a
          // qemu-nbd stuck on I/O gets SIGKILL after the grace period.
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
          await exit;
          clearTimeout(timer);
        }
        await removeFiles();
      })();
      return stopping;
    },
  };
}
