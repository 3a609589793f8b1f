/**
 * The memory a backup's sha256 file costs the volume process, written then read back as a
 * backup and an incremental over it do:
 *
 *   node bench/sha256-file-memory.ts [--gib 500] [--way pieces|whole]
 *
 * `whole`: the text made in one buffer before its PUT and read whole before it is decoded (the
 * engine before the file was streamed); `pieces`: made in 1 MiB pieces as they are sent (their
 * MD5 taken as they pass, as the Swift store does) and decoded from 64 KiB pieces as a GET's body
 * arrives. Prints the peak RSS and `arrayBuffers` (memory outside V8's heap: the digests and the
 * text) over the process's start, sampled every piece, and the CPU time of each step.
 */
import { createHash } from 'node:crypto';
import { splitArgs, unknownFlag } from '../common/cli-args.ts';
import { DIGEST_BYTES, decodeSha256File, encodeSha256File, Sha256FileDecoder, sha256FileBody } from '../compute/volume/backup/sha256-file.ts';

const FLAGS = ['gib', 'way'];
const { flags } = splitArgs(process.argv.slice(2), new Set(FLAGS));
const unknown = unknownFlag(flags, FLAGS);
if (unknown !== undefined) throw new Error(`unknown flag --${unknown}`);
const gib = Number(flags.get('gib') ?? 500);
const way = flags.get('way') ?? 'pieces';
if (way !== 'pieces' && way !== 'whole') throw new Error(`--way ${way}: pieces or whole`);
const MB = 1e6;
const start = process.memoryUsage();
let peakRss = start.rss;
let peakBuffers = start.arrayBuffers;
const sample = (): void => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
};
const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

// The digests as a backup holds them: one list per 50 MiB chunk (1600 blocks of 32 KiB).
const blocks = (gib * 2 ** 30) / 32768;
const perChunk = 1600;
const lists: Uint8Array[] = [];
const pattern = createHash('sha256').update('seed').digest();
for (let done = 0; done < blocks; done += perChunk) {
  const list = Buffer.allocUnsafe(Math.min(perChunk, blocks - done) * DIGEST_BYTES);
  for (let at = 0; at < list.length; at += DIGEST_BYTES) {
    pattern.copy(list, at);
    list.writeUInt32BE((done + at / DIGEST_BYTES) >>> 0, 0);
  }
  lists.push(list);
}
sample();
const held = process.memoryUsage();
const fields = { backup_description: null, backup_id: 'b', backup_name: 'b', chunk_size: 32768, created_at: '2026-12-06 10:00:00+00:00', version: '1.0.0', volume_id: 'v' };

let t = cpu();
let textBytes: number;
let back: Uint8Array;
if (way === 'whole') {
  const text = encodeSha256File(fields, lists);
  textBytes = text.length;
  createHash('md5').update(text).digest('hex');
  sample();
  const written = cpu() - t;
  t = cpu();
  // A GET read whole: the text's own copy, then decoded.
  const got = Buffer.from(text);
  sample();
  back = decodeSha256File(got).digests;
  sample();
  report(written, cpu() - t);
} else {
  const body = sha256FileBody(fields, lists);
  textBytes = body.length;
  const md5 = createHash('md5');
  for (const piece of body.pieces()) {
    md5.update(piece);
    sample();
  }
  md5.digest('hex');
  const written = cpu() - t;
  t = cpu();
  const decoder = new Sha256FileDecoder(body.length);
  for (const piece of body.pieces()) {
    // A socket's reads: 64 KiB each, their own memory.
    for (let at = 0; at < piece.length; at += 65536) decoder.write(piece.slice(at, at + 65536));
    sample();
  }
  back = decoder.end().digests;
  sample();
  report(written, cpu() - t);
}
const expected = Buffer.concat(lists);
if (!expected.equals(back)) throw new Error('the digests read back are not the ones written');

function report(written: number, read: number): void {
  console.log(`${way}: ${gib} GiB of volume, ${blocks} digests (${((blocks * DIGEST_BYTES) / MB).toFixed(0)} MB), a text of ${(textBytes / MB).toFixed(0)} MB`);
  console.log(`  peak over the digests held: rss +${((peakRss - held.rss) / MB).toFixed(0)} MB, arrayBuffers +${((peakBuffers - held.arrayBuffers) / MB).toFixed(0)} MB`);
  console.log(`  peak over the start: rss ${((peakRss - start.rss) / MB).toFixed(0)} MB, arrayBuffers ${((peakBuffers - start.arrayBuffers) / MB).toFixed(0)} MB`);
  console.log(`  CPU: written (with its MD5) ${written.toFixed(2)} s, read ${read.toFixed(2)} s`);
}
