import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLogger } from '../../../../common/logger.ts';
import { MemoryRecordStore } from '../../../../client/memory-record-store.ts';
import type { RecordListOptions, RecordListing } from '../../../../client/record-store.ts';
import { IMAGES, ImageStore, LISTING_MAX_AGE_MS } from '../../../../compute/image/image-store.ts';
import type { ImageRecord } from '../../../../compute/image/image-record.ts';
import { ManualClock } from '../../../helpers/manual-clock.ts';

/**
 * The image store's listing copy: what `image list` reads from the cluster, and that records
 * written by another image process (another `ImageStore` over the same records) are listed.
 */
class CountingStore extends MemoryRecordStore {
  listings = 0;
  reads = 0;
  override async list(type: string, options?: RecordListOptions): Promise<RecordListing> {
    this.listings++;
    return super.list(type, options);
  }
  override async get<T = unknown>(type: string, key: string) {
    this.reads++;
    return super.get<T>(type, key);
  }
}

const logger = createLogger({ level: 'error', sink: () => {} });

function image(id: string, name: string): ImageRecord {
  const at = '2026-01-01T00:00:00Z';
  return { id, name, status: 'queued', visibility: 'shared', protected: false, os_hidden: false, owner: 'p', disk_format: 'raw', container_format: 'bare', size: null, virtual_size: null, checksum: null, os_hash_algo: null, os_hash_value: null, min_ram: 0, min_disk: 0, created_at: at, updated_at: at, tags: [], properties: {}, members: {} };
}

const names = async (store: ImageStore): Promise<string[]> => (await store.all()).map((i) => `${i.id}:${i.name}`).sort();

test('a listing over an unchanged change mark reads no container listing and no record', async () => {
  const records = new CountingStore();
  const clock = new ManualClock();
  const store = new ImageStore(records, { clock, logger });
  for (let i = 0; i < 50; i++) await store.create(image(`id-${i}`, `n${i}`));
  assert.is((await store.all()).length, 50);
  const [listings, reads] = [records.listings, records.reads];
  for (let i = 0; i < 10; i++) assert.is((await store.all()).length, 50);
  assert.is(records.listings, listings);
  assert.is(records.reads, reads);
});

test("regression: another process's same-size change (name 'aaa' to 'bbb') is in the next listing", async () => {
  const records = new CountingStore();
  const clock = new ManualClock();
  const here = new ImageStore(records, { clock, logger });
  const there = new ImageStore(records, { clock, logger });
  await here.create(image('a', 'aaa'));
  await here.create(image('b', 'keep'));
  assert.equal(await names(here), ['a:aaa', 'b:keep']);
  await there.update('a', (i) => ({ ...i, name: 'bbb' }));
  assert.equal(await names(here), ['a:bbb', 'b:keep']);
  await there.delete('b');
  await there.create(image('c', 'keep'));
  assert.equal(await names(here), ['a:bbb', 'c:keep']);
  // Only the changed record is read again, not every one.
  const reads = records.reads;
  await there.update('c', (i) => ({ ...i, name: 'ccc' }));
  const readsByWriter = records.reads - reads;
  assert.equal(await names(here), ['a:bbb', 'c:ccc']);
  assert.is(records.reads - reads - readsByWriter, 1);
});

test('an update that changes nothing notes no change; a write whose note is lost is listed after LISTING_MAX_AGE_MS', async () => {
  const records = new CountingStore();
  const clock = new ManualClock();
  const store = new ImageStore(records, { clock, logger });
  await store.create(image('a', 'aaa'));
  await store.all();
  const mark = await records.changeMark(IMAGES);
  await store.update('a', () => undefined);
  assert.is(await records.changeMark(IMAGES), mark);
  // Another process wrote and failed to note it (its POST was lost): bounded staleness.
  await records.put(IMAGES, 'a', image('a', 'zzz'));
  assert.equal(await names(store), ['a:aaa']);
  clock.advance(LISTING_MAX_AGE_MS);
  assert.equal(await names(store), ['a:zzz']);
});

test.run();
