import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../../common/errors.ts';
import { createXxh64, HashPath, hashPathFromConfig, xxh64Hex } from '../../../common/hash-path.ts';

test("hash is Swift's md5 of prefix + /a/c/o + suffix", () => {
  const hp = new HashPath('pre', 'suf');
  assert.is(hp.hash('a', 'c', 'o'), createHash('md5').update('pre/a/c/osuf').digest('hex'));
  assert.is(hp.hash('a'), createHash('md5').update('pre/asuf').digest('hex'));
  assert.is(hp.hash('ü', 'c'), createHash('md5').update('pre/ü/csuf').digest('hex'));
});

test('the secret changes both hashes', () => {
  const a = new HashPath('', 'one');
  const b = new HashPath('', 'two');
  assert.is.not(a.hash('x', 'y', 'z'), b.hash('x', 'y', 'z'));
  assert.is.not(a.placementKey('x', 'y', 'z'), b.placementKey('x', 'y', 'z'));
  assert.is(a.placementKey('x', 'y', 'z'), new HashPath('', 'one').placementKey('x', 'y', 'z'));
});

test('an object without a container is refused', () => {
  assert.throws(() => new HashPath('', 's').hash('a', undefined, 'o'), /an object needs a container/);
});

test('no secret at all is refused at start, naming the key', () => {
  assert.throws(() => hashPathFromConfig({ swift_hash_path_prefix: '', swift_hash_path_suffix: '' }), (err: unknown) => err instanceof ConfigError && /swift-hash\.swift_hash_path_suffix/.test(err.message));
  assert.is(hashPathFromConfig({ swift_hash_path_prefix: '', swift_hash_path_suffix: 'x' }).suffix, 'x');
});

test('streaming xxHash64 equals one-shot', () => {
  const data = Buffer.alloc(200_000, 7);
  const h = createXxh64();
  h.update(data.subarray(0, 65536));
  h.update(data.subarray(65536));
  assert.is(h.digestHex(), xxh64Hex(data));
  assert.is(xxh64Hex('').length, 16);
});

test.run();
