/**
 * What a large footered PUT (as the proxy sends it) costs one object server's process, without
 * the proxy: `--count` objects of `--size-mib` MiB, `--parallel` at a time, each sent as
 * Swift's MIME document with the metadata footer, in 1 MiB pieces (what the proxy writes), to
 * a lone object server in its own process; prints the server's CPU (user + system, from /proc)
 * per GiB for each round. The client's hashing is done before the clock starts.
 *
 *   node bench/object-put-cost.ts [--dir DIR] [--size-mib 64] [--count 8] [--parallel 4] [--rounds 4] [--checksum xxh64|blocks]
 *       [--server-root DIR]   (the object server of another checkout, for A/B runs: `git archive REV | tar -x -C DIR`)
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitArgs } from '../common/cli-args.ts';
import { BodyHashes, BOUNDARY_HEADER, blockChecksumsKind, CHECKSUM_HEADER, FOOTER_BLOCK_BYTES, FOOTER_HEADER, footerDocument, footerPreamble, newBoundary, OBJ_LENGTH_HEADER, XXH64_CHECKSUM } from '../common/http/put-footer.ts';
import { xxh64Hex } from '../common/hash-path.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['dir', 'size-mib', 'count', 'parallel', 'rounds', 'checksum', 'server-root']));
const sizeMib = Number(flags.get('size-mib') ?? 64);
const count = Number(flags.get('count') ?? 8);
const parallel = Number(flags.get('parallel') ?? 4);
const rounds = Number(flags.get('rounds') ?? 4);
const devices = flags.get('dir') ?? (await mkdtemp(join(tmpdir(), 'bench-object-put-')));
await mkdir(join(devices, 'sda'), { recursive: true });

const serverRoot = flags.get('server-root') ?? join(import.meta.dirname, '..');
const child = spawn(process.execPath, [join(serverRoot, 'test/helpers/object-server-process.ts'), devices], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve) => child.stdout.on('data', (c: Buffer) => resolve(Number(/listening (\d+)/.exec(c.toString())?.[1]))));
const agent = new Agent({ keepAlive: true, maxSockets: parallel });

const body = randomBytes(sizeMib * 1024 * 1024);
const boundary = newBoundary();
const hashes = new BodyHashes();
hashes.update(body);
const preamble = footerPreamble(boundary);
// `--checksum xxh64`: the body's own xxHash64, as proxies before the block checksums sent it.
const kind = flags.get('checksum') === 'xxh64' ? XXH64_CHECKSUM : blockChecksumsKind(FOOTER_BLOCK_BYTES);
const footer = footerDocument(boundary, kind === XXH64_CHECKSUM ? { ...hashes.footer(), [CHECKSUM_HEADER]: xxh64Hex(body) } : hashes.footer());
const PIECE = 1024 * 1024;

async function serverCpuSeconds(): Promise<number> {
  const fields = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

let timestamp = Date.now() / 1000;
function put(name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    timestamp += 0.00001;
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: `/sda/1/a/c/${name}`,
        agent,
        headers: {
          'x-timestamp': timestamp.toFixed(5),
          'content-type': 'application/octet-stream',
          'content-length': String(preamble.length + body.length + footer.length),
          [FOOTER_HEADER]: 'yes',
          [BOUNDARY_HEADER]: boundary,
          [CHECKSUM_HEADER]: kind,
          [OBJ_LENGTH_HEADER]: String(body.length),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    // As the proxy sends it: 1 MiB pieces, each waited for (its write callback).
    const pieces = [preamble];
    for (let at = 0; at < body.length; at += PIECE) pieces.push(body.subarray(at, at + PIECE));
    pieces.push(footer);
    const next = (): void => {
      const piece = pieces.shift();
      if (piece === undefined) req.end();
      else req.write(piece, next);
    };
    next();
  });
}

for (let round = 1; round <= rounds; round++) {
  const before = await serverCpuSeconds();
  const t0 = performance.now();
  let i = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (i < count) {
        const status = await put(`r${round}-o${i++}`);
        if (status !== 201) throw new Error(`PUT: ${status}`);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const gib = (count * body.length) / 2 ** 30;
  const load = (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  console.log(`round ${round}: ${((gib * 2 ** 30) / 1e6 / seconds).toFixed(0)} MB/s (noisy), server cpu ${(((await serverCpuSeconds()) - before) / gib).toFixed(2)} s per GiB; load ${load}`);
}
agent.destroy();
child.kill('SIGTERM');
console.log(`# data left in ${devices}`);
