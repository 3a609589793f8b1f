/**
 * Volume backup throughput against any Swift endpoint, through the backup engine Cinder's
 * Swift driver is the model for (compute/volume/backup/) and volume files on local disk:
 *
 *   node bench/volume-backup.ts --auth http://127.0.0.1:8080/auth/v1.0 --user test:tester \
 *        --key testing [--size-mib 1024] [--changed 0.01] [--compression zlib]
 *        [--chunk-mib 50] [--concurrency 4] [--threads <cores>] [--dir /tmp]
 *        [--cluster-pids 123,456] [--format raw|qcow2] [--spots 64] [--cold] [--fill mixed|random]
 *
 * Makes a sparse volume of `size-mib` (raw, or qcow2: read and written through qemu-nbd, and
 * each backup marks it, as the volume service does, so the incremental reads only the blocks
 * its dirty bitmap says changed), fills it (a third zeros, a third text, a third
 * random bytes, per MiB; `--fill random`: random bytes only, as an encrypted volume), then times: the cluster's own large-object rate in the same run (the
 * volume's bytes PUT as one object, then GET), a full backup, an incremental after `changed` of
 * the volume was rewritten in `spots` places (each becomes at least one object), and restores of both onto new volumes, each checked
 * against the volume's SHA-256 at that point. Prints MiB/s of volume bytes for each step, the
 * CPU seconds per GiB this process spent (the volume service's part: hashing, compression, on
 * `--threads` chunk worker threads, counted with the rest of the process)
 * and, given `--cluster-pids` (the proxy's and storage processes' pids; their children are
 * counted too), the cluster's; then the backup's and restore's rates against the PUT's and
 * GET's (issue 19's goal: within 15%) and the incremental's time against a tenth of the full
 * one's. Rates on a busy machine are noise; CPU per GiB holds better.
 *
 * The volume's bytes are in the page cache when each backup reads them (this run has just
 * written and read them; `fincore` on its `volume-vol` says so on a host with the memory): the
 * incremental measures reading the volume from memory and hashing it, not the disk. Cold, the
 * read of the whole volume at the disk's rate comes first.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitArgs, unknownFlag } from '../common/cli-args.ts';
import { systemClock } from '../common/clock.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { SwiftClient } from '../client/swift-client.ts';
import { ChunkedBackupEngine, type StoredBackup } from '../compute/volume/backup/chunked-backup.ts';
import { ChunkWorkers } from '../compute/volume/backup/chunk-workers.ts';
import { SwiftBackupObjectStore } from '../compute/volume/backup/swift-object-store.ts';
import { FileVolumeDriver } from '../compute/volume/driver/file.ts';
import type { VolumeFile } from '../compute/volume/driver/types.ts';
import { changedSpots, volumeMiB } from './volume-layout.ts';

const FLAGS = ['auth', 'user', 'key', 'size-mib', 'changed', 'compression', 'chunk-mib', 'concurrency', 'threads', 'dir', 'cluster-pids', 'format', 'spots', 'fill'];
const BARE = ['cold'];
const { flags } = splitArgs(process.argv.slice(2), new Set(FLAGS));
const cold = flags.has('cold');
const unknown = unknownFlag(flags, [...FLAGS, ...BARE]);
if (unknown !== undefined) throw new Error(`unknown flag --${unknown}`);
const MiB = 1024 * 1024;
const size = Number(flags.get('size-mib') ?? 1024) * MiB;
const changed = Number(flags.get('changed') ?? 0.01);
const http = new UndiciBackendClient();
const client = new SwiftClient({ authUrl: flags.get('auth') ?? 'http://127.0.0.1:8080/auth/v1.0', user: flags.get('user') ?? 'test:tester', key: flags.get('key') ?? 'testing' }, { http, clock: systemClock });
const backupContainer = `volumebackups-bench-${randomBytes(3).toString('hex')}`;
const workers = new ChunkWorkers(flags.has('threads') ? { threads: Number(flags.get('threads')) } : {});
const engine = new ChunkedBackupEngine(
  {
    chunkSizeBytes: Number(flags.get('chunk-mib') ?? 50) * MiB,
    compression: flags.get('compression') ?? 'zlib',
    ...(flags.has('concurrency') ? { uploadConcurrency: Number(flags.get('concurrency')) } : {}),
    defaultContainer: backupContainer,
  },
  { store: new SwiftBackupObjectStore(client), clock: systemClock, workers },
);
const dir = await mkdtemp(join(flags.get('dir') ?? tmpdir(), 'swiftlet-volume-bench-'));
const format = flags.get('format') ?? 'raw';
if (format !== 'raw' && format !== 'qcow2') throw new Error(`--format ${format}: raw or qcow2`);
const driver = new FileVolumeDriver({ dir, defaultFormat: format });

const fill = flags.get('fill') ?? 'mixed';
if (fill !== 'mixed' && fill !== 'random') throw new Error(`--fill ${fill}: mixed or random`);


async function volumeSha(id: string): Promise<string> {
  const file = await driver.openVolume(id, 'r');
  const hash = createHash('sha256');
  for (let at = 0; at < file.sizeBytes; at += 8 * MiB) hash.update(await file.read(at, 8 * MiB));
  await file.close();
  return hash.digest('hex');
}

const TICK = 100; // CLK_TCK on Linux
const clusterPids = (flags.get('cluster-pids') ?? '').split(',').filter((p) => p !== '').map(Number);

/** CPU seconds (user + system) of `pids` and their children, from /proc. */
async function clusterCpu(): Promise<number> {
  if (clusterPids.length === 0) return 0;
  const all = new Set(clusterPids);
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (all.has(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))) all.add(Number(entry));
  }
  let seconds = 0;
  for (const pid of all) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (stat) seconds += (Number(f[11]) + Number(f[12])) / TICK;
  }
  return seconds;
}

