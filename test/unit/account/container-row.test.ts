import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CONTAINER_ROW_SCHEMA, type ContainerRow, isDeletedContainerRow, mergeContainerRow } from '../../../account/container-row.ts';
import { ReplicationRequestError } from '../../../common/db/errors.ts';

const ts = (s: number): string => (s === 0 ? '0000000000.00000' : (1_700_000_000 + s).toFixed(5));
const row = (put: number, del: number, objects: number, bytes = 0, policy = 0): ContainerRow => ({ name: 'c', put_timestamp: ts(put), delete_timestamp: ts(del), object_count: objects, bytes_used: bytes, deleted: isDeletedContainerRow(ts(put), ts(del), objects), storage_policy_index: policy });

test('a row is deleted when its delete is newer than its put and it holds no objects', () => {
  assert.is(row(1, 2, 0).deleted, 1);
  assert.is(row(1, 2, 3).deleted, 0);
  assert.is(row(2, 1, 0).deleted, 0);
});

test('merge keeps the newest put and delete timestamps and takes the report\'s counts', () => {
  assert.equal(mergeContainerRow(row(5, 0, 3, 30), row(4, 0, 7, 70)), { ...row(5, 0, 7, 70) });
  assert.equal(mergeContainerRow(row(5, 0, 3, 30), row(5, 6, 0, 0)), row(5, 6, 0, 0));
  assert.equal(mergeContainerRow(row(5, 6, 0, 0), row(4, 0, 2, 2)), row(5, 6, 2, 2), 'objects keep a deleted container alive');
  assert.is(mergeContainerRow(row(5, 0, 3, 30), row(5, 0, 3, 30)), undefined, 'an identical report changes nothing');
});

test('rows from the wire are checked, and their deleted flag recomputed', () => {
  const wire = CONTAINER_ROW_SCHEMA.fromWire({ name: 'c', put_timestamp: ts(1), delete_timestamp: ts(2), object_count: 0, bytes_used: 0, deleted: 0, ROWID: 3 });
  assert.equal(wire, { ...row(1, 2, 0), ROWID: 3 });
  for (const bad of [{ name: 'a/b', put_timestamp: ts(1), delete_timestamp: ts(0), object_count: 0, bytes_used: 0 }, { name: 'c', put_timestamp: 'x', delete_timestamp: ts(0), object_count: 0, bytes_used: 0 }, { name: 'c', put_timestamp: ts(1), delete_timestamp: ts(0), object_count: -1, bytes_used: 0 }]) {
    assert.throws(() => CONTAINER_ROW_SCHEMA.fromWire(bad), (err: unknown) => err instanceof ReplicationRequestError);
  }
});

test.run();
