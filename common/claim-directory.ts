import { stat } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { SwiftError } from './errors.ts';

/** Another live process on this host holds the directory. */
export class DirectoryClaimedError extends SwiftError {
  readonly dir: string;
  /** The holder's pid, when it told it in time (see `claimDirectory`). */
  readonly pid: number | undefined;

  constructor(dir: string, pid: number | undefined) {
    super('DIRECTORY_CLAIMED', `${dir} is held by ${pid === undefined ? 'another process' : `pid ${pid}`}`);
    this.dir = dir;
    this.pid = pid;
  }
}

/** A directory held by this process until `release` (or until the process ends, however). */
export interface DirectoryClaim {
  release(): Promise<void>;
}

/** How long a refused claim waits for the holder to tell its pid. */
const ASK_HOLDER_MS = 1000;

/**
 * Makes this process the one process on this host that holds `dir`, or refuses: for what must
 * not have two owners (a storage node's devices, a volume service's volume directory), since
 * each sweeps at start what it takes for a dead process's leftovers.
 *
 * The claim is an abstract unix socket (Linux) named for the directory's device, inode and
 * birth time: two spellings of one directory (a symlink, a trailing slash) collide, and a
 * directory made later at a reused inode does not. The kernel frees the name when the process
 * exits, however it dies, so a crash never leaves a stale claim: no lock file, no question of a
 * reused pid. Node opens its sockets close-on-exec, so a child that outlives its parent (an
 * orphan qemu-nbd) holds nothing. The holder answers each connection with its pid, which a
 * refused claim asks once (for `askTimeoutMs`) to name it. The reach is this host's network
 * namespace: a process in another container that shares the directory is not seen.
 *
 * The directory must exist (ENOENT is thrown as is). Claims in one process of distinct
 * directories are independent; a second claim of the same one is refused like anyone's.
 * @throws {DirectoryClaimedError} another live process (or this one) holds it
 */
export async function claimDirectory(dir: string, options: { askTimeoutMs?: number } = {}): Promise<DirectoryClaim> {
  const { dev, ino, birthtimeNs } = await stat(dir, { bigint: true });
  const name = `\0swiftlet-dir:${dev}:${ino}:${birthtimeNs}`;
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.end(`${process.pid}\n`);
  });
  // The holder may have gone between our refused listen and our question: then try again.
  for (let attempt = 0; ; attempt++) {
    const refused = await listenOn(server, name);
    if (!refused) break;
    const holder = await askHolder(name, options.askTimeoutMs ?? ASK_HOLDER_MS);
    if (holder !== 'gone' || attempt >= 2) throw new DirectoryClaimedError(dir, holder === 'gone' ? undefined : holder);
  }
  // Holding the name must not keep the process alive by itself, nor end it: a failed accept
  // (EMFILE) only loses one answer to a refused claim.
  server.unref();
  server.on('error', () => undefined);
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return released;
    },
  };
}

/** Listens on `name`; true if another socket holds it. */
function listenOn(server: Server, name: string): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException): void => (err.code === 'EADDRINUSE' ? resolve(true) : reject(err));
    server.once('error', failed);
    server.listen({ path: name }, () => {
      server.off('error', failed);
      resolve(false);
    });
  });
}

/** The pid the holder of `name` answers; undefined if it does not in time; 'gone' if no one listens now. */
function askHolder(name: string, timeoutMs: number): Promise<number | undefined | 'gone'> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect({ path: name });
    const done = (result: number | undefined | 'gone'): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
      if (answer.length > 32) done(undefined);
    });
    socket.on('end', () => {
      const pid = Number(answer.trim());
      done(Number.isSafeInteger(pid) && pid > 0 ? pid : undefined);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'gone' : undefined));
  });
}
