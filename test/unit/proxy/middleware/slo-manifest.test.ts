import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  annotateSegments,
  parsePutManifest,
  parseStoredManifest,
  rawManifestJson,
  SloManifestError,
  sloEtag,
  sloTotals,
  type StoredSegment,
  storedManifestJson,
  strictBase64,
} from '../../../../proxy/middleware/slo-manifest.ts';

const md5 = (data: string | Buffer): string => createHash('md5').update(data).digest('hex');
const self = { container: 'c', object: 'manifest' };

function problems(body: unknown): readonly string[] {
  try {
    parsePutManifest(JSON.stringify(body), self);
  } catch (err) {
    assert.instance(err, SloManifestError);
    return (err as SloManifestError).problems;
  }
  assert.unreachable('expected the manifest to be refused');
  return [];
}

test('a valid put manifest: sizes become numbers, null etag and size are unchecked, data is normalized', () => {
  const parsed = parsePutManifest(
    JSON.stringify([{ path: '/c/a', etag: 'e1', size_bytes: '10' }, { path: 'c/b', etag: null, size_bytes: null, range: '1-2' }, { data: 'eHl6' }, { path: '/c/d', size_bytes: 0 }]),
    self,
  );
  assert.equal(parsed, [{ path: '/c/a', etag: 'e1', size_bytes: 10 }, { path: 'c/b', range: [1, 2] }, { data: 'eHl6' }, { path: '/c/d', size_bytes: 0 }]);
  assert.equal(parsePutManifest('[]', self), []);
});

test('syntax problems: not JSON, not a list', () => {
  assert.throws(() => parsePutManifest('{', self), (e: unknown) => e instanceof SloManifestError && e.problems[0] === 'Manifest must be valid JSON.');
  assert.throws(() => parsePutManifest('{"path": "/c/o"}', self), (e: unknown) => e instanceof SloManifestError && e.problems[0] === 'Manifest must be a list.');
});

test('every problem is reported with its index, in order', () => {
  assert.equal(
    problems([
      'x',
      { etag: 'e' },
      { path: '/c/o', size: 1, zeta: 2 },
      { path: 5 },
      { path: '/c/o', etag: 5 },
      { path: '/c' },
      { path: '/c/o', size_bytes: 'x' },
      { path: '/c/o', size_bytes: 0 },
      { path: '/c/manifest' },
      { path: '/c/o', range: '5-2' },
      { path: '/c/o', range: '1-2,4-5' },
      { path: '/c/o', range: '10-', size_bytes: 5 },
      { data: 'not base64!' },
      { data: '' },
      { data: 'eA==', path: '/c/o' },
      { path: '/c/o', size_bytes: 0 },
    ]),
    [
      'Index 0: not a JSON object',
      `Index 1: expected keys to include one of 'data' or 'path'`,
      'Index 2: extraneous keys "size", "zeta"',
      'Index 3: "path" must be a string',
      'Index 4: "etag" must be a string or null (if provided)',
      'Index 5: path does not refer to an object. Path must be of the form /container/object.',
      'Index 6: invalid size_bytes',
      'Index 7: too small; each segment must be at least 1 byte.',
      'Index 8: manifest must not include itself as a segment',
      'Index 9: invalid range',
      'Index 10: multiple ranges (only one allowed)',
      'Index 11: unsatisfiable range',
      'Index 12: data must be valid base64',
      'Index 13: too small; each segment must be at least 1 byte.',
      'Index 14: extraneous keys "path"',
    ],
  );
});

test('inline data needs at least one object segment', () => {
  assert.equal(problems([{ data: 'eA==' }]), ['Inline data segments require at least one object-backed segment.']);
});

test('strict base64: padding required, no stray characters', () => {
  assert.equal(strictBase64('eHl6')?.toString(), 'xyz');
  assert.equal(strictBase64('eA==')?.toString(), 'x');
  assert.is(strictBase64('eA'), undefined);
  assert.is(strictBase64('e A='), undefined);
  assert.is(strictBase64('=eA='), undefined);
  assert.is(strictBase64('e==='), undefined);
  assert.equal(strictBase64(''), Buffer.alloc(0));
});

const stored: StoredSegment[] = [
  { name: '/c/a', bytes: 10, hash: md5('a'), content_type: 'text/plain', last_modified: '2024-01-02T03:04:05.000000' },
  { name: '/c/b', bytes: 100, hash: md5('b'), content_type: 'application/octet-stream', last_modified: '2024-01-02T03:04:05.000000', range: '10-19' },
  { data: Buffer.from('inline').toString('base64') },
  { name: '/c/sub', bytes: 1000, hash: md5('sub'), content_type: 'x/y', last_modified: '2024-01-02T03:04:05.000000', sub_slo: true },
];

test('the SLO etag: etags, etag:range; for ranged segments, the md5 of inline data', () => {
  assert.is(sloEtag(stored), md5(`${md5('a')}${md5('b')}:10-19;${md5('inline')}${md5('sub')}`));
  assert.equal(sloTotals(stored), { size: 10 + 10 + 6 + 1000, etag: sloEtag(stored) });
});

test('the stored form is written as Python json.dumps writes it', () => {
  const json = storedManifestJson([stored[0] as StoredSegment, stored[2] as StoredSegment, stored[3] as StoredSegment]);
  assert.is(
    json,
    `[{"name": "/c/a", "bytes": 10, "hash": "${md5('a')}", "content_type": "text/plain", "last_modified": "2024-01-02T03:04:05.000000"}, {"data": "aW5saW5l"}, {"name": "/c/sub", "bytes": 1000, "hash": "${md5('sub')}", "content_type": "x/y", "last_modified": "2024-01-02T03:04:05.000000", "sub_slo": true}]`,
  );
  assert.equal(parseStoredManifest(json), [stored[0], stored[2], stored[3]]);
  assert.is(storedManifestJson([{ ...(stored[0] as object), name: '/c/ü' } as StoredSegment]).includes('"/c/\\u00fc"'), true);
});

test('the raw form: keys sorted, renamed back to the put form', () => {
  assert.is(
    rawManifestJson(stored),
    `[{"etag": "${md5('a')}", "path": "/c/a", "size_bytes": 10}, {"etag": "${md5('b')}", "path": "/c/b", "range": "10-19", "size_bytes": 100}, {"data": "aW5saW5l"}, {"etag": "${md5('sub')}", "path": "/c/sub", "size_bytes": 1000}]`,
  );
});

test('annotated segments know their length in the large object and their range start', () => {
  const a = annotateSegments(stored);
  assert.equal(a.map((s) => s.segmentLength), [10, 10, 6, 1000]);
  assert.is((a[1] as { rangeStart: number }).rangeStart, 10);
  assert.is((a[2] as { raw: Buffer }).raw.toString(), 'inline');
});

test('a stored manifest that is not a list of segments is refused', () => {
  for (const body of ['', '{}', '[1]', '[{"bytes": 1}]']) assert.throws(() => parseStoredManifest(body), (e: unknown) => e instanceof SloManifestError);
});

test.run();
