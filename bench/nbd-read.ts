/**
 * Reading and writing a qcow2 volume whole, two ways each (issue 19):
 *
 *   node bench/nbd-read.ts [--size-mib 1024] [--chunk-mib 50] [--rounds 3] [--dir /tmp]
 *        [--changed 0.01]
 *
 * - `nbd`: qemu-nbd serves the image read-only on a unix socket and NbdClient reads it in
 *   `chunk-mib` readInto calls (each split into pipelined 4 MiB requests);
 * - `convert`: today's FileVolumeDriver path, `qemu-img convert -U -f qcow2 -O raw` to a raw
 *   working copy, then reading that file in `chunk-mib` reads.
 *
 * - `write nbd`: a restore's path, the same bytes written whole onto a new qcow2 image through a
 *   writable export, then NBD_CMD_FLUSH; `write convert`: today's, written to a raw working copy
 *   and fsynced, `qemu-img convert -O qcow2` and the result fsynced;
 * - then `incremental`: a dirty bitmap is added (`qemu-img bitmap --add --enable`), `changed` of
 *   the volume is rewritten in 64 places through a writable export, and a read-only export with
 *   the bitmap (`-B`) is asked for its dirty extents (NBD block status) and only those are read:
 *   what an incremental backup would read, against the full reads above.
 *
 * The image is made once (random bytes, 1 MiB repeated, so nothing is a hole or zeros) and the
 * two are alternated `rounds` times. Prints MiB/s, and CPU seconds per GiB of this process and
 * of the qemu children (qemu-nbd or qemu-img: utime+stime from /proc/self/stat's
 * cutime/cstime, counted once they have been waited for), with the load average. Both read a
 * file the page cache likely holds (it was just written): the comparison is of CPU and copies,
 * not of the disk.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitArgs, unknownFlag } from '../common/cli-args.ts';
import { NbdClient } from '../compute/volume/driver/nbd-client.ts';
import { startQemuNbd } from '../compute/volume/driver/qemu-nbd.ts';

const FLAGS = ['size-mib', 'chunk-mib', 'rounds', 'dir', 'changed'];
const { flags } = splitArgs(process.argv.slice(2), new Set(FLAGS));
const unknown = unknownFlag(flags, FLAGS);
if (unknown !== undefined) throw new Error(`unknown flag --${unknown}`);
const MiB = 1024 * 1024;
const size = Number(flags.get('size-mib') ?? 1024) * MiB;
const chunk = Number(flags.get('chunk-mib') ?? 50) * MiB;
const rounds = Number(flags.get('rounds') ?? 3);
const changed = Number(flags.get('changed') ?? 0.01);
const GiB = size / (1024 * MiB);

/** CPU seconds of waited-for children (cutime + cstime), from /proc/self/stat. */
async function childrenCpu(): Promise<number> {
  const fields = (await readFile('/proc/self/stat', 'utf8')).split(') ')[1]?.split(' ') ?? [];
  // After the ") ": state is field 3 of stat(5), so cutime (16) and cstime (17) are at 13 and 14.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function selfCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function load(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}

const dir = await mkdtemp(join(flags.get('dir') ?? tmpdir(), 'swiftlet-nbd-bench-'));
try {
  const raw = join(dir, 'fill.raw');
  const image = join(dir, 'vol.qcow2');
  const fh = await open(raw, 'w');
  const block = randomBytes(MiB);
  for (let at = 0; at < size; at += MiB) await fh.write(block, 0, MiB, at);
  await fh.close();
  execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, image]);
  await rm(raw);
  const buffer = new Uint8Array(chunk);

  const viaNbd = async (): Promise<void> => {
    const nbd = await startQemuNbd({ path: image, format: 'qcow2', readOnly: true, dir });
    const client = await NbdClient.connect(nbd.socket);
    for (let at = 0; at < client.size; at += chunk) await client.readInto(buffer, at);
    await client.close();
    await nbd.stop();
  };
  // Writing a whole volume (a restore onto a new qcow2 volume), made durable, both ways.
  const data = randomBytes(chunk);
  const writeViaNbd = async (): Promise<void> => {
    const out = join(dir, 'restore.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', out, String(size)]);
    const nbd = await startQemuNbd({ path: out, format: 'qcow2', readOnly: false, dir });
    const client = await NbdClient.connect(nbd.socket);
    for (let at = 0; at < size; at += chunk) await client.write(at, data.subarray(0, Math.min(chunk, size - at)));
    await client.flush();
    await client.close();
    await nbd.stop();
    await rm(out);
  };
  const writeViaConvert = async (): Promise<void> => {
    const work = join(dir, 'work.raw');
    const out = join(dir, 'restore.qcow2');
    const file = await open(work, 'w');
    for (let at = 0; at < size; at += chunk) await file.write(data, 0, Math.min(chunk, size - at), at);
    await file.sync();
    await file.close();
    execFileSync('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', work, out]);
    const synced = await open(out, 'r+');
    await synced.sync();
    await synced.close();
    await rm(work);
    await rm(out);
  };
  const viaConvert = async (): Promise<void> => {
    const work = join(dir, 'work.raw');
    execFileSync('qemu-img', ['convert', '-U', '-f', 'qcow2', '-O', 'raw', image, work]);
    const file = await open(work, 'r');
    for (let at = 0; at < size; at += chunk) await file.read(buffer, 0, Math.min(chunk, size - at), at);
    await file.close();
    await rm(work);
  };

  console.log(`# ${new Date().toISOString()} ${size / MiB} MiB qcow2, ${chunk / MiB} MiB reads, load ${await load()}`);
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of [
      ['read nbd', viaNbd],
      ['read convert', viaConvert],
      ['write nbd', writeViaNbd],
      ['write convert', writeViaConvert],
    ] as const) {
      const c0 = await childrenCpu();
      const s0 = selfCpu();
      const t0 = performance.now();
      await run();
      const seconds = (performance.now() - t0) / 1000;
      const self = selfCpu() - s0;
      const children = (await childrenCpu()) - c0;
      console.log(
        `round ${r + 1} ${name.padEnd(13)} ${(size / MiB / seconds).toFixed(0).padStart(5)} MiB/s  CPU-s/GiB: this process ${(self / GiB).toFixed(3)}, qemu ${(children / GiB).toFixed(3)}, total ${((self + children) / GiB).toFixed(3)}  load ${await load()}`,
      );
    }
  }

  // The incremental: 64 writes of `changed` / 64 of the volume each, at random places.
  execFileSync('qemu-img', ['bitmap', '--add', '--enable', image, 'swiftlet-bench']);
  const writable = await startQemuNbd({ path: image, format: 'qcow2', readOnly: false, dir });
  const writer = await NbdClient.connect(writable.socket);
  const piece = Math.max(1, Math.floor((size * changed) / 64));
  for (let i = 0; i < 64; i++) await writer.write(Math.floor(Math.random() * (size - piece)), randomBytes(piece));
  await writer.flush();
  await writer.close();
  await writable.stop();
  const context = 'qemu:dirty-bitmap:swiftlet-bench';
  const c0 = await childrenCpu();
  const s0 = selfCpu();
  const t0 = performance.now();
  const nbd = await startQemuNbd({ path: image, format: 'qcow2', readOnly: true, bitmaps: ['swiftlet-bench'], dir });
  const client = await NbdClient.connect(nbd.socket, { metaContexts: [context] });
  const extents = await client.blockStatus(context, 0, client.size);
  const tStatus = performance.now() - t0;
  let dirtyBytes = 0;
  for (const e of extents) {
    if ((e.flags & 1) === 0) continue;
    dirtyBytes += e.length;
    for (let at = e.offset; at < e.offset + e.length; at += chunk) await client.readInto(buffer.subarray(0, Math.min(chunk, e.offset + e.length - at)), at);
  }
  await client.close();
  await nbd.stop();
  const ms = performance.now() - t0;
  const cpu = selfCpu() - s0 + ((await childrenCpu()) - c0);
  console.log(
    `incremental: ${extents.filter((e) => e.flags & 1).length} dirty extents, ${(dirtyBytes / MiB).toFixed(1)} MiB (${((100 * dirtyBytes) / size).toFixed(2)}%) of 64 writes of ${(piece / 1024).toFixed(0)} KiB; block status ${tStatus.toFixed(0)} ms, all with start/stop ${ms.toFixed(0)} ms, CPU ${cpu.toFixed(3)} s  load ${await load()}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
