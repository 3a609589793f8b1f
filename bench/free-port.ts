import { createServer } from 'node:net';
import { AIO_NODES, aioPorts } from '../cli/aio-setup.ts';

// Ports are picked below Linux's ephemeral range (32768+): there, an outgoing connection could
// take a port between the check and the listen.

/** A port nobody listens on now, in 30000-32767 (storage port bases stay below 30000). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 30_000 + Math.floor(Math.random() * 2768);
    if (await canBind(port)) return port;
  }
}

/** A storage port base (see `aioPorts`) whose node ports are all free now. */
export async function freePortBase(): Promise<number> {
  for (;;) {
    const base = 10_000 + 10 * Math.floor(Math.random() * 1990);
    const ports = AIO_NODES.flatMap((n) => Object.values(aioPorts(n, base)));
    if ((await Promise.all(ports.map(canBind))).every(Boolean)) return base;
  }
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
