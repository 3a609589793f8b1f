/**
 * The backup engine's zlib codec (compute/volume/backup/compression.ts) alone, in one process,
 * CPU milliseconds per round:
 *
 *   node bench/backup-codec.ts [--rounds 4]
 *
 * on the runs an incremental of `bench/volume-backup.ts` uploads (its mixed volume: per MiB
 * zeros, text or random bytes; 1% rewritten with random bytes in 64 places, each run widened to
 * the 32 KiB blocks it touches) and on one 50 MiB chunk of random bytes (a full backup of an
 * encrypted volume). Says how many runs came out compressed (smaller than they went in).
 */
import { randomBytes } from 'node:crypto';
import { splitArgs, unknownFlag } from '../common/cli-args.ts';
import { compressorFor } from '../compute/volume/backup/compression.ts';
import { changedSpots, volumeMiB } from './volume-layout.ts';

const { flags } = splitArgs(process.argv.slice(2), new Set(['rounds']));
const unknown = unknownFlag(flags, ['rounds']);
if (unknown !== undefined) throw new Error(`unknown flag --${unknown}`);
const rounds = Number(flags.get('rounds') ?? 4);
const MiB = 1 << 20;
const BLOCK = 32 * 1024;
const size = 1024 * MiB;
const spots = 64;
const { each, offsets } = changedSpots(size, 0.01, spots);

const runs: Buffer[] = [];
for (const at of offsets) {
  const start = Math.floor(at / BLOCK) * BLOCK;
  const end = Math.ceil((at + each) / BLOCK) * BLOCK;
  const run = Buffer.alloc(end - start);
  for (let m = Math.floor(start / MiB); m * MiB < end; m++) {
    const from = Math.max(start, m * MiB);
    // A short text MiB leaves the rest of its place zeros, as the hole does on the volume.
    const mib = volumeMiB(m, 'mixed');
    if (from - m * MiB < mib.length) mib.copy(run, from - start, from - m * MiB, Math.min(end - m * MiB, mib.length));
  }
  randomBytes(each).copy(run, at - start);
  runs.push(run);
}
const chunk = randomBytes(50 * MiB);
const zlib = compressorFor('zlib');
if (!zlib) throw new Error('no zlib codec');
const cpuMs = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};
for (let r = 0; r < rounds; r++) {
  let t = process.cpuUsage();
  let compressed = 0;
  for (const run of runs) {
    const out = zlib.compress(run);
    if (out !== undefined && out.length < run.length) compressed++;
  }
  const runsMs = cpuMs(t);
  t = process.cpuUsage();
  zlib.compress(chunk);
  console.log(`round ${r + 1}: ${spots} changed runs ${runsMs.toFixed(1)} ms CPU (${compressed} compressed), a 50 MiB random chunk ${cpuMs(t).toFixed(1)} ms`);
}
