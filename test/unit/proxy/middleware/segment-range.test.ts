import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RangeWalker, spansOver } from '../../../../proxy/middleware/segment-range.ts';

// Segments of 10, 0, 5 and 20 bytes: the object's bytes 0-9, 10-14 and 15-34.
const lengths = [10, 0, 5, 20];

test('the whole object: every non-empty segment, whole', () => {
  assert.equal(spansOver(lengths, 0, 34), [
    { index: 0, span: { first: 0, last: 9 } },
    { index: 2, span: { first: 0, last: 4 } },
    { index: 3, span: { first: 0, last: 19 } },
  ]);
  assert.equal(spansOver(lengths, 0, Infinity).length, 3);
});

test('a range inside one segment', () => {
  assert.equal(spansOver(lengths, 11, 13), [{ index: 2, span: { first: 1, last: 3 } }]);
});

test('a range across boundaries cuts the first and last segments', () => {
  assert.equal(spansOver(lengths, 8, 16), [
    { index: 0, span: { first: 8, last: 9 } },
    { index: 2, span: { first: 0, last: 4 } },
    { index: 3, span: { first: 0, last: 1 } },
  ]);
});

test('segment boundaries exactly', () => {
  assert.equal(spansOver(lengths, 10, 14), [{ index: 2, span: { first: 0, last: 4 } }]);
  assert.equal(spansOver(lengths, 9, 10), [
    { index: 0, span: { first: 9, last: 9 } },
    { index: 2, span: { first: 0, last: 0 } },
  ]);
});

test('the walker stops once past the range, without looking at later segments', () => {
  const walker = new RangeWalker(0, 4);
  assert.equal(walker.next(10), { first: 0, last: 4 });
  assert.ok(walker.done);
  assert.is(walker.next(10), undefined);
  const empty = new RangeWalker(0, -1);
  assert.ok(empty.done);
});

test.run();
