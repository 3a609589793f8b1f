/**
 * The floor under the proxy's CPU per GiB of a large PUT on this machine: a bare `node:http`
 * server that does only what the proxy must do with the bytes (copy the client's 64 KiB socket
 * reads into 1 MiB pieces in `data` events, hash them, write each piece to N raw TCP sinks in
 * another process, reuse a piece once every sink's socket wrote it), under the same load as
 * `large-objects.sh` (8 x 64 MiB, 4 at a time, from a client process). It prints this process's
 * CPU seconds (user + system) per GiB for each round; compare with the proxy's in
 * `npm run bench:write-cost` or `/proc/<pid>/stat` (docs/performance.md, "Large PUTs: the
 * proxy against its floor").
 *
 *   node bench/put-relay-floor.ts [--port 19251] [--sink-port 19250] [--rounds 3]
 *       [--hash md5,xxh64|md5|xxh64|none] [--sinks 3] [--keep-alive yes|no]
 */
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { createConnection, createServer as createNetServer, type Socket } from 'node:net';
import { splitArgs } from '../common/cli-args.ts';
import { createXxh64 } from '../common/hash-path.ts';
import { releaseBuffer } from '../common/release-buffer.ts';

const { flags, positional } = splitArgs(process.argv.slice(2), new Set(['port', 'sink-port', 'rounds', 'hash', 'sinks', 'keep-alive']));
const port = Number(flags.get('port') ?? 19251);
const sinkPort = Number(flags.get('sink-port') ?? 19250);
const PIECE = 1024 * 1024;
const OBJECT = 64 * 1024 * 1024;
const COUNT = 8;

if (positional[0] === 'sink') {
  createNetServer((s) => s.on('data', () => undefined)).listen(sinkPort, '127.0.0.1', () => process.send?.('ready'));
} else if (positional[0] === 'client') {
  const body = randomBytes(OBJECT);
  const agent = new Agent({ keepAlive: flags.get('keep-alive') !== 'no', maxSockets: 4 });
  const put = (i: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'PUT', path: `/o${i}`, agent, headers: { 'content-length': String(body.length) } }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  process.on('message', async () => {
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      while (next < COUNT) await put(next++);
    }));
    process.send?.('done');
  });
  process.send?.('ready');
} else {
  const hash = (flags.get('hash') ?? 'md5,xxh64').split(',');
  const sinkCount = Number(flags.get('sinks') ?? 3);
  const rounds = Number(flags.get('rounds') ?? 3);
  const childArgs = process.argv.slice(2);
  const sink = fork(import.meta.filename, ['sink', ...childArgs]);
  await new Promise((resolve) => sink.once('message', resolve));
  const server = createServer(async (req, res) => {
    const sinks = await Promise.all(Array.from({ length: sinkCount }, () => new Promise<Socket>((resolve) => {
      const s = createConnection(sinkPort, '127.0.0.1', () => resolve(s));
      s.setNoDelay(true);
    })));
    const md5 = hash.includes('md5') ? createHash('md5') : undefined;
    const xxh = hash.includes('xxh64') ? createXxh64() : undefined;
    const free: Buffer[] = [];
    let piece: Buffer | undefined;
    let fill = 0;
    let inFlight = 0;
    let ended = false;
    const finish = (): void => {
      md5?.digest('hex');
      xxh?.digestHex();
      for (const s of sinks) s.destroy();
      res.end();
    };
    const send = (p: Buffer): void => {
      md5?.update(p);
      xxh?.update(p);
      if (sinks.length === 0) return void free.push(p);
      let left = sinks.length;
      inFlight++;
      if (inFlight >= 2) req.pause();
      for (const s of sinks) {
        s.write(p, () => {
          if (--left > 0) return;
          inFlight--;
          free.push(p);
          req.resume();
          if (ended && inFlight === 0) finish();
        });
      }
    };
    req.on('data', (chunk: Buffer) => {
      let at = 0;
      while (at < chunk.length) {
        piece ??= free.pop() ?? Buffer.allocUnsafeSlow(PIECE);
        const n = Math.min(PIECE - fill, chunk.length - at);
        piece.set(at === 0 && n === chunk.length ? chunk : chunk.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill === PIECE) {
          const full = piece;
          piece = undefined;
          fill = 0;
          send(full);
        }
      }
      releaseBuffer(chunk);
    });
    req.on('end', () => {
      ended = true;
      if (piece && fill > 0) send(piece.subarray(0, fill));
      if (inFlight === 0) finish();
    });
  });
  server.listen(port, '127.0.0.1');
  const client = fork(import.meta.filename, ['client', ...childArgs]);
  await new Promise((resolve) => client.once('message', resolve));
  const gib = (COUNT * OBJECT) / 2 ** 30;
  for (let round = 1; round <= rounds; round++) {
    const before = process.cpuUsage();
    client.send('go');
    await new Promise((resolve) => client.once('message', resolve));
    const used = process.cpuUsage(before);
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    console.log(`round ${round} (hash ${hash.join('+')}, ${sinkCount} sinks): ${((used.user + used.system) / 1e6 / gib).toFixed(2)} CPU-s/GiB (user ${(used.user / 1e6 / gib).toFixed(2)}, sys ${(used.system / 1e6 / gib).toFixed(2)}), load ${load}`);
  }
  client.kill();
  sink.kill();
  server.close();
}
