import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodePath, splitPath, validateDevicePartition } from '../../../../common/http/backend-path.ts';
import { ConstraintError } from '../../../../common/errors.ts';

const kind = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof ConstraintError ? `${err.kind}: ${err.message}` : String(err);
  }
  return undefined;
};

test('decodePath unquotes like Python: escapes to bytes, a stray % stays, then UTF-8', () => {
  assert.is(decodePath('/sda1/1/a/c/o'), '/sda1/1/a/c/o');
  assert.is(decodePath('/sda1/1/a/c/caf%C3%A9%20x'), '/sda1/1/a/c/caf\u00e9 x');
  assert.is(decodePath('/sda1/1/a/c/100%'), '/sda1/1/a/c/100%');
  assert.is(decodePath('/sda1/1/a/c/%zz'), '/sda1/1/a/c/%zz');
  assert.is(decodePath('/a/%2F'), '/a//');
});

test('decodePath refuses bytes that are not UTF-8, and NUL: Swift\'s 412', () => {
  assert.is(kind(() => decodePath('/a/%FF')), 'precondition: Invalid UTF8 or contains NULL');
  assert.is(kind(() => decodePath('/a/%C3')), 'precondition: Invalid UTF8 or contains NULL');
  assert.is(kind(() => decodePath('/a/%00')), 'precondition: Invalid UTF8 or contains NULL');
});

test('an internal path (reserved names allowed) may hold NUL; bad UTF-8 is still refused', () => {
  assert.is(decodePath('/a/%00versions%00c', true), '/a/\u0000versions\u0000c');
  assert.is(decodePath('/a/\u0000c', true), '/a/\u0000c');
  assert.is(kind(() => decodePath('/a/\u0000c')), 'precondition: Invalid UTF8 or contains NULL');
  assert.is(kind(() => decodePath('/a/%FF%00', true)), 'precondition: Invalid UTF8 or contains NULL');
});

test('splitPath follows Swift\'s split_path', () => {
  assert.equal(splitPath('/d/p/a/c', 4, 5, true), ['d', 'p', 'a', 'c', undefined]);
  assert.equal(splitPath('/d/p/a/c/o/with/slashes', 4, 5, true), ['d', 'p', 'a', 'c', 'o/with/slashes']);
  assert.equal(splitPath('/d/p/a/c/', 4, 5, true), ['d', 'p', 'a', 'c', '']);
  assert.equal(splitPath('/d/p/a', 3, 4), ['d', 'p', 'a', undefined]);
  assert.equal(splitPath('/d/p/a/', 3), ['d', 'p', 'a']);
  for (const [path, min, max, rest] of [['/d/p', 3, 4, false], ['/d/p/a/c/o', 3, 4, false], ['d/p/a', 3, 3, false], ['/d//a/c', 4, 5, true], ['/d/p/a/c/o', 3, 3, false]] as const) {
    assert.is(kind(() => splitPath(path, min, max, rest)), `bad_request: Invalid path: ${path}`, path);
  }
});

test('devices must be plain names and partitions numbers', () => {
  assert.is(validateDevicePartition('sda1', '1023'), 1023);
  assert.is(kind(() => validateDevicePartition('..', '1')), 'bad_request: Invalid device: ..');
  assert.is(kind(() => validateDevicePartition('sda1', 'x')), 'bad_request: Invalid partition: x');
  assert.is(kind(() => validateDevicePartition('sda1', '99999999999')), 'bad_request: Invalid partition: 99999999999');
});

test.run();
