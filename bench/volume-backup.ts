/**
 * Volume backup throughput against any Swift endpoint, through the backup engine Cinder's
 * Swift driver is the model for (compute/volume/backup/) and volume files on local disk:
 *
 *   node bench/volume-backup.ts --auth http://127.0.0.1:8080/auth/v1.0 --user test:tester \
 *        --key testing [--size-mib 1024] [--changed 0.01] [--compression zlib]
 *        [--chunk-mib 50] [--concurrency 2] [--dir /tmp]
 *
 * Makes a sparse raw volume of `size-mib`, fills it (a third zeros, a third text, a third
 * random bytes, per MiB), then times: a full backup, an incremental after `changed` of the
 * volume was rewritten in 64 places, and restores of both onto new volumes, each checked
 * against the volume's SHA-256 at that point. Prints MB/s of volume bytes for each step.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitArgs, unknownFlag } from '../common/cli-args.ts';
import { systemClock } from '../common/clock.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { SwiftClient } from '../client/swift-client.ts';
import { ChunkedBackupEngine, type StoredBackup } from '../compute/volume/backup/chunked-backup.ts';
import { SwiftBackupObjectStore } from '../compute/volume/backup/swift-object-store.ts';
import { FileVolumeDriver } from '../compute/volume/driver/file.ts';

const FLAGS = ['auth', 'user', 'key', 'size-mib', 'changed', 'compression', 'chunk-mib', 'concurrency', 'dir'];
const { flags } = splitArgs(process.argv.slice(2), new Set(FLAGS));
const unknown = unknownFlag(flags, FLAGS);
if (unknown !== undefined) throw new Error(`unknown flag --${unknown}`);
const MiB = 1024 * 1024;
const size = Number(flags.get('size-mib') ?? 1024) * MiB;
const changed = Number(flags.get('changed') ?? 0.01);
const http = new UndiciBackendClient();
const client = new SwiftClient({ authUrl: flags.get('auth') ?? 'http://127.0.0.1:8080/auth/v1.0', user: flags.get('user') ?? 'test:tester', key: flags.get('key') ?? 'testing' }, { http, clock: systemClock });
const engine = new ChunkedBackupEngine(
  { chunkSizeBytes: Number(flags.get('chunk-mib') ?? 50) * MiB, compression: flags.get('compression') ?? 'zlib', uploadConcurrency: Number(flags.get('concurrency') ?? 2), defaultContainer: `volumebackups-bench-${randomBytes(3).toString('hex')}` },
  { store: new SwiftBackupObjectStore(client), clock: systemClock },
);
const dir = await mkdtemp(join(flags.get('dir') ?? tmpdir(), 'swiftlet-volume-bench-'));
const driver = new FileVolumeDriver({ dir });

function block(i: number): Buffer {
  if (i % 3 === 0) return Buffer.alloc(MiB);
  if (i % 3 === 1) return Buffer.from(`volume block ${i} `.repeat(MiB / 16).slice(0, MiB), 'latin1');
  return randomBytes(MiB);
}

async function volumeSha(id: string): Promise<string> {
  const file = await driver.openVolume(id, 'r');
  const hash = createHash('sha256');
  for (let at = 0; at < file.sizeBytes; at += 8 * MiB) hash.update(await file.read(at, 8 * MiB));
  await file.close();
  return hash.digest('hex');
}

async function timed<T>(label: string, bytes: number, fn: () => Promise<T>): Promise<T> {
  const start = systemClock.monotonic();
  const out = await fn();
  const s = (systemClock.monotonic() - start) / 1000;
  console.log(`${label.padEnd(34)} ${(bytes / MiB).toFixed(0).padStart(6)} MiB  ${s.toFixed(2).padStart(7)} s  ${(bytes / MiB / s).toFixed(1).padStart(7)} MiB/s`);
  return out;
}

const backups: StoredBackup[] = [];
try {
  await driver.createVolume('vol', size);
  const w = await driver.openVolume('vol', 'rw');
  for (let i = 0; i < size / MiB; i++) await w.write(i * MiB, block(i));
  await w.close();
  const shaFull = await volumeSha('vol');
  const request = (id: string, parent?: StoredBackup) => ({ id, volumeId: 'vol', name: id, description: null, createdAt: new Date(systemClock.now()).toISOString(), ...(parent ? { parent } : {}) });

  const r = await driver.openVolume('vol', 'r');
  const full = await timed('full backup', size, () => engine.backup(request('full'), r));
  await r.close();
  backups.push(full);

  const spots = 64;
  const each = Math.floor((size * changed) / spots);
  const w2 = await driver.openVolume('vol', 'rw');
  for (let s = 0; s < spots; s++) await w2.write(Math.floor(((s + 0.5) * (size - each)) / spots), randomBytes(each));
  await w2.close();
  const shaIncr = await volumeSha('vol');
  const r2 = await driver.openVolume('vol', 'r');
  const incr = await timed(`incremental (${(changed * 100).toFixed(1)}% changed)`, size, () => engine.backup(request('incr', full), r2));
  await r2.close();
  backups.push(incr);
  console.log(`  incremental uploaded ${incr.objectCount} objects, ${(incr.bytesUploaded / MiB).toFixed(1)} MiB of volume data`);

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
} finally {
  for (const b of backups.reverse()) await engine.delete(b).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
  await http.close();
}
