import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpError } from '../../../../common/http/http-error.ts';
import { parseEndpointsPath } from '../../../../proxy/middleware/list-endpoints.ts';

test('paths with and without a version (Swift\'s _parse_path)', () => {
  assert.equal(parseEndpointsPath('/a/c/o/p'), { version: 1, account: 'a', container: 'c', object: 'o/p' });
  assert.equal(parseEndpointsPath('/v1/a/c'), { version: 1, account: 'a', container: 'c' });
  assert.equal(parseEndpointsPath('/v2/a'), { version: 2, account: 'a' });
  assert.equal(parseEndpointsPath('/v2.0/a/c/o'), { version: 2, account: 'a', container: 'c', object: 'o' });
  assert.equal(parseEndpointsPath('/v_3/c'), { version: 1, account: 'v_3', container: 'c' });
  assert.equal(parseEndpointsPath('/AUTH_test/c%20d/o%E2%98%83'), { version: 1, account: 'AUTH_test', container: 'c d', object: 'o\u2603' });
});

test('a bad version or no account is a 400 with Swift\'s message', () => {
  const status = (path: string): [number, string | undefined] => {
    try {
      parseEndpointsPath(path);
      return [0, undefined];
    } catch (err) {
      return err instanceof HttpError ? [err.status, err.body] : [-1, String(err)];
    }
  };
  assert.equal(status('/v3/a'), [400, "Unsupported version 'v3'"]);
  assert.equal(status('/'), [400, 'No account specified']);
  assert.equal(status('/v1/'), [400, 'No account specified']);
  assert.equal(status('/v1'), [400, 'No account specified']);
});

test.run();
