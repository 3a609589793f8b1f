import { connect } from 'node:net';
import type { Clock } from '../common/clock.ts';

/** Waits until every port accepts connections: false when the time is up or `signal` aborts first. */
export async function waitForPorts(ports: readonly number[], timeoutMs: number, clock: Clock, signal?: AbortSignal): Promise<boolean> {
  const deadline = clock.monotonic() + timeoutMs;
  for (const port of ports) {
    while (!(await accepts(port))) {
      if (clock.monotonic() > deadline || signal?.aborted) return false;
      if (!(await pause(clock, 100, signal))) return false;
    }
  }
  return true;
}

/** Sleeps `ms`: false when `signal` aborted first. */
export async function pause(clock: Clock, ms: number, signal?: AbortSignal): Promise<boolean> {
  try {
    await clock.sleep(ms, signal);
    return true;
  } catch (err) {
    if (signal?.aborted) return false;
    throw err;
  }
}

/** Whether something listens on 127.0.0.1:`port`. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      res(true);
    });
    socket.once('error', () => res(false));
  });
}
