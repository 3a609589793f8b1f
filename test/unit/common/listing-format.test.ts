import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ConstraintError } from '../../../common/errors.ts';
import { accountToXml, containerToXml, listingContentType, type ListingRecord, listingToJson, listingToText } from '../../../common/listing-format.ts';

// Expected bodies were produced by Python 3.11 running Swift's own code (json.dumps and
// listing_formats' ElementTree rendering) on the same records.
const objects: ListingRecord[] = [
  { bytes: 0, hash: 'd41d8cd98f00b204e9800998ecf8427e', name: 'a&b<c>"d\'', content_type: 'text/plain;charset=utf-8', last_modified: '2023-11-14T22:13:20.000000' },
  { subdir: 'dir/"x"&\t\n/' },
  { bytes: 12345678901, hash: 'x', name: 'caf\u00e9 \u{1F600} \u007f \u0001', content_type: '', last_modified: '2023-11-14T22:13:20.123450', deleted: 1 },
];
const containers: ListingRecord[] = [{ name: 'c\u00e9', count: 3, bytes: 30, last_modified: '2023-11-14T22:13:21.000000' }, { subdir: 'p/' }];

test('JSON is Python\'s json.dumps: spaced separators, fields in order, non-ASCII escaped', () => {
  assert.is(
    listingToJson(objects),
    '[{"bytes": 0, "hash": "d41d8cd98f00b204e9800998ecf8427e", "name": "a&b<c>\\"d\'", "content_type": "text/plain;charset=utf-8", "last_modified": "2023-11-14T22:13:20.000000"}, {"subdir": "dir/\\"x\\"&\\t\\n/"}, {"bytes": 12345678901, "hash": "x", "name": "caf\\u00e9 \\ud83d\\ude00 \\u007f \\u0001", "content_type": "", "last_modified": "2023-11-14T22:13:20.123450", "deleted": 1}]',
  );
  assert.is(listingToJson(containers), '[{"name": "c\\u00e9", "count": 3, "bytes": 30, "last_modified": "2023-11-14T22:13:21.000000"}, {"subdir": "p/"}]');
  assert.is(listingToJson([]), '[]');
});

test('container XML is ElementTree\'s, escaped the same way, behind Swift\'s declaration', () => {
  assert.is(
    containerToXml(objects, 'c "1" & <2>'),
    '<?xml version="1.0" encoding="UTF-8"?>\n<container name="c &quot;1&quot; &amp; &lt;2&gt;"><object><name>a&amp;b&lt;c&gt;"d\'</name><hash>d41d8cd98f00b204e9800998ecf8427e</hash><bytes>0</bytes><content_type>text/plain;charset=utf-8</content_type><last_modified>2023-11-14T22:13:20.000000</last_modified></object><subdir name="dir/&quot;x&quot;&amp;&#09;&#10;/"><name>dir/"x"&amp;\t\n/</name></subdir><object><name>caf\u00e9 \u{1F600} \u007f \u0001</name><hash>x</hash><bytes>12345678901</bytes><content_type /><last_modified>2023-11-14T22:13:20.123450</last_modified><deleted>1</deleted></object></container>',
  );
  assert.is(containerToXml([], 'empty'), '<?xml version="1.0" encoding="UTF-8"?>\n<container name="empty" />');
});

test('account XML puts each container on its own line', () => {
  assert.is(
    accountToXml(containers, 'AUTH_\u00e9&'),
    '<?xml version="1.0" encoding="UTF-8"?>\n<account name="AUTH_\u00e9&amp;">\n<container><name>c\u00e9</name><count>3</count><bytes>30</bytes><last_modified>2023-11-14T22:13:21.000000</last_modified></container>\n<subdir name="p/" />\n</account>',
  );
  assert.is(accountToXml([], 'AUTH_a'), '<?xml version="1.0" encoding="UTF-8"?>\n<account name="AUTH_a">\n</account>');
});

test('plain text is one name or subdir per line; empty is empty', () => {
  assert.is(listingToText(containers), 'c\u00e9\np/\n');
  assert.is(listingToText([]), '');
});

test('format= wins over Accept; an unknown format means plain', () => {
  assert.is(listingContentType('json', 'application/xml'), 'application/json');
  assert.is(listingContentType('XML', undefined), 'application/xml');
  assert.is(listingContentType('plain', 'application/json'), 'text/plain');
  assert.is(listingContentType('yaml', 'application/json'), 'text/plain');
});

test('Accept negotiation follows swob: quality, exact before wildcard, then order', () => {
  assert.is(listingContentType(undefined, undefined), 'text/plain');
  assert.is(listingContentType(undefined, ''), 'text/plain');
  assert.is(listingContentType(undefined, 'application/json'), 'application/json');
  assert.is(listingContentType(undefined, 'text/xml'), 'text/xml');
  assert.is(listingContentType(undefined, 'application/*'), 'application/json');
  assert.is(listingContentType(undefined, '*/*'), 'text/plain');
  assert.is(listingContentType(undefined, 'text/plain;q=0.5, application/xml'), 'application/xml');
  assert.is(listingContentType(undefined, '*/*;q=0.9, application/json;q=0.9'), 'application/json');
  assert.is(listingContentType(undefined, 'application/json; charset=utf-8'), 'application/json');
});

test('a malformed Accept is a 400, an unsatisfiable one a 406', () => {
  for (const bad of ['garbage', 'text/plain;q=0.5;q=0.4', 'text/plain;x']) {
    assert.throws(() => listingContentType(undefined, bad), (err: unknown) => err instanceof ConstraintError && err.kind === 'bad_request', bad);
  }
  assert.throws(() => listingContentType(undefined, 'image/png'), (err: unknown) => err instanceof ConstraintError && err.kind === 'not_acceptable');
});

test.run();
