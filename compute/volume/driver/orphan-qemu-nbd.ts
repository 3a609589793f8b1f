import { readFile, readlink, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** What `stopOrphanQemuNbd` found: `stopped` (it ran and has exited), `not running`, or `not ours` (the pid is another process's now). */
export type OrphanQemuNbd = 'stopped' | 'not running' | 'not ours';

export interface StopOrphanOptions {
  /** The qemu-nbd the driver starts (`qemu-nbd` or a path): a process whose program has another name is not ours. */
  readonly binary: string;
  /** How long it may take to store its bitmaps and exit after SIGTERM before it gets SIGKILL; 10 s by default, as `QemuNbd.stop()`. */
  readonly graceMs?: number;
  readonly pollMs?: number;
}

/**
 * Ends the qemu-nbd that wrote `pidFile`, if it still runs: one a process started (startQemuNbd)
 * and died before it stopped, serving an image of the volume directory (and holding its lock)
 * with no one left to connect to it.
 *
 * A pid is only a number: after a reboot, or once the qemu-nbd has exited, it may be any other
 * process's. So the process must show, in /proc/<pid>/cmdline, the program `binary` started with
 * `--pid-file` naming this very file (the same inode, its path resolved from the process's own
 * working directory): the file's name is random, so no other process names it. Anything else is
 * left alone.
 *
 * SIGTERM, as `QemuNbd.stop()`: qemu-nbd then closes the image cleanly and stores its dirty
 * bitmaps (SIGKILL would leave them `in-use`, and the next backup a full read); SIGKILL only after
 * `graceMs`, again only while the pid is still that qemu-nbd. The process is not our child, so
 * its exit is seen by polling /proc (gone, a zombie, or a pid with another start time).
 */
export async function stopOrphanQemuNbd(pidFile: string, options: StopOrphanOptions): Promise<OrphanQemuNbd> {
  const pid = Number.parseInt((await readFile(pidFile, 'utf8').catch(() => '')).trim(), 10);
  if (!Number.isSafeInteger(pid) || pid <= 1) return 'not running';
  const found = await identify(pid, pidFile, options.binary);
  if (typeof found === 'string') return found;
  // From here the process is known by its pid and start time (which a reused pid does not
  // share), not by the pid file, which a qemu-nbd may remove as it exits.
  const running = async (): Promise<boolean> => (await processStart(pid)) === found.start;
  const pollMs = options.pollMs ?? 20;
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    if (!(await running())) return 'stopped';
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return 'stopped';
      throw err;
    }
    const deadline = Date.now() + (signal === 'SIGTERM' ? (options.graceMs ?? 10_000) : 10_000);
    while (Date.now() < deadline) {
      if (!(await running())) return 'stopped';
      await sleep(pollMs);
    }
  }
  throw new Error(`qemu-nbd ${pid} (${pidFile}) did not exit after SIGKILL`);
}

/** A live process's start time (clock ticks after boot, /proc/<pid>/stat field 22); undefined when it has exited (gone, or a zombie). */
async function processStart(pid: number): Promise<string | undefined> {
  let line: string;
  try {
    line = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    throw err;
  }
  // After the command name in parentheses (which may hold spaces and parentheses): state is field 3.
  const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
  // A zombie has exited (and closed the image); only its parent's wait is missing.
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19];
}

/** Whether `pid` is a live qemu-nbd (program `binary`) that writes `pidFile`; its start time if so. */
async function identify(pid: number, pidFile: string, binary: string): Promise<Exclude<OrphanQemuNbd, 'stopped'> | { start: string }> {
  const start = await processStart(pid);
  if (start === undefined) return 'not running';
  let cmdline: string;
  let cwd: string;
  try {
    cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    cwd = await readlink(`/proc/${pid}/cwd`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return 'not running';
    if (code === 'EACCES' || code === 'EPERM') return 'not ours'; // another user's process: never one this service started
    throw err;
  }
  const argv = cmdline.split('\0');
  if (argv.at(-1) === '') argv.pop();
  if (argv.length === 0 || basename(argv[0] as string) !== basename(binary)) return 'not ours';
  const named = pidFileArgument(argv);
  if (named === undefined) return 'not ours';
  const [theirs, ours] = await Promise.all([stat(resolve(cwd, named)).catch(() => undefined), stat(pidFile).catch(() => undefined)]);
  if (!theirs || !ours || theirs.dev !== ours.dev || theirs.ino !== ours.ino) return 'not ours';
  // The pid could have been reused between the two reads: the start time must not have changed.
  return (await processStart(pid)) === start ? { start } : 'not running';
}

/** The value of qemu-nbd's `--pid-file` (`--pid-file X` or `--pid-file=X`; startQemuNbd uses the first). */
function pidFileArgument(argv: readonly string[]): string | undefined {
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return undefined;
    if (arg === '--pid-file') return argv[i + 1];
    if (arg.startsWith('--pid-file=')) return arg.slice('--pid-file='.length);
  }
  return undefined;
}