const rates = new Map<string, { seconds: number; mibps: number }>();

/** CPU seconds of this process and its children that ended (qemu-nbd), from /proc. */
async function ownCpu(): Promise<number> {
  const f = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / TICK;
}

const request = (id: string, parent?: StoredBackup) => ({ id, volumeId: 'vol', name: id, description: null, createdAt: new Date(systemClock.now()).toISOString(), ...(parent ? { parent } : {}) });

/**
 * A backup as the volume service makes one: the volume marked (changed-block tracking, qcow2
 * only), opened while the engine fetches the parent's hashes, backed up, closed; counts the
 * bytes read. The backup is available then; the marks before it are dropped after (as the
 * service does before it frees the volume), outside the time.
 */
async function backupAs(id: string, parent?: StoredBackup): Promise<{ backup: Awaited<ReturnType<typeof engine.backup>>; bytesRead: number }> {
  let bytesRead = 0;
  const opening = driver
    .markChanges('vol', id)
    .then(() => driver.openVolume('vol', 'r'))
    .then((file): VolumeFile => {
      const readInto = file.readInto?.bind(file);
      return {
        sizeBytes: file.sizeBytes,
        read: file.read.bind(file),
        write: file.write.bind(file),
        sync: file.sync.bind(file),
        close: file.close.bind(file),
        ...(file.changedSince ? { changedSince: file.changedSince.bind(file) } : {}),
        ...(readInto
          ? {
              readInto: async (b: Uint8Array, at: number) => {
                const n = await readInto(b, at);
                bytesRead += n;
                return n;
              },
            }
          : {}),
      };
    });
  try {
    return { backup: await engine.backup(request(id, parent), opening), bytesRead };
  } finally {
    await (await opening.catch(() => undefined))?.close();
  }
}

/**
 * `--cold`: the page cache is dropped before each backup (root: /proc/sys/vm/drop_caches), so
 * it reads the volume from the disk, as a backup of a volume no one read lately does.
 */
async function dropCaches(): Promise<void> {
  if (!cold) return;
  execFileSync('sync');
  await writeFile('/proc/sys/vm/drop_caches', '1');
}

async function timed<T>(label: string, bytes: number, fn: () => Promise<T>): Promise<T> {
  const cpu = await ownCpu();
  const cluster = await clusterCpu();
  const start = systemClock.monotonic();
  const out = await fn();
  const s = (systemClock.monotonic() - start) / 1000;
  const gib = bytes / (1024 * MiB);
  const own = ((await ownCpu()) - cpu) / gib;
  const theirs = clusterPids.length > 0 ? `  cluster ${(((await clusterCpu()) - cluster) / gib).toFixed(2)} CPU s/GiB` : '';
  rates.set(label, { seconds: s, mibps: bytes / MiB / s });
  console.log(`${label.padEnd(34)} ${(bytes / MiB).toFixed(0).padStart(6)} MiB  ${s.toFixed(2).padStart(7)} s  ${(bytes / MiB / s).toFixed(1).padStart(7)} MiB/s  this process ${own.toFixed(2)} CPU s/GiB${theirs}`);
  return out;
}

