import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseHeaderParams } from '../../../../proxy/middleware/header-params.ts';
import { linkRow } from '../../../../proxy/middleware/symlink-listing.ts';

const row = { bytes: 0, hash: 'x', name: 'l', content_type: 'application/symlink', last_modified: '2024-01-01T00:00:00.000000' };

test('a dynamic link\'s row: symlink_path in the request\'s account, the hash bare', () => {
  assert.equal(linkRow({ ...row, hash: 'd41d; symlink_target=c/o%20x' }, 'v1', 'AUTH_a'), { ...row, hash: 'd41d', symlink_path: '/v1/AUTH_a/c/o%20x' });
});

test('a static link\'s row: its target account, etag and bytes; other parameters stay on the hash', () => {
  const out = linkRow({ ...row, hash: 'd41d; slo_etag=abc; symlink_target=c/o; symlink_target_account=AUTH_b; symlink_target_etag=e1; symlink_target_bytes=42' }, 'v1', 'AUTH_a');
  assert.equal(out, { ...row, hash: 'd41d; slo_etag=abc', symlink_etag: 'e1', symlink_bytes: 42, symlink_path: '/v1/AUTH_b/c/o' });
});

test('rows without parameters and subdirs are left alone', () => {
  assert.is(linkRow(row, 'v1', 'AUTH_a'), row);
  const subdir = { subdir: 'a/' };
  assert.is(linkRow(subdir, 'v1', 'AUTH_a'), subdir);
});

test('parseHeaderParams is cgi.parse_header: lower-cased keys, quoted values, ; inside quotes', () => {
  const parsed = parseHeaderParams('text/plain; Charset="utf-8"; a="x;y"; b=1; b=2');
  assert.is(parsed.value, 'text/plain');
  assert.equal([...parsed.params], [['charset', 'utf-8'], ['a', 'x;y'], ['b', '2']]);
});

test.run();
