/**
 * What the disk alone gives `large-objects.sh EP 64 8 4`'s writes: 8 objects of 64 MiB, 4 at
 * a time, each as three replica files written as an object server writes them (1 MiB
 * `O_DIRECT` writes, `ftruncate`, `fdatasync`, a rename into a new directory, that directory
 * and its parent fsynced), with no network, hashing or HTTP. Prints the rate as the benchmark
 * counts it (64 x 8 over the seconds: MiB/s, which it calls MB/s), the device's write rate and how busy it was
 * (`/sys/block/DEV/stat`), round by round, so a cluster's rate can be put next to the
 * disk's at the same minutes (docs/performance.md, "Large PUTs: the object server's side of
 * a replica's stream").
 *
 *   node bench/put-disk-ceiling.ts [--dir /tmp] [--rounds 3] [--write-mib 1] [--device vda]
 */
import { closeSync, constants, fdatasync, fsync, ftruncate, mkdirSync, openSync, readFileSync, renameSync, rmSync, write } from 'node:fs';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { AlignedSlabs } from '../object/diskfile/aligned-slabs.ts';

const OBJECT_BYTES = 64 * 1024 * 1024;
const OBJECTS = 8;
const PARALLEL = 4;
const REPLICAS = 3;

const { values } = parseArgs({ options: { dir: { type: 'string', default: '/tmp' }, rounds: { type: 'string', default: '3' }, 'write-mib': { type: 'string', default: '1' }, device: { type: 'string', default: 'vda' } } });
// Twelve replica files at once, each with one call in the pool at a time: as many threads.
process.env['UV_THREADPOOL_SIZE'] = String(PARALLEL * REPLICAS);
const writeBytes = Number(values['write-mib']) * 1024 * 1024;
const root = join(values.dir, `put-disk-ceiling-${process.pid}`);
const slabs = new AlignedSlabs({ slabBytes: writeBytes, count: PARALLEL * REPLICAS });
const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);
const ftruncateAsync = promisify(ftruncate);

async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  await fsyncAsync(fd);
  closeSync(fd);
}

async function replica(name: string): Promise<void> {
  const slab = slabs.take() as Buffer;
  slab.fill(0x5a);
  const tmp = join(root, `${name}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT, 0o644);
  for (let at = 0; at < OBJECT_BYTES; at += writeBytes) await writeAsync(fd, slab, 0, writeBytes, at);
  await ftruncateAsync(fd, OBJECT_BYTES - 1000);
  await fdatasyncAsync(fd);
  closeSync(fd);
  slabs.give(slab);
  const dir = join(root, name, 'hash');
  mkdirSync(dir, { recursive: true });
  renameSync(tmp, join(dir, 'x.data'));
  await Promise.all([fsyncDir(dir), fsyncDir(join(root, name))]);
}

function deviceStat(): number[] {
  return readFileSync(`/sys/block/${values.device}/stat`, 'utf8').trim().split(/\s+/).map(Number);
}

mkdirSync(root, { recursive: true });
try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    const before = deviceStat();
    const start = performance.now();
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let o = next++; o < OBJECTS; o = next++) await Promise.all(Array.from({ length: REPLICAS }, (_, r) => replica(`r${round}-o${o}-${r}`)));
    };
    await Promise.all(Array.from({ length: PARALLEL }, worker));
    const seconds = (performance.now() - start) / 1000;
    const after = deviceStat();
    const written = (((after[6] as number) - (before[6] as number)) * 512) / 1e6;
    const busy = ((after[9] as number) - (before[9] as number)) / 10 / seconds;
    console.log(`round ${round}: ${((OBJECTS * OBJECT_BYTES) / 1048576 / seconds).toFixed(1)} MB/s of objects as large-objects.sh counts (${seconds.toFixed(2)} s), device ${(written / seconds).toFixed(0)} MB/s written, busy ${busy.toFixed(0)}%`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
