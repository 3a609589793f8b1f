import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TimestampError } from '../../../common/errors.ts';
import { Timestamp } from '../../../common/timestamp.ts';

test('internal form is zero-padded to 16 characters with 5 decimals', () => {
  assert.is(Timestamp.parse('1700000000.12345').internal, '1700000000.12345');
  assert.is(Timestamp.parse('1.5').internal, '0000000001.50000');
  assert.is(Timestamp.parse(0).internal, '0000000000.00000');
  assert.is(Timestamp.parse('1700000000').internal, '1700000000.00000');
});

test('normal form is what X-Timestamp carries', () => {
  assert.is(Timestamp.parse('0000000001.50000').normal, '1.50000');
  assert.is(Timestamp.parse(1700000000.123456).normal, '1700000000.12346');
});

test('offset form round-trips and orders after the same time without offset', () => {
  const t = Timestamp.parse('1700000000.12345_000000000000000a');
  assert.is(t.offset, 10);
  assert.is(t.internal, '1700000000.12345_000000000000000a');
  assert.is(t.normal, '1700000000.12345');
  const plain = Timestamp.parse('1700000000.12345');
  assert.ok(t.isNewerThan(plain));
  assert.is(Timestamp.parse(t.internal).compare(t), 0);
});

test('ordering: by time, then offset; internal strings sort the same way', () => {
  const list = ['1700000000.00001', '1600000000.5', '1700000000.00001_0000000000000001', '1700000000', '999.99999'].map((s) => Timestamp.parse(s));
  const sorted = [...list].sort((a, b) => a.compare(b)).map((t) => t.internal);
  assert.equal(sorted, [...sorted].sort());
  assert.is(sorted[0], '0000000999.99999');
  assert.is(sorted.at(-1), '1700000000.00001_0000000000000001');
});

test('rounds to 10 microseconds', () => {
  assert.is(Timestamp.parse('1.000004').internal, '0000000001.00000');
  assert.is(Timestamp.parse('1.000005').internal, '0000000001.00001');
  assert.is(Timestamp.parse('1.7e9').internal, '1700000000.00000');
});

test('isoformat has microseconds and no zone, as listings show last_modified', () => {
  assert.is(Timestamp.parse('1700000000.12345').isoformat, '2023-11-14T22:13:20.123450');
  assert.is(Timestamp.parse('0').isoformat, '1970-01-01T00:00:00.000000');
});

test('fromMillis', () => {
  assert.is(Timestamp.fromMillis(1_700_000_000_123).internal, '1700000000.12300');
});

test('bad input gets a clear TimestampError', () => {
  const cases: [string | number, RegExp][] = [
    ['', /not a number of seconds/],
    ['abc', /not a number of seconds/],
    ['12x', /not a number of seconds/],
    ['-5', /cannot be negative/],
    [-1, /cannot be negative/],
    ['10000000000', /too large/],
    ['1.5_zz', /offset must be up to 16 hex digits/],
    ['1.5_', /offset must be up to 16 hex digits/],
    [Number.NaN, /finite/],
    ['Infinity', /not a number of seconds/],
  ];
  for (const [value, pattern] of cases) {
    assert.throws(() => Timestamp.parse(value), (err: unknown) => err instanceof TimestampError && err.code === 'TIMESTAMP_INVALID' && pattern.test(err.message), String(value));
  }
});

test('inverted is Swift\'s ~Timestamp: later times sort first, inverting twice gives the time back', () => {
  assert.is(Timestamp.parse('1700000000.12345').inverted.internal, '8299999999.87654');
  assert.is(Timestamp.parse('0').inverted.internal, '9999999999.99999');
  assert.ok(Timestamp.parse('1700000001').inverted.internal < Timestamp.parse('1700000000').inverted.internal);
  assert.is(Timestamp.parse('8299999999.87654').inverted.normal, '1700000000.12345');
  assert.throws(() => Timestamp.parse('1700000000.12345_1').inverted, (err: unknown) => err instanceof TimestampError);
});

test.run();
