import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ContainerSyncWatch } from '../../../object/container-sync-watch.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

const settled = async (p: Promise<boolean>): Promise<boolean | 'pending'> => Promise.race([p, new Promise<'pending'>((resolve) => setImmediate(() => resolve('pending')))]);

test('an update taken unsynced settles true once a later report of the same epoch passes its generation', async () => {
  const watch = new ContainerSyncWatch({ clock: new ManualClock(), waitMs: 1000 });
  const a = watch.whenSynced('dev', { epoch: 'e1', generation: 3, synced: 1 });
  const b = watch.whenSynced('dev', { epoch: 'e1', generation: 5, synced: 2 });
  assert.is(await settled(a), 'pending');
  watch.observe('dev', { epoch: 'e1', generation: 6, synced: 4 });
  assert.is(await settled(a), true);
  assert.is(await settled(b), 'pending');
  // A report already past it settles at once; another device's reports do not count.
  assert.is(await watch.whenSynced('dev', { epoch: 'e1', generation: 4, synced: 4 }), true);
  watch.observe('other', { epoch: 'e9', generation: 9, synced: 9 });
  assert.is(await settled(b), 'pending');
  watch.close();
  assert.is(await b, false);
});

test('a new epoch (the container restarted) and the wait running out settle false', async () => {
  const clock = new ManualClock();
  const watch = new ContainerSyncWatch({ clock, waitMs: 1000 });
  const stranded = watch.whenSynced('dev', { epoch: 'e1', generation: 3, synced: 0 });
  watch.observe('dev', { epoch: 'e2', generation: 1, synced: 0 });
  assert.is(await stranded, false);
  const idle = watch.whenSynced('dev', { epoch: 'e2', generation: 2, synced: 0 });
  clock.advance(999);
  assert.is(await settled(idle), 'pending');
  clock.advance(1);
  assert.is(await idle, false);
  assert.is(clock.sleeping, 0, 'no timer left once nothing waits');
  watch.close();
});

test.run();
