import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareUtf8, fixedHex, prefixEnd } from '../../../../common/db/key-order.ts';
import { seededRandom } from '../../../../common/seeded-random.ts';

test('compareUtf8 orders like the UTF-8 bytes (LevelDB, SQLite), unlike JavaScript\'s <', () => {
  assert.ok('\u{1F600}' < '\uFF5E', 'UTF-16 puts the emoji first');
  assert.ok(compareUtf8('\u{1F600}', '\uFF5E') > 0, 'code point order puts it last');
  const random = seededRandom(1);
  const alphabet = ['a', 'z', '\u0000', '\u00e9', '\u07ff', '\u0800', '\ud7ff', '\ue000', '\uffff', '\u{10000}', '\u{10FFFF}'];
  for (let i = 0; i < 2000; i++) {
    const make = (): string => Array.from({ length: Math.floor(random() * 4) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const a = make();
    const b = make();
    assert.is(Math.sign(compareUtf8(a, b)), Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))), JSON.stringify([a, b]));
  }
});

test('prefixEnd is the first string after everything that starts with the prefix', () => {
  assert.is(prefixEnd('abc'), 'abd');
  assert.is(prefixEnd('a/'), 'a0');
  assert.is(prefixEnd('x\u{1F600}'), 'x\u{1F601}');
  assert.is(prefixEnd('x\ud7ff'), 'x\ue000', 'skips the surrogate range');
  assert.is(prefixEnd('ab\u{10FFFF}'), 'ac');
  for (const s of ['abc', 'abc\u{10FFFF}', 'abczzz', 'abc\u{1F600}']) assert.ok(compareUtf8(s, prefixEnd('abc')) < 0, s);
  assert.ok(compareUtf8('abd', prefixEnd('abc')) >= 0);
  assert.throws(() => prefixEnd(''));
});

test('fixedHex pads so numeric order is text order', () => {
  assert.is(fixedHex(255, 8), '000000ff');
  assert.ok(fixedHex(9, 4) < fixedHex(10, 4));
});

test.run();
