import { constants } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pythonJsonDumps } from '../../../../../compute/volume/backup/python-json.ts';
import { DIGEST_BYTES, decodeSha256File, encodeSha256File, type Sha256File, Sha256FileDecoder, sameDigest, sha256FileBody } from '../../../../../compute/volume/backup/sha256-file.ts';

const FIELDS = { backup_description: null, backup_id: 'b1', backup_name: 'caf\u00e9 "quoted" \\ \u{1F600}', chunk_size: 32768, created_at: '2026-12-06 10:06:22+00:00', version: '1.0.0', volume_id: 'v1' };

function digestsOf(...blocks: string[]): Uint8Array {
  return Buffer.concat(blocks.map((b) => createHash('sha256').update(b).digest()));
}

/**
 * The file read from `pieces` as they would arrive, or the SyntaxError's message. Each piece is
 * a Buffer of its own, overwritten once written (as a socket's read released after it is read):
 * the decoder keeps nothing of one.
 */
function readPieces(pieces: readonly Uint8Array[], expectedBytes?: number): Sha256File | string {
  const decoder = new Sha256FileDecoder(expectedBytes);
  try {
    for (const piece of pieces) {
      const own = Buffer.from(piece);
      decoder.write(own);
      own.fill(0xee);
    }
    return decoder.end();
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    return err.message;
  }
}

/** `text` split at every byte boundary, then at every pair of boundaries, then in pieces of every size up to 9. */
function* splits(text: Uint8Array): Generator<Uint8Array[]> {
  for (let i = 0; i <= text.length; i++) yield [text.subarray(0, i), text.subarray(i)];
  for (let i = 0; i <= text.length; i += 3) for (let j = i; j <= text.length; j++) yield [text.subarray(0, i), text.subarray(i, j), text.subarray(j)];
  for (let size = 1; size <= 9; size++) yield Array.from({ length: Math.ceil(text.length / size) }, (_, k) => text.subarray(k * size, (k + 1) * size));
}

function same(a: Sha256File | string, b: Sha256File | string): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.chunkSize === b.chunkSize && Buffer.from(a.digests).equals(Buffer.from(b.digests));
}

function hexes(digests: Uint8Array): string[] {
  return Array.from({ length: digests.length / DIGEST_BYTES }, (_, i) => Buffer.from(digests.subarray(i * DIGEST_BYTES, (i + 1) * DIGEST_BYTES)).toString('hex'));
}

test("the file is byte for byte the general writer's (Python's json.dumps with sort_keys and indent=2), for none, one and many digests", () => {
  for (const digests of [new Uint8Array(0), digestsOf('a'), digestsOf(...Array.from({ length: 100 }, (_, i) => `block ${i}`))]) {
    const ours = Buffer.from(encodeSha256File(FIELDS, digests)).toString('latin1');
    assert.is(ours, pythonJsonDumps({ ...FIELDS, sha256s: hexes(digests) }));
    // The same from pieces (a backup's chunks), an empty one among them.
    const pieces = [digests.subarray(0, 3 * DIGEST_BYTES), new Uint8Array(0), digests.subarray(3 * DIGEST_BYTES)];
    assert.is(Buffer.from(encodeSha256File(FIELDS, pieces)).toString('latin1'), ours);
  }
  assert.throws(() => encodeSha256File(FIELDS, [new Uint8Array(31)]), RangeError);
});

test('reads back what it writes, and the same file as compact JSON, in any key order, in upper-case hex', () => {
  const digests = digestsOf('x', 'y', 'z');
  const ours = decodeSha256File(encodeSha256File(FIELDS, digests));
  assert.is(ours.chunkSize, 32768);
  assert.ok(Buffer.from(ours.digests).equals(Buffer.from(digests)));
  const compact = JSON.stringify({ sha256s: hexes(digests).map((h) => h.toUpperCase()), chunk_size: 65536, nested: { a: [1, '}]"'], b: null }, n: -1.5e3, t: true });
  const theirs = decodeSha256File(Buffer.from(` \n${compact}\n`));
  assert.is(theirs.chunkSize, 65536);
  assert.ok(Buffer.from(theirs.digests).equals(Buffer.from(digests)));
  assert.is(decodeSha256File(Buffer.from('{"sha256s": [], "chunk_size": 4096}')).digests.length, 0);
});

