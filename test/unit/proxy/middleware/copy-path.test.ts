import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpError } from '../../../../common/http/http-error.ts';
import { parseAccountHeader, parseCopyPath } from '../../../../proxy/middleware/copy-path.ts';

function status412(fn: () => unknown, body: string): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, HttpError);
    assert.is((err as HttpError).status, 412);
    assert.is((err as HttpError).body, body);
    return;
  }
  assert.unreachable('expected a 412');
}

test('Destination and X-Copy-From: container and object, leading slash optional, object keeps slashes', () => {
  assert.equal(parseCopyPath('c/o', 'Destination'), { container: 'c', object: 'o' });
  assert.equal(parseCopyPath('/c/o', 'Destination'), { container: 'c', object: 'o' });
  assert.equal(parseCopyPath('/c/a/b/', 'Destination'), { container: 'c', object: 'a/b/' });
  assert.equal(parseCopyPath('/c//o', 'X-Copy-From'), { container: 'c', object: '/o' });
});

test('percent-encoded and raw UTF-8 (as node hands over header bytes) both decode', () => {
  assert.equal(parseCopyPath('/c%20d/%C3%BCn%C3%AF%2Fx', 'Destination'), { container: 'c d', object: 'ünï/x' });
  assert.equal(parseCopyPath(Buffer.from('/cø/ünï', 'utf8').toString('latin1'), 'Destination'), { container: 'cø', object: 'ünï' });
  // `+` is not a space in a path.
  assert.equal(parseCopyPath('c/a+b', 'Destination'), { container: 'c', object: 'a+b' });
});

test('malformed values are 412 with Swift messages', () => {
  for (const bad of ['', '/', 'c', '/c', '/c/', '//o', 'c/']) {
    status412(() => parseCopyPath(bad, 'Destination'), 'Destination header must be of the form <container name>/<object name>');
    status412(() => parseCopyPath(bad, 'X-Copy-From'), 'X-Copy-From header must be of the form <container name>/<object name>');
  }
  status412(() => parseCopyPath('c/%FF', 'Destination'), 'Invalid UTF8 or contains NULL');
  status412(() => parseCopyPath('c/a%00b', 'Destination'), 'Invalid UTF8 or contains NULL');
});

test('account headers', () => {
  assert.is(parseAccountHeader('AUTH_test'), 'AUTH_test');
  assert.is(parseAccountHeader('AUTH_t%C3%A9st'), 'AUTH_tést');
  status412(() => parseAccountHeader(''), 'Account name cannot be empty');
  status412(() => parseAccountHeader('a/b'), 'Account name cannot contain slashes');
  status412(() => parseAccountHeader('a%2Fb'), 'Account name cannot contain slashes');
});

test.run();
