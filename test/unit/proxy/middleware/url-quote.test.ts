import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { percentDecode, pyQuote, unquoteHeader, utf8OrUndefined } from '../../../../proxy/middleware/url-quote.ts';

test('pyQuote matches Python quote()', () => {
  // python3 -c "from urllib.parse import quote; print(quote(\"ünï/x y~!*()'\", safe='/'))"
  assert.is(pyQuote("ünï/x y~!*()'"), '%C3%BCn%C3%AF/x%20y~%21%2A%28%29%27');
  assert.is(pyQuote('My Test File.pdf', ' /'), 'My Test File.pdf');
  assert.is(pyQuote(new Uint8Array([0xff, 0x2f, 0x41])), '%FF/A');
  assert.is(pyQuote('a/b', ''), 'a%2Fb');
});

test('percentDecode works on bytes and leaves broken escapes and + alone', () => {
  assert.equal([...percentDecode(Buffer.from('%41%zz%4+%'))], [...Buffer.from('A%zz%4+%')]);
  assert.equal([...percentDecode(Buffer.from('%ff%C3%BC'))], [0xff, 0xc3, 0xbc]);
  assert.is(unquoteHeader('%C3%BC'), 'ü');
  assert.is(unquoteHeader('%FF'), undefined);
  assert.is(utf8OrUndefined(Buffer.from('a\u0000b')), undefined);
});

test.run();
