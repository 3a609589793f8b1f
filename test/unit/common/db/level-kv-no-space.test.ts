import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DatabaseNoSpaceError } from '../../../../common/db/errors.ts';
import { asDatabaseNoSpace } from '../../../../common/db/level-kv.ts';

// The errors as classic-level gave them on a full ext4 (a 200 MB loop device filled with dd).
const mkdirFull = Object.assign(new Error("ENOSPC: no space left on device, mkdir '/srv/node/d1/containers'"), { code: 'ENOSPC' });
const openFailed = Object.assign(new Error('Database failed to open', { cause: mkdirFull }), { code: 'LEVEL_DATABASE_NOT_OPEN' });
const writeFull = Object.assign(new Error('IO error: /srv/node/d1/containers/000003.log: No space left on device'), { code: 'LEVEL_IO_ERROR' });

test('regression: a full disk under a database is DatabaseNoSpaceError (a 507; it was a 500), whether met opening it or writing to it', () => {
  assert.instance(asDatabaseNoSpace(openFailed), DatabaseNoSpaceError);
  assert.instance(asDatabaseNoSpace(writeFull), DatabaseNoSpaceError);
  assert.is((asDatabaseNoSpace(writeFull) as DatabaseNoSpaceError).cause, writeFull, 'the original error stays as the cause');
  assert.instance(asDatabaseNoSpace(Object.assign(new Error('EDQUOT: disk quota exceeded, write'), { code: 'EDQUOT' })), DatabaseNoSpaceError);
});

test('other database errors are left as they are', () => {
  const corrupt = Object.assign(new Error('Corruption: bad block in table'), { code: 'LEVEL_CORRUPTION' });
  assert.is(asDatabaseNoSpace(corrupt), corrupt);
  const locked = Object.assign(new Error('Database failed to open', { cause: new Error('IO error: lock LOCK: already held by process') }), { code: 'LEVEL_DATABASE_NOT_OPEN' });
  assert.is(asDatabaseNoSpace(locked), locked);
  assert.is(asDatabaseNoSpace('not an error'), 'not an error');
});

test.run();
