import { HypervisorUnavailable } from './errors.ts';

/**
 * The objects of every call into the libvirt binding still running, one array per call.
 *
 * Why: the binding's async workers keep raw pointers (`Domain*`, `Hypervisor*`) and no
 * reference to the JS objects that own them. Once a caller's code is optimized, a local that
 * is dead after an `await` is dropped, so a domain whose call waits in a busy libuv pool (a
 * storage node's disk I/O) can be collected; its finalizer runs `virDomainFree` and the worker
 * then runs on freed memory: "invalid domain pointer in virDomainGetName", then SIGSEGV
 * (docs/decisions.md, "The libvirt binding's calls hold their objects"). Module scope, so a
 * driver dropped with calls in flight still keeps its connection and domains until they end.
 */
const held = new Set<readonly object[]>();

/** How many calls hold their objects now (tests look at it). */
export function heldCallCount(): number {
  return held.size;
}

/**
 * One connection's calls into the binding: each holds its connection and the objects it is
 * given until it settles, and `close` waits for them. A call after `close` is refused: the
 * binding keeps the closed `virConnectPtr` and would use it once freed ("invalid connection
 * pointer", or worse).
 */
export class BindingCalls {
  private readonly uri: string;
  private readonly connection: object;
  private readonly running = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  constructor(uri: string, connection: object) {
    this.uri = uri;
    this.connection = connection;
  }

  /** Runs `call` with the connection and `objects` held until it settles. @throws {HypervisorUnavailable} once closed */
  run<T>(objects: readonly object[], call: () => Promise<T>): Promise<T> {
    if (this.closing !== undefined) return Promise.reject(new HypervisorUnavailable(this.uri, 'the libvirt connection is closed'));
    const settled = hold([this.connection, ...objects], call);
    this.running.add(settled);
    const forget = () => this.running.delete(settled);
    settled.then(forget, forget);
    return settled;
  }

  /** Refuses new calls, waits for the running ones, then runs `closeCall` (once, however often asked). */
  close(closeCall: () => Promise<void>): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.running]);
      await hold([this.connection], closeCall);
    })();
    return this.closing;
  }
}

async function hold<T>(objects: readonly object[], call: () => Promise<T>): Promise<T> {
  held.add(objects);
  try {
    return await call();
  } finally {
    held.delete(objects);
  }
}
