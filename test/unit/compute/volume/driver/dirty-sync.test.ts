import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DirtySync } from '../../../../../compute/volume/driver/dirty-sync.ts';
import { rejects } from '../../../../helpers/rejects.ts';

test('nothing written: no flush; a write during a flush is flushed by the next sync; a failed flush is retried', async () => {
  let flushes = 0;
  let during: (() => void) | undefined;
  let fail = false;
  const s = new DirtySync(async () => {
    flushes++;
    during?.();
    if (fail) throw new Error('EIO');
  });
  await s.sync();
  assert.is(flushes, 0);
  s.mark();
  during = () => s.mark();
  await s.sync();
  during = undefined;
  assert.is(flushes, 1);
  await s.sync();
  assert.is(flushes, 2, 'the write that landed during the first flush');
  await s.sync();
  assert.is(flushes, 2);
  s.mark();
  fail = true;
  await rejects(s.sync(), /EIO/);
  fail = false;
  await s.sync();
  assert.is(flushes, 4, 'still marked after the failed flush');
});

test.run();
