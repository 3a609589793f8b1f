import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseContentDisposition } from '../../../../proxy/middleware/content-disposition.ts';

test('the value and its attributes, quotes stripped (Swift\'s parse_content_disposition)', () => {
  assert.equal(parseContentDisposition('form-data; name="somefile"; filename="test.html"'), ['form-data', { name: 'somefile', filename: 'test.html' }]);
  assert.equal(parseContentDisposition('multipart/form-data; boundary=----WebKitFormBoundaryx7'), ['multipart/form-data', { boundary: '----WebKitFormBoundaryx7' }]);
  assert.equal(parseContentDisposition('form-data;name=x;filename="a;b.txt"'), ['form-data', { name: 'x', filename: 'a;b.txt' }]);
  assert.equal(parseContentDisposition('attachment'), ['attachment', {}]);
});

test('attributes stop at the first one that does not parse', () => {
  assert.equal(parseContentDisposition('form-data; name="a"; =broken; filename="x"'), ['form-data', { name: 'a' }]);
});

test.run();