/** The volume's bytes, 8 MiB at a time. */
async function* volumeData(id: string): AsyncGenerator<Uint8Array> {
  const file = await driver.openVolume(id, 'r');
  try {
    for (let at = 0; at < file.sizeBytes; at += 8 * MiB) yield await file.read(at, Math.min(8 * MiB, file.sizeBytes - at));
  } finally {
    await file.close();
  }
}

const backups: StoredBackup[] = [];
try {
  await driver.createVolume('vol', size);
  const w = await driver.openVolume('vol', 'rw');
  for (let i = 0; i < size / MiB; i++) await w.write(i * MiB, volumeMiB(i, fill));
  await w.close();
  const shaFull = await volumeSha('vol');

  // The cluster's own large-object rate, in this run: the same bytes as one object.
  const container = `${backupContainer}-baseline`;
  await client.putContainer(container);
  await timed('cluster large PUT (one object)', size, async () => {
    const body = volumeData('vol');
    const res = await client.request({ method: 'PUT', container, object: 'volume', headers: { 'Content-Length': String(size) }, body });
    await res.body.dump();
    // The request stops at Content-Length without asking for more: close the volume here (a
    // qcow2 one is held by its qemu-nbd until then, and a backup cannot mark it).
    await body.return(undefined);
    if (res.status !== 201) throw new Error(`baseline PUT: ${res.status}`);
  });
  await timed('cluster large GET (one object)', size, async () => {
    const res = await client.request({ method: 'GET', container, object: 'volume' });
    if (res.status !== 200) throw new Error(`baseline GET: ${res.status}`);
    for await (const _ of res.body) {
      // Read and dropped, as a restore's reads are before their writes.
    }
  });
  await (await client.request({ method: 'DELETE', container, object: 'volume' })).body.dump();
  await (await client.request({ method: 'DELETE', container })).body.dump();

  await dropCaches();
  const { backup: full } = await timed('full backup', size, () => backupAs('full'));
  backups.push(full);
  await driver.dropChangeMarks('vol', { allBut: 'full' });

  const spots = Number(flags.get('spots') ?? 64);
  const { each, offsets } = changedSpots(size, changed, spots);
  const w2 = await driver.openVolume('vol', 'rw');
  for (const at of offsets) await w2.write(at, randomBytes(each));
  await w2.close();
  const shaIncr = await volumeSha('vol');
  await dropCaches();
  const { backup: incr, bytesRead } = await timed(`incremental (${(changed * 100).toFixed(1)}% changed)`, size, () => backupAs('incr', full));
  backups.push(incr);
  await driver.dropChangeMarks('vol', { allBut: 'incr' });
  console.log(`  incremental read ${(bytesRead / MiB).toFixed(1)} MiB of the ${format} volume, uploaded ${incr.objectCount} objects, ${(incr.bytesUploaded / MiB).toFixed(1)} MiB of volume data`);

  for (const [label, chain, expected] of [['restore full', [full], shaFull], ['restore incremental (chain of 2)', [incr, full], shaIncr]] as const) {
    const target = `restore-${chain.length}`;
    await driver.createVolume(target, size);
    const t = await driver.openVolume(target, 'rw');
    await timed(label, size, () => engine.restore(chain, t, { volumeIsNew: true }));
    await t.close();
    const got = await volumeSha(target);
    if (got !== expected) throw new Error(`${label}: restored volume differs (sha256 ${got}, expected ${expected})`);
    await driver.deleteVolume(target);
  }
  console.log('restored volumes match byte for byte');
  const rate = (label: string): number => rates.get(label)?.mibps ?? Number.NaN;
  const ratio = (a: string, b: string): string => `${((rate(a) / rate(b)) * 100).toFixed(0)}%`;
  console.log(`full backup at ${ratio('full backup', 'cluster large PUT (one object)')} of the large PUT rate, restore at ${ratio('restore full', 'cluster large GET (one object)')} of the large GET rate (goal: 85% or more)`);
  const incrLabel = `incremental (${(changed * 100).toFixed(1)}% changed)`;
  const fraction = (rates.get(incrLabel)?.seconds ?? Number.NaN) / (rates.get('full backup')?.seconds ?? Number.NaN);
  console.log(`incremental took ${(fraction * 100).toFixed(1)}% of the full backup's time (goal: under 10%)`);
  console.log('rates on a busy machine are noisy; CPU seconds per GiB hold better');
} finally {
  for (const b of backups.reverse()) await engine.delete(b).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
  await http.close();
  await workers.close();
}
