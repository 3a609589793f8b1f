/**
 * What one replica's object write costs the object server's process, without HTTP: objects
 * written through `FsDiskFileManager` (temp file, write, fdatasync, rename, directory flushes,
 * suffix marks) into random partitions of one device, `--concurrency` at a time, and the
 * process's CPU (all threads: the event loop, libuv's pool, V8's) per write.
 *
 *   node bench/diskfile-put-cost.ts --dir DIR [--size 204800] [--count 500] [--concurrency 16]
 *       [--rounds 3] [--direct-min BYTES] [--small-max BYTES]
 *
 * `--direct-min` is the size from which writes go around the page cache (`O_DIRECT`);
 * `--small-max` keeps objects up to that size in the device's database instead of files.
 */
import { randomBytes, createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { splitArgs } from '../common/cli-args.ts';
import { systemClock } from '../common/clock.ts';
import { levelKvOpener } from '../common/db/level-kv.ts';
import { HashPath } from '../common/hash-path.ts';
import { nullLogger } from '../common/logger.ts';
import { Timestamp } from '../common/timestamp.ts';
import { FsDiskFileManager } from '../object/diskfile/fs.ts';

const FLAGS = ['dir', 'size', 'count', 'concurrency', 'rounds', 'direct-min', 'small-max'];
const { flags } = splitArgs(process.argv.slice(2), new Set(FLAGS));
const dir = flags.get('dir') ?? '/tmp/diskfile-put-cost';
const size = Number(flags.get('size') ?? 204800);
const count = Number(flags.get('count') ?? 500);
const concurrency = Number(flags.get('concurrency') ?? 16);
const rounds = Number(flags.get('rounds') ?? 3);
const run = `${Date.now()}`;
mkdirSync(join(dir, run, 'sda'), { recursive: true });
const smallMax = flags.has('small-max') ? Number(flags.get('small-max')) : undefined;
const manager = new FsDiskFileManager({
  devices: join(dir, run),
  mountCheck: false,
  hashPath: new HashPath('', 'bench'),
  clock: systemClock,
  logger: nullLogger,
  ...(flags.has('direct-min') ? { directWriteMinBytes: Number(flags.get('direct-min')) } : {}),
  ...(smallMax !== undefined ? { smallObjects: { maxBytes: smallMax, open: levelKvOpener({ sync: true }) } } : {}),
});
const body = randomBytes(size);
const etag = createHash('md5').update(body).digest('hex');
let seq = 0;

async function putOne(name: string): Promise<void> {
  const df = await manager.diskFile({ device: 'sda', partition: Math.floor(Math.random() * 1024), account: 'AUTH_test', container: 'c', object: name });
  const writer = await df.create(size);
  for (let i = 0; i < size; i += 65536) await writer.write(body.subarray(i, i + 65536));
  const ts = Timestamp.parse(1_800_000_000 + seq++ / 1e5);
  await writer.commit({ name: `/AUTH_test/c/${name}`, 'X-Timestamp': ts.internal, 'Content-Type': 'application/octet-stream', 'Content-Length': String(size), ETag: etag });
}

for (let r = 0; r < rounds; r++) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await putOne(`r${r}-o${next++}`);
  }));
  const cpu = process.cpuUsage(cpu0);
  const ms = (x: number): string => (x / 1000 / count).toFixed(3);
  console.log(`round ${r + 1}: ${count} writes of ${size} B in ${((performance.now() - t0) / 1000).toFixed(2)} s; CPU per write ${ms(cpu.user + cpu.system)} ms (user ${ms(cpu.user)}, sys ${ms(cpu.system)}); load ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`);
}
await manager.close();