test('refuses what is not a sha256 file: bad JSON, cut short, a digest not 64 hex digits, no list, text after it', () => {
  const good = Buffer.from(encodeSha256File(FIELDS, digestsOf('x', 'y'))).toString('latin1');
  const hex = hexes(digestsOf('x'))[0] as string;
  for (const bad of [
    '',
    'not json',
    good.slice(0, -1),
    good.slice(0, good.indexOf(hex) + 20),
    `${good} {}`,
    '{"chunk_size": 32768}',
    '{"sha256s": "abc", "chunk_size": 32768}',
    `{"sha256s": ["${hex.slice(1)}"]}`,
    `{"sha256s": ["${hex}0"]}`,
    `{"sha256s": ["${hex.slice(1)}g"]}`,
    `{"sha256s": ["${hex}" "${hex}"]}`,
    `{"sha256s": ["${hex}"], "chunk_size": }`,
    `{"sha256s": ["${hex}"], "chunk_size": 1 2}`,
    `{"sha256s": ["${hex}"] "chunk_size": 1}`,
    '[]',
  ]) {
    assert.throws(() => decodeSha256File(Buffer.from(bad, 'latin1')), SyntaxError, JSON.stringify(bad.slice(0, 60)));
  }
});

test("the file's pieces, of any size, join to the file; its length is known before any is made, and they are one buffer filled again", () => {
  const digests = digestsOf(...Array.from({ length: 300 }, (_, i) => `block ${i}`));
  const whole = Buffer.from(encodeSha256File(FIELDS, digests));
  for (const size of [72, 73, 100, 4096, 1024 * 1024]) {
    const body = sha256FileBody(FIELDS, [digests.subarray(0, 64 * DIGEST_BYTES), digests.subarray(64 * DIGEST_BYTES)], size);
    assert.is(body.length, whole.length);
    const pieces: Buffer[] = [];
    const memory = new Set<ArrayBufferLike>();
    for (const piece of body.pieces()) {
      assert.ok(piece.length > 0 && piece.length <= size, `a piece of ${piece.length} bytes`);
      pieces.push(Buffer.from(piece));
      memory.add(piece.buffer);
    }
    assert.ok(Buffer.concat(pieces).equals(whole), `pieces of ${size}`);
    assert.is(memory.size, 1);
    // A second pass is the same again.
    assert.ok(Buffer.concat([...body.pieces()].map((p) => Buffer.from(p))).length === whole.length);
  }
});

test('a file read in pieces split anywhere reads as the whole (ours, compact, nested values, upper-case hex, no digests)', () => {
  const digests = digestsOf('x', 'y', 'z');
  const compact = JSON.stringify({ sha256s: hexes(digests).map((h) => h.toUpperCase()), chunk_size: 65536, 'k\u00e9y': 'caf\u00e9', nested: { a: [1, '}]",\\'], b: null }, n: -1.5e3, t: true });
  for (const text of [Buffer.from(encodeSha256File(FIELDS, digests)), Buffer.from(` \n${compact}\n`), Buffer.from('{"sha256s": [], "chunk_size": 4096}'), Buffer.from('{"chunk_size":4096,"sha256s":[]}')]) {
    const whole = decodeSha256File(text);
    let count = 0;
    for (const pieces of splits(text)) {
      for (const hint of [text.length, undefined]) {
        const got = readPieces(pieces, hint);
        if (!same(got, whole)) assert.unreachable(`${JSON.stringify(pieces.map((p) => Buffer.from(p).toString()))}: ${typeof got === 'string' ? got : 'other digests'}`);
      }
      count++;
    }
    assert.ok(count > text.length);
  }
});

