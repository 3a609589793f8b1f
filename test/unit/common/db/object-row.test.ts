import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { extractSwiftBytes, mergeObjectRow, OBJECT_ROW_SCHEMA, type ObjectRow } from '../../../../common/db/object-row.ts';
import { ReplicationRequestError } from '../../../../common/db/errors.ts';

const ts = (s: number): string => (1_700_000_000 + s).toFixed(5);
const row = (over: Partial<ObjectRow>): ObjectRow => ({ name: 'o', created_at: ts(1), size: 1, content_type: 'text/plain', etag: 'e', deleted: 0, storage_policy_index: 0, ctype_timestamp: ts(1), meta_timestamp: ts(1), ...over });

test('extractSwiftBytes splits swift_bytes off and re-joins the other parameters as Swift does', () => {
  assert.equal(extractSwiftBytes('text/plain'), ['text/plain', undefined]);
  assert.equal(extractSwiftBytes('application/x;swift_bytes=123'), ['application/x', '123']);
  assert.equal(extractSwiftBytes('text/plain; charset=utf-8; swift_bytes=5'), ['text/plain;charset=utf-8', '5']);
  assert.equal(extractSwiftBytes('text/plain; a="x y"'), ['text/plain;a="x y"', undefined]);
});

test('merge: an older or equal update changes nothing; a newer one replaces the row', () => {
  const existing = row({ created_at: ts(5), ctype_timestamp: ts(5), meta_timestamp: ts(5) });
  assert.is(mergeObjectRow(existing, row({ created_at: ts(4), ctype_timestamp: ts(4), meta_timestamp: ts(4) })), undefined);
  assert.is(mergeObjectRow(existing, row({ created_at: ts(5), ctype_timestamp: ts(5), meta_timestamp: ts(5), size: 9 })), undefined);
  assert.equal(mergeObjectRow(existing, row({ created_at: ts(6), ctype_timestamp: ts(6), meta_timestamp: ts(6), size: 9, deleted: 1 })), row({ created_at: ts(6), ctype_timestamp: ts(6), meta_timestamp: ts(6), size: 9, deleted: 1 }));
  assert.equal(mergeObjectRow(undefined, existing), existing);
});

test('merge: data, content type and metadata time each come from the newer side', () => {
  const existing = row({ created_at: ts(5), size: 10, etag: 'old', content_type: 'image/png;swift_bytes=99', ctype_timestamp: ts(8), meta_timestamp: ts(9) });
  const merged = mergeObjectRow(existing, row({ created_at: ts(7), size: 20, etag: 'new', content_type: 'text/html', ctype_timestamp: ts(7), meta_timestamp: ts(7) }));
  assert.equal(merged, row({ created_at: ts(7), size: 20, etag: 'new', content_type: 'image/png', ctype_timestamp: ts(8), meta_timestamp: ts(9) }), 'new data (no swift_bytes), older type kept');
});

test('rows from the wire are checked and normalized', () => {
  const wire = OBJECT_ROW_SCHEMA.fromWire({ name: 'n', created_at: '1700000001', size: 3, content_type: 't', etag: 'e', deleted: true, ROWID: 4 });
  assert.equal(wire, { name: 'n', created_at: ts(1), size: 3, content_type: 't', etag: 'e', deleted: 1, storage_policy_index: 0, ctype_timestamp: ts(1), meta_timestamp: ts(1), ROWID: 4 });
  for (const bad of [null, [], { name: '', created_at: ts(1), size: 1, content_type: 't', etag: 'e', deleted: 0 }, { name: 'n', created_at: ts(1), size: -1, content_type: 't', etag: 'e', deleted: 0 }, { name: 'n\u0000', created_at: ts(1), size: 1, content_type: 't', etag: 'e', deleted: 0 }, { name: 'n', created_at: ts(1), size: 1, content_type: 't', etag: 'e', deleted: 2 }]) {
    assert.throws(() => OBJECT_ROW_SCHEMA.fromWire(bad), (err: unknown) => err instanceof ReplicationRequestError, JSON.stringify(bad));
  }
  // A reserved name (object versioning's versions) replicates like any other.
  assert.is(OBJECT_ROW_SCHEMA.fromWire({ name: '\u0000o\u00008299999999.87654', created_at: ts(1), size: 1, content_type: 't', etag: 'e', deleted: 0 }).name, '\u0000o\u00008299999999.87654');
});

test.run();
