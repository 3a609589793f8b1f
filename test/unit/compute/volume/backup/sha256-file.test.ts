import { constants } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { pythonJsonDumps } from '../../../../../compute/volume/backup/python-json.ts';
import { DIGEST_BYTES, decodeSha256File, encodeSha256File, sameDigest } from '../../../../../compute/volume/backup/sha256-file.ts';

const FIELDS = { backup_description: null, backup_id: 'b1', backup_name: 'caf\u00e9 "quoted" \\ \u{1F600}', chunk_size: 32768, created_at: '2026-12-06 10:06:22+00:00', version: '1.0.0', volume_id: 'v1' };

function digestsOf(...blocks: string[]): Uint8Array {
  return Buffer.concat(blocks.map((b) => createHash('sha256').update(b).digest()));
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

test('sameDigest compares whole digests, and a digest past either end is never the same', () => {
  const a = digestsOf('x', 'y');
  const b = digestsOf('y', 'x');
  assert.ok(sameDigest(a, 0, b, 1));
  assert.not.ok(sameDigest(a, 0, b, 0));
  assert.not.ok(sameDigest(a, 2, b, 0));
  assert.not.ok(sameDigest(a, 0, b.subarray(0, 40), 1));
});

test("a volume over ~227 GiB has a sha256 file longer than V8's longest string: written and read back (JSON.stringify threw 'Invalid string length')", () => {
  // 72 bytes an entry: one past the longest string takes 7.46 million 32 KiB blocks.
  const count = Math.ceil(constants.MAX_STRING_LENGTH / 72) + 1;
  const digests = Buffer.allocUnsafe(count * DIGEST_BYTES);
  const pattern = randomBytes(251 * DIGEST_BYTES); // repeats off every power of two
  for (let at = 0; at < digests.length; at += pattern.length) pattern.copy(digests, at);
  const file = encodeSha256File(FIELDS, digests);
  assert.ok(file.length > constants.MAX_STRING_LENGTH, `${file.length} bytes`);
  const back = decodeSha256File(file);
  assert.is(back.chunkSize, 32768);
  assert.ok(Buffer.from(back.digests.buffer, back.digests.byteOffset, back.digests.length).equals(digests));
});

test.run();
