import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMisplacedEntry, reconcilerContainer, reconcilerContentType, reconcilerObjectName } from '../../../common/misplaced-queue.ts';
import { Timestamp } from '../../../common/timestamp.ts';

test('queue rows are named and parsed as Swift names them: <policy>:/<a>/<c>/<o>, the op in the content type, the time in the ETag', () => {
  const ts = new Timestamp(170_000_000_012_345, 2);
  assert.is(reconcilerContainer(ts), '1699999200', 'the hour of the write');
  const name = reconcilerObjectName(1, 'AUTH_a', 'c', 'dir/o:x');
  assert.is(name, '1:/AUTH_a/c/dir/o:x');
  const entry = parseMisplacedEntry({ name, content_type: reconcilerContentType('DELETE'), hash: ts.internal });
  assert.equal({ ...entry, timestamp: entry.timestamp.internal }, { policyIndex: 1, account: 'AUTH_a', container: 'c', object: 'dir/o:x', op: 'DELETE', timestamp: ts.internal });
  assert.is(parseMisplacedEntry({ name, content_type: 'application/x-put', hash: ts.internal }).op, 'PUT');
});

test('rows that are not queue rows are refused (the reconciler counts and skips them)', () => {
  assert.throws(() => parseMisplacedEntry({ name: 'AUTH_a/c/o', content_type: 'application/x-put', hash: '1700000000.00000' }), /not a reconciler queue row/);
  assert.throws(() => parseMisplacedEntry({ name: '0:/a/c/o', content_type: 'text/plain', hash: '1700000000.00000' }), /invalid operation type/);
  assert.throws(() => parseMisplacedEntry({ name: '0:/a/c/o', content_type: 'application/x-put', hash: 'junk' }));
});

test.run();
