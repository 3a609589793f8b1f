/**
 * What the image process itself spends relaying an upload, without the cluster: the image
 * service's own upload path (`readBody` of a request, `storeImageData`, the undici seam) in
 * this process, and a sink in a child process that answers v1 auth and takes PUTs (201 with a
 * fixed ETag, the body discarded). `curl -T FILE` to it, `--rounds` times; prints CPU seconds
 * (user + system) per GiB of this process alone, and MB/s as curl saw it.
 *
 *   node [--cpu-prof] bench/image-relay-cost.ts --file F [--rounds 3] [--port 19350] [--sink-port 19351]
 *
 * `RELAY_OLD=1` reads the body as before `readBodyPieces` (`readBody`, 64 KiB chunks, own),
 * `PIECE_MIB=N` tries another piece size: both for comparisons only.
 */
import { execFile, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import { SwiftClient } from '../client/swift-client.ts';
import { systemClock } from '../common/clock.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { readBodyPieces } from '../common/http/body-pieces.ts';
import { readBody } from '../common/http/body-reader.ts';
import { listen } from '../common/http/server.ts';
import { nullLogger } from '../common/logger.ts';
import { markOwnChunks } from '../common/release-buffer.ts';
import { splitArgs } from '../common/cli-args.ts';
import { storeImageData } from '../compute/image/image-data-store.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['file', 'rounds', 'port', 'sink-port']));
const file = flags.get('file') as string;
const rounds = Number(flags.get('rounds') ?? 3);
const port = Number(flags.get('port') ?? 19350);
const sinkPort = Number(flags.get('sink-port') ?? 19351);
const run = promisify(execFile);

const SINK = `
const http = require('node:http');
http.createServer((req, res) => {
  if (req.url.startsWith('/auth/')) { res.writeHead(200, { 'x-auth-token': 'AUTH_tk', 'x-storage-url': 'http://127.0.0.1:${sinkPort}/v1/AUTH_test' }); return res.end(); }
  req.resume();
  req.on('end', () => {
    res.writeHead(req.method === 'PUT' ? 201 : 204, { etag: '"d41d8cd98f00b204e9800998ecf8427e"', 'content-length': '0' });
    res.end();
  });
}).listen(${sinkPort}, '127.0.0.1', () => console.log('ready'));
`;
const sink = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((r) => sink.stdout?.once('data', r));
const http = new UndiciBackendClient();
const client = new SwiftClient({ authUrl: `http://127.0.0.1:${sinkPort}/auth/v1.0`, user: 'test:tester', key: 'testing' }, { http, clock: systemClock });
let n = 0;
const server = await listen(
  async (req) => {
    const size = Number(req.headers['content-length']);
    const body = process.env['RELAY_OLD'] ? markOwnChunks(readBody(req.body, 60_000)) : readBodyPieces(req.body, { idleMs: 60_000, releaseChunks: true, ...(process.env['PIECE_MIB'] ? { pieceBytes: Number(process.env['PIECE_MIB']) * 2 ** 20 } : {}) });
    await storeImageData(client, `img${n++}`, body, { segmentSize: 200 * 2 ** 20, largeObjectSize: 5 * 2 ** 30, maxBytes: 2 ** 40, expectedSize: size });
    return { status: 204 };
  },
  { host: '127.0.0.1', port, logger: nullLogger },
);
const gib = statSync(file).size / 2 ** 30;
try {
  for (let r = 1; r <= rounds; r++) {
    const before = process.cpuUsage();
    const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{speed_upload}', '-X', 'PUT', '-T', file, `http://127.0.0.1:${port}/x`]);
    const used = process.cpuUsage(before);
    const [status, speed] = stdout.trim().split(' ');
    console.log(`round ${r}: ${status} ${(Number(speed) / 1e6).toFixed(1)} MB/s; relay ${((used.user + used.system) / 1e6 / gib).toFixed(2)} s per GiB (sys ${(used.system / 1e6 / gib).toFixed(2)})`);
  }
} finally {
  await server.close();
  await http.close();
  sink.kill();
}
