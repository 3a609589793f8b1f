import cluster, { type Worker } from 'node:cluster';
import type { InfoPeers } from '../proxy/info-cache.ts';

/**
 * Proxy workers (node:cluster, one port) tell each other which account and container info a
 * write changed, through the primary, before the write is answered:
 *
 * 1. the writing worker sends `forget` (with an id) to the primary;
 * 2. the primary passes it to every other worker, each of which drops its cached entry and
 *    answers `forgotten`;
 * 3. once all have (or are gone), the primary answers `forgotten` to the writer, whose
 *    `tell()` then resolves and the client gets its answer.
 *
 * So a client that changes an ACL and reads at once, on a connection the kernel gives to
 * another worker, sees the new ACL, as with Swift's shared memcache.
 */
interface Forget {
  readonly kind: 'swiftlet-info-forget';
  readonly id: number;
  readonly account: string;
  readonly container?: string;
}

interface Forgotten {
  readonly kind: 'swiftlet-info-forgotten';
  readonly id: number;
}

/** How long a writer waits for its peers at most (a stuck primary must not hold writes). */
const TELL_TIMEOUT_MS = 2000;

function isForget(message: unknown): message is Forget {
  return typeof message === 'object' && message !== null && (message as { kind?: unknown }).kind === 'swiftlet-info-forget';
}

function isForgotten(message: unknown): message is Forgotten {
  return typeof message === 'object' && message !== null && (message as { kind?: unknown }).kind === 'swiftlet-info-forgotten';
}

/**
 * In a worker: peers reached through the primary, and `forgetWith`, which applies the other
 * workers' messages to this worker's cache. Undefined outside a node:cluster worker.
 */
export function workerInfoPeers(): { peers: InfoPeers; forgetWith(forget: (account: string, container?: string) => void): void } | undefined {
  if (!cluster.isWorker) return undefined;
  const pending = new Map<number, () => void>();
  let nextId = 0;
  let forgetHere: (account: string, container?: string) => void = () => undefined;
  process.on('message', (message: unknown) => {
    if (isForget(message)) {
      forgetHere(message.account, message.container);
      const reply: Forgotten = { kind: 'swiftlet-info-forgotten', id: message.id };
      process.send?.(reply);
    } else if (isForgotten(message)) {
      pending.get(message.id)?.();
    }
  });
  return {
    peers: {
      tell(account, container) {
        const id = nextId++;
        return new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            pending.delete(id);
            resolve();
          };
          const timer = setTimeout(done, TELL_TIMEOUT_MS);
          pending.set(id, done);
          const message: Forget = { kind: 'swiftlet-info-forget', id, account, ...(container !== undefined ? { container } : {}) };
          if (!process.send?.(message)) done();
        });
      },
    },
    forgetWith(forget) {
      forgetHere = forget;
    },
  };
}

/** In the primary: passes each worker's `forget` to the others and answers it once they all have. */
export function relayInfoForgets(): void {
  // Per relayed message: the writer, its own id, and the workers yet to answer.
  const relayed = new Map<number, { from: Worker; id: number; waiting: Set<Worker> }>();
  let nextId = 0;
  const settle = (key: number): void => {
    const entry = relayed.get(key);
    if (!entry || entry.waiting.size > 0) return;
    relayed.delete(key);
    const reply: Forgotten = { kind: 'swiftlet-info-forgotten', id: entry.id };
    if (entry.from.isConnected()) entry.from.send(reply);
  };
  cluster.on('message', (from, message: unknown) => {
    if (isForget(message)) {
      const key = nextId++;
      const others = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w !== from && w.isConnected());
      relayed.set(key, { from, id: message.id, waiting: new Set(others) });
      for (const worker of others) worker.send({ ...message, id: key } satisfies Forget);
      settle(key);
    } else if (isForgotten(message)) {
      relayed.get(message.id)?.waiting.delete(from);
      settle(message.id);
    }
  });
  cluster.on('exit', (worker) => {
    for (const [key, entry] of relayed) {
      entry.waiting.delete(worker);
      settle(key);
    }
  });
}
