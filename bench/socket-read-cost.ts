/**
 * What a node process pays to receive bytes from a TCP socket on loopback, by how it reads:
 *
 *   node bench/socket-read-cost.ts [--mib 2048] [--rounds 2]
 *
 * A child process writes `mib` MiB in 1 MiB writes; this process reads them three ways, in turn:
 * - `kept`: 'data' events, each chunk left to the collector (what a reader that keeps or
 *   forwards chunks without releasing them pays);
 * - `released`: 'data' events, each chunk's memory given back once read (`releaseBuffer`);
 * - `onread`: one 64 KiB buffer read into again and again (`net.connect({ onread })`).
 * Printed per way: CPU seconds per GiB of this process (user and system), reads, minor page
 * faults. The writer's own cost is not counted.
 */
import { fork } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { splitArgs } from '../common/cli-args.ts';
import { releaseBuffer } from '../common/release-buffer.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['mib', 'rounds']));
const mib = Number(flags.get('mib') ?? 2048);

if (flags.has('write')) {
  const piece = Buffer.alloc(1024 * 1024, 7);
  const server = createServer((socket) => {
    let left = mib;
    const more = (): void => {
      while (left > 0) {
        left--;
        if (!socket.write(piece)) return void socket.once('drain', more);
      }
      socket.end();
    };
    more();
  });
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port));
  process.on('disconnect', () => server.close());
} else {
  const rounds = Number(flags.get('rounds') ?? 2);
  for (let round = 1; round <= rounds; round++) {
    for (const way of ['kept', 'released', 'onread'] as const) await measure(way);
  }
}

async function measure(way: 'kept' | 'released' | 'onread'): Promise<void> {
  const writer = fork(import.meta.filename, ['--write', '--mib', String(mib)]);
  const port = await new Promise<number>((resolve) => writer.once('message', (p) => resolve(p as number)));
  let bytes = 0;
  let reads = 0;
  const cpu = process.cpuUsage();
  const faults = process.resourceUsage().minorPageFault;
  await new Promise<void>((resolve, reject) => {
    let socket: Socket;
    if (way === 'onread') {
      socket = connect({
        port,
        host: '127.0.0.1',
        onread: {
          buffer: Buffer.alloc(64 * 1024),
          callback: (n) => {
            bytes += n;
            reads++;
            return true;
          },
        },
      });
    } else {
      socket = connect(port, '127.0.0.1');
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        reads++;
        if (way === 'released') releaseBuffer(chunk);
      });
    }
    socket.on('end', resolve);
    socket.on('error', reject);
  });
  const used = process.cpuUsage(cpu);
  const gib = bytes / 2 ** 30;
  writer.disconnect();
  console.log(`${way.padEnd(8)} cpu ${((used.user + used.system) / 1e6 / gib).toFixed(3)} s/GiB (user ${(used.user / 1e6 / gib).toFixed(3)}, sys ${(used.system / 1e6 / gib).toFixed(3)})  reads ${reads}  minor faults ${process.resourceUsage().minorPageFault - faults}`);
}
