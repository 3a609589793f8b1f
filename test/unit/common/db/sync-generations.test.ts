import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryKv } from '../../../../common/db/memory-kv.ts';
import { formatDbSync, parseDbSync, SyncGenerations } from '../../../../common/db/sync-generations.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

const put = (key: string) => [{ type: 'put' as const, key, value: new Uint8Array([1]) }];
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('unsynced batches get generations; the flush db_sync_delay later makes them durable and moves synced', async () => {
  const clock = new ManualClock();
  const kv = new MemoryKv();
  const syncs = new SyncGenerations(kv, { clock, delayMs: 100 });
  const one = await syncs.batch(put('a'), false);
  const two = await syncs.batch(put('b'), false);
  assert.equal([one?.generation, one?.synced, two?.generation, two?.synced], [1, 0, 2, 0]);
  assert.is(one?.epoch, syncs.epoch);
  clock.advance(100);
  await tick();
  assert.equal(syncs.report(), { epoch: syncs.epoch, generation: 2, synced: 2 });
  kv.loseUnsynced();
  assert.ok(kv.getSync('a') && kv.getSync('b'), 'flushed rows survive a power loss');
  // An unsynced batch that changes nothing reports the current generation (an earlier batch holds the row).
  assert.equal(await syncs.batch([], false), { epoch: syncs.epoch, generation: 2, synced: 2 });
  await syncs.close();
});

test('a durable batch makes the unsynced ones before it durable too (an update sent again that changes nothing)', async () => {
  const kv = new MemoryKv();
  const syncs = new SyncGenerations(kv, { clock: new ManualClock(), delayMs: 100 });
  await syncs.batch(put('a'), false);
  assert.is(await syncs.batch([], true), undefined);
  kv.loseUnsynced();
  assert.ok(kv.getSync('a'));
  assert.is(syncs.report().synced, 1);
  await syncs.close();
});

test('with no delay every batch is synced and no generation is handed out', async () => {
  const kv = new MemoryKv();
  const syncs = new SyncGenerations(kv, { clock: new ManualClock() });
  assert.is(await syncs.batch(put('a'), false), undefined);
  kv.loseUnsynced();
  assert.ok(kv.getSync('a'));
});

test('the header round-trips; anything else is no report', () => {
  const report = { epoch: 'abc-def', generation: 7, synced: 5 };
  assert.equal(parseDbSync(formatDbSync(report)), report);
  for (const bad of [undefined, '', 'x', 'e 1', 'e one 2', 'e 1 -2']) assert.is(parseDbSync(bad), undefined, String(bad));
});

test.run();
