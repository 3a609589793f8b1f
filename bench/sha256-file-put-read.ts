/**
 * The volume process's CPU and wall time to PUT and read back a 1 GiB volume's sha256 file
 * (2.36 MB) through the Swift backup store, whole (bytes, as before) and in pieces (as now),
 * alternating, 24 rounds, medians of the last 20:
 *
 *   node bench/sha256-file-put-read.ts [http://127.0.0.1:8080/auth/v1.0]   (user test:tester)
 */
import { randomBytes } from 'node:crypto';
import { systemClock } from '../common/clock.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { SwiftClient } from '../client/swift-client.ts';
import { SwiftBackupObjectStore } from '../compute/volume/backup/swift-object-store.ts';
import { decodeSha256File, encodeSha256File, Sha256FileDecoder, sha256FileBody } from '../compute/volume/backup/sha256-file.ts';
import { hasOwnChunks, releaseBuffer } from '../common/release-buffer.ts';
const http = new UndiciBackendClient();
const store = new SwiftBackupObjectStore(new SwiftClient({ authUrl: process.argv[2] ?? 'http://127.0.0.1:8080/auth/v1.0', user: 'test:tester', key: 'testing' }, { http, clock: systemClock }));
await store.ensureContainer('shabench');
const lists = Array.from({ length: 21 }, () => randomBytes(1600 * 32)); // 1 GiB of 32 KiB blocks, one list per 50 MiB chunk
const fields = { backup_description: null, backup_id: 'b', backup_name: 'b', chunk_size: 32768, created_at: 'x', version: '1.0.0', volume_id: 'v' };
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };
const ways = {
  async putWhole() { await store.put('shabench', 'w', encodeSha256File(fields, lists)); return 0; },
  async putPieces() { await store.put('shabench', 'p', sha256FileBody(fields, lists)); return 0; },
  async readWhole() { return decodeSha256File(await store.get('shabench', 'w')).digests.length; },
  async readPieces() {
    const { length, pieces } = await store.getStream('shabench', 'p');
    const d = new Sha256FileDecoder(length);
    const rel = hasOwnChunks(pieces);
    for await (const piece of pieces) { d.write(piece); if (rel) releaseBuffer(piece); }
    return d.end().digests.length;
  },
};
const names = ['putWhole', 'putPieces', 'readWhole', 'readPieces'] as const;
type Way = (typeof names)[number];
const totals = new Map<Way, number[]>(names.map((n) => [n, []]));
const walls = new Map<Way, number[]>(names.map((n) => [n, []]));
for (let round = 0; round < 24; round++) {
  // Alternating which way goes first.
  for (const name of round % 2 ? names : (['putPieces', 'putWhole', 'readPieces', 'readWhole'] as const)) {
    const t = cpu();
    const w = performance.now();
    await ways[name]();
    totals.get(name)?.push(cpu() - t);
    walls.get(name)?.push(performance.now() - w);
  }
}
const med = (a: number[] = []): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? Number.NaN;
for (const name of names) console.log(`${name}: CPU median ${med(totals.get(name)?.slice(4)).toFixed(1)} ms, wall median ${med(walls.get(name)?.slice(4)).toFixed(1)} ms (rounds 5-24)`);
await http.close();
