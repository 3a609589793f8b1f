import { connect } from 'node:net';
import type { Clock } from '../common/clock.ts';

/** Waits until every port accepts connections, or the time is up. */
export async function waitForPorts(ports: readonly number[], timeoutMs: number, clock: Clock): Promise<boolean> {
  const deadline = clock.monotonic() + timeoutMs;
  for (const port of ports) {
    while (!(await accepts(port))) {
      if (clock.monotonic() > deadline) return false;
      await clock.sleep(100);
    }
  }
  return true;
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
