import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkAccountName, checkContainerName, checkMetadata, checkObjectName, checkObjectSize, deleteAtFrom, headerToUtf8 } from '../../../common/constraints.ts';
import { ConstraintError } from '../../../common/errors.ts';

function fails(fn: () => unknown, kind: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof ConstraintError && err.kind === kind && pattern.test(err.message));
}

test("metadata limits are Swift's, with Swift's messages", () => {
  checkMetadata({ 'x-object-meta-color': 'blue', 'content-type': 'text/plain' }, 'object');
  fails(() => checkMetadata({ [`x-object-meta-${'n'.repeat(129)}`]: 'v' }, 'object'), 'bad_request', /^Metadata name too long: x-object-meta-n+$/);
  fails(() => checkMetadata({ 'x-container-meta-k': 'v'.repeat(257) }, 'container'), 'bad_request', /^Metadata value longer than 256: x-container-meta-k$/);
  const many: Record<string, string> = {};
  for (let i = 0; i < 91; i++) many[`x-account-meta-k${i}`] = 'v';
  fails(() => checkMetadata(many, 'account'), 'bad_request', /^Too many metadata items; max 90$/);
  const big: Record<string, string> = {};
  for (let i = 0; i < 20; i++) big[`x-object-meta-k${i}`] = 'v'.repeat(250);
  fails(() => checkMetadata(big, 'object'), 'bad_request', /^Total metadata too large; max 4096$/);
  fails(() => checkMetadata({ 'x-object-meta-': 'v' }, 'object'), 'bad_request', /^Metadata name cannot be empty$/);
  fails(() => checkMetadata({ 'x-anything': 'v'.repeat(8193) }, 'object'), 'bad_request', /^Header value too long: x-anything$/);
});

test('container and account metadata must be valid UTF-8 (object metadata is passed through)', () => {
  const badLatin1 = Buffer.from([0xff, 0xfe]).toString('latin1');
  fails(() => checkMetadata({ 'x-container-meta-k': badLatin1 }, 'container'), 'bad_request', /valid UTF-8/);
  checkMetadata({ 'x-object-meta-k': badLatin1 }, 'object');
  assert.is(headerToUtf8(Buffer.from('ü').toString('latin1')), 'ü');
  assert.is(headerToUtf8(badLatin1), undefined);
});

test('object size: Content-Length or chunked; 5 GiB + 2 bytes at most', () => {
  checkObjectSize({ 'content-length': '5368709122' });
  checkObjectSize({ 'transfer-encoding': 'chunked' });
  fails(() => checkObjectSize({ 'content-length': '5368709123' }), 'too_large', /Your request is too large/);
  fails(() => checkObjectSize({}), 'length_required', /Missing Content-Length header/);
  fails(() => checkObjectSize({ 'content-length': '12abc' }), 'bad_request', /Invalid Content-Length/);
});

test('regression (a list of transfer codings was stored, not refused): Transfer-Encoding must be exactly chunked, as swob\'s message_length has it (501 for a list, 400 for another coding)', () => {
  fails(() => checkObjectSize({ 'transfer-encoding': 'gzip,chunked' }), 'not_implemented', /^Unsupported Transfer-Coding header value specified in Transfer-Encoding header$/);
  fails(() => checkObjectSize({ 'transfer-encoding': 'gzip' }), 'bad_request', /^Invalid Transfer-Encoding header value$/);
  checkObjectSize({ 'transfer-encoding': 'Chunked', 'content-length': 'ignored when chunked' });
});

test('names: lengths in UTF-8 bytes, no NUL, no slash in containers', () => {
  checkObjectName('a/b/c');
  fails(() => checkObjectName('x'.repeat(1025)), 'bad_request', /^Object name length of 1025 longer than 1024$/);
  fails(() => checkObjectName('ü'.repeat(513)), 'bad_request', /length of 1026 longer than 1024/);
  fails(() => checkObjectName('a\u0000b'), 'bad_request', /NULL/);
  fails(() => checkObjectName('\uD800'), 'bad_request', /Invalid UTF8/);
  fails(() => checkContainerName('a/b'), 'bad_request', /cannot contain slashes/);
  fails(() => checkContainerName('c'.repeat(257)), 'bad_request', /^Container name length of 257 longer than 256$/);
  fails(() => checkAccountName(''), 'bad_request', /cannot be empty/);
});

test('X-Delete-After becomes X-Delete-At; past or non-integer values are refused', () => {
  assert.is(deleteAtFrom({ 'x-delete-after': '60' }, 1000.5), 1060);
  assert.is(deleteAtFrom({ 'x-delete-at': '2000' }, 1000), 2000);
  assert.is(deleteAtFrom({}, 1000), undefined);
  fails(() => deleteAtFrom({ 'x-delete-after': 'soon' }, 1000), 'bad_request', /Non-integer X-Delete-After/);
  fails(() => deleteAtFrom({ 'x-delete-after': '-1' }, 1000), 'bad_request', /X-Delete-After in past/);
  fails(() => deleteAtFrom({ 'x-delete-at': '999' }, 1000), 'bad_request', /X-Delete-At in past/);
  fails(() => deleteAtFrom({ 'x-delete-at': 'tomorrow' }, 1000), 'bad_request', /Non-integer X-Delete-At/);
  fails(() => deleteAtFrom({ 'x-delete-after': '0' }, 1000), 'bad_request', /X-Delete-After in past/);
});

test('regression (X-Delete-At of 100 digits was a 400): a delete time beyond 9999999999 is taken as 9999999999, as Swift normalizes it; a fraction is not an integer', () => {
  assert.is(deleteAtFrom({ 'x-delete-at': '1'.repeat(100) }, 1000), 9_999_999_999);
  assert.is(deleteAtFrom({ 'x-delete-after': '9'.repeat(30) }, 1000), 9_999_999_999);
  assert.is(deleteAtFrom({ 'x-delete-at': ' +2000 ' }, 1000), 2000);
  fails(() => deleteAtFrom({ 'x-delete-at': '2000.5' }, 1000), 'bad_request', /Non-integer X-Delete-At/);
});

test.run();
