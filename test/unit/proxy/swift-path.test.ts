import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { swiftPathOf } from '../../../proxy/swift-path.ts';

test('swiftPathOf reads what Swift\'s split_path(2, 4, True) reads, decoded', () => {
  assert.equal(swiftPathOf('/v1/a'), { version: 'v1', account: 'a' });
  assert.equal(swiftPathOf('/v1/a/'), { version: 'v1', account: 'a' });
  assert.equal(swiftPathOf('/v1/a/c/'), { version: 'v1', account: 'a', container: 'c' });
  assert.equal(swiftPathOf('/v1/a/c/o/p/'), { version: 'v1', account: 'a', container: 'c', object: 'o/p/' });
  assert.equal(swiftPathOf('/v1/a/c%20d/%E2%98%83'), { version: 'v1', account: 'a', container: 'c d', object: '\u2603' });
  // Not API paths: the middlewares pass them on, the controllers refuse them.
  for (const path of ['/v1', '/info', '/v1//c', '/v1/a//o', '/v1/a/%FF']) assert.is(swiftPathOf(path), undefined, path);
});

test.run();
