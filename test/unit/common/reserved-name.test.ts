import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConstraintError } from '../../../common/errors.ts';
import { allowsReservedNames, reservedName, splitReservedName, validateInternalNames } from '../../../common/reserved-name.ts';

function refusal(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof ConstraintError ? err.message : String(err);
  }
  return undefined;
}

test('reserved names join their parts behind a NUL and split back; a user name has no parts', () => {
  assert.is(reservedName('versions', 'c'), '\u0000versions\u0000c');
  assert.is(reservedName('o', ''), '\u0000o\u0000');
  assert.equal(splitReservedName('\u0000versions\u0000c'), ['versions', 'c']);
  assert.is(splitReservedName('versions'), undefined);
  assert.throws(() => reservedName('a\u0000b'));
});

test('validateInternalNames: a NUL only leads a name, and objects stay in their namespace (Swift\'s messages)', () => {
  assert.is(refusal(() => validateInternalNames('\u0000a', '\u0000c', '\u0000o')), undefined);
  assert.is(refusal(() => validateInternalNames('a', 'c', 'o')), undefined);
  assert.is(refusal(() => validateInternalNames('a\u0000')), 'Invalid reserved-namespace account');
  assert.is(refusal(() => validateInternalNames('a', 'c\u0000')), 'Invalid reserved-namespace container');
  assert.is(refusal(() => validateInternalNames('a', 'c', 'o\u0000')), 'Invalid reserved-namespace object');
  assert.is(refusal(() => validateInternalNames('a', '\u0000c', 'o')), 'Invalid user-namespace object in reserved-namespace container');
  assert.is(refusal(() => validateInternalNames('a', 'c', '\u0000o')), 'Invalid reserved-namespace object in user-namespace container');
  assert.is(refusal(() => validateInternalNames('.expiring_objects', 'c', '\u0000o')), undefined, 'system accounts may mix');
});

test('allowsReservedNames reads the backend header as a true value', () => {
  assert.ok(allowsReservedNames({ 'x-backend-allow-reserved-names': 'yes' }));
  assert.not.ok(allowsReservedNames({ 'x-backend-allow-reserved-names': 'false' }));
  assert.not.ok(allowsReservedNames({}));
});

test.run();