test('a bad file read in pieces split anywhere fails as the whole does, at the same byte', () => {
  const good = Buffer.from(encodeSha256File(FIELDS, digestsOf('x', 'y'))).toString('latin1');
  const hex = hexes(digestsOf('x'))[0] as string;
  for (const bad of ['', '  ', 'not json', good.slice(0, -1), good.slice(0, good.indexOf(hex) + 20), `${good} {}`, '{"chunk_size": 32768}', `{"sha256s": ["${hex.slice(1)}"]}`, `{"sha256s": ["${hex}0"]}`, `{"sha256s": ["${hex}" "${hex}"]}`, `{"sha256s": ["${hex}"], "chunk_size": }`, `{"sha256s": ["${hex}"], "chunk_size": 1 2}`, `{"sha256s": ["${hex}"], "chunk_size": "12`, `{"sha256s": ["${hex}"], "x": {"a": [1`, `{"sha256s": ["${hex}"], "chunk_size": 12`, '{"sha256s": [], "k', '[]']) {
    const text = Buffer.from(bad, 'latin1');
    let whole = '';
    try {
      decodeSha256File(text);
    } catch (err) {
      assert.instance(err, SyntaxError);
      whole = (err as Error).message;
    }
    assert.ok(whole !== '', JSON.stringify(bad.slice(0, 60)));
    for (const pieces of splits(text)) {
      const got = readPieces(pieces);
      if (got !== whole) assert.unreachable(`${JSON.stringify(bad.slice(0, 60))} in ${pieces.map((p) => p.length).join('+')}: ${typeof got === 'string' ? got : 'read'}, not ${whole}`);
    }
  }
});

test('sameDigest compares whole digests, and a digest past either end is never the same', () => {
  const a = digestsOf('x', 'y');
  const b = digestsOf('y', 'x');
  assert.ok(sameDigest(a, 0, b, 1));
  assert.not.ok(sameDigest(a, 0, b, 0));
  assert.not.ok(sameDigest(a, 2, b, 0));
  assert.not.ok(sameDigest(a, 0, b.subarray(0, 40), 1));
});

test("a volume over ~227 GiB has a sha256 file longer than V8's longest string: written and read back in pieces, never whole (JSON.stringify threw 'Invalid string length'; then the whole text was held, twice over on a read)", () => {
  // 72 bytes an entry: one past the longest string takes 7.46 million 32 KiB blocks.
  const count = Math.ceil(constants.MAX_STRING_LENGTH / 72) + 1;
  const digests = Buffer.allocUnsafe(count * DIGEST_BYTES);
  const pattern = randomBytes(251 * DIGEST_BYTES); // repeats off every power of two
  for (let at = 0; at < digests.length; at += pattern.length) pattern.copy(digests, at);
  const body = sha256FileBody(FIELDS, digests);
  assert.ok(body.length > constants.MAX_STRING_LENGTH, `${body.length} bytes`);
  const before = process.memoryUsage();
  let peak = before.arrayBuffers;
  const decoder = new Sha256FileDecoder(body.length);
  let pieces = 0;
  for (const piece of body.pieces()) {
    decoder.write(piece);
    if (++pieces % 8 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers);
  }
  const back = decoder.end();
  const after = process.memoryUsage();
  peak = Math.max(peak, after.arrayBuffers);
  assert.is(back.chunkSize, 32768);
  assert.ok(Buffer.from(back.digests.buffer, back.digests.byteOffset, back.digests.length).equals(digests));
  // What was read is the digests (sized for 67 bytes of text an entry) and a piece in writing:
  // 256 MB, where the text alone is 537 MB.
  const grew = peak - before.arrayBuffers;
  assert.ok(grew < digests.length * 1.1 + 8 * 2 ** 20, `${grew} bytes more at the peak, for ${digests.length} bytes of digests and ${body.length} of text`);
  if (process.env['SHA256_FILE_MEMORY']) console.log(`arrayBuffers +${grew} at the peak, rss ${before.rss} -> ${after.rss}; ${digests.length} bytes of digests, ${body.length} of text, ${pieces} pieces`);
});

test.run();
