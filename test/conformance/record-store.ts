import { suite as uvuSuite } from 'uvu';
import * as assert from 'uvu/assert';
import { type RecordStore, RecordExistsError, RecordVersionError } from '../../client/record-store.ts';
import { listAllKeys, updateRecord } from '../../client/record-update.ts';
import { rejects } from '../helpers/rejects.ts';

/**
 * The contract of `RecordStore` (client/record-store.ts): what identity (and the image,
 * compute, network and volume services after it) rely on, from the cluster's store and from
 * its in-memory twin. Each implementation's test file runs it with its own factory; every
 * test uses its own record type, so one store may serve them all.
 */
export interface RecordStoreFixture {
  open(): Promise<RecordStore>;
  cleanup(): Promise<void>;
}

let n = 0;
const freshType = (): string => `t${n++}-${process.pid}`;

export function suite(name: string, fixture: RecordStoreFixture): void {
  const test = uvuSuite(`RecordStore conformance: ${name}`);
  let store: RecordStore;
  test.before(async () => {
    store = await fixture.open();
  });
  test.after(() => fixture.cleanup());

  test('get of a missing record (and of a type never written) is undefined', async () => {
    const type = freshType();
    assert.is(await store.get(type, 'nope'), undefined);
    await store.create(type, 'a', { v: 1 });
    assert.is(await store.get(type, 'nope'), undefined);
  });

  test('create stores once; a second create is RecordExistsError and changes nothing', async () => {
    const type = freshType();
    const version = await store.create(type, 'k', { name: 'first', n: 1 });
    const got = await store.get<{ name: string; n: number }>(type, 'k');
    assert.equal(got, { key: 'k', value: { name: 'first', n: 1 }, version });
    await rejects(store.create(type, 'k', { name: 'second' }), RecordExistsError);
    assert.equal((await store.get(type, 'k'))?.value, { name: 'first', n: 1 });
  });

  test('a version follows the content: a change gives a new one, the same JSON the same one', async () => {
    const type = freshType();
    const v1 = await store.create(type, 'k', { a: 1 });
    const v2 = await store.put(type, 'k', { a: 2 });
    assert.is.not(v2, v1);
    assert.is((await store.get(type, 'k'))?.version, v2);
    assert.is(await store.put(type, 'k', { a: 1 }), v1);
  });

  test('put replaces unconditionally, or only over the version given', async () => {
    const type = freshType();
    const v1 = await store.put(type, 'k', { step: 1 });
    const v2 = await store.put(type, 'k', { step: 2 }, { ifVersion: v1 });
    await rejects(store.put(type, 'k', { step: 3 }, { ifVersion: v1 }), RecordVersionError);
    assert.equal((await store.get(type, 'k'))?.value, { step: 2 });
    assert.is((await store.get(type, 'k'))?.version, v2);
    await rejects(store.put(type, 'absent', { step: 1 }, { ifVersion: v1 }), RecordVersionError);
    assert.is(await store.get(type, 'absent'), undefined);
  });

  test('delete: true once, then false; with a stale version it refuses and keeps the record', async () => {
    const type = freshType();
    const v1 = await store.create(type, 'k', { x: 1 });
    const v2 = await store.put(type, 'k', { x: 2 });
    await rejects(store.delete(type, 'k', { ifVersion: v1 }), RecordVersionError);
    assert.equal((await store.get(type, 'k'))?.value, { x: 2 });
    assert.is(await store.delete(type, 'k', { ifVersion: v2 }), true);
    assert.is(await store.get(type, 'k'), undefined);
    assert.is(await store.delete(type, 'k'), false);
    await rejects(store.delete(type, 'k', { ifVersion: v2 }), RecordVersionError);
    // A deleted key can be created again.
    await store.create(type, 'k', { x: 3 });
    assert.equal((await store.get(type, 'k'))?.value, { x: 3 });
  });

  test('list: byte order, prefix, marker, limit; truncated means a full page', async () => {
    const type = freshType();
    const keys = ['b', 'a/2', 'a/1', 'a/10', 'é', 'Z', 'a0'];
    for (const k of keys) await store.create(type, k, { k });
    const all = await store.list(type);
    assert.equal(all.entries.map((e) => e.key), ['Z', 'a/1', 'a/10', 'a/2', 'a0', 'b', 'é']);
    assert.is(all.truncated, false);
    assert.is(all.entries[0]?.version, (await store.get(type, 'Z'))?.version);
    assert.equal((await store.list(type, { prefix: 'a/' })).entries.map((e) => e.key), ['a/1', 'a/10', 'a/2']);
    assert.equal((await store.list(type, { marker: 'a0' })).entries.map((e) => e.key), ['b', 'é']);
    const page = await store.list(type, { limit: 2 });
    assert.equal(page.entries.map((e) => e.key), ['Z', 'a/1']);
    assert.is(page.truncated, true);
    const exact = await store.list(type, { prefix: 'a/', limit: 3 });
    assert.is(exact.truncated, true, 'a full page may have more after it');
    assert.equal(await toArray(listAllKeys(store, type, 'a')), ['a/1', 'a/10', 'a/2', 'a0']);
    assert.equal((await store.list(freshType())).entries, []);
    assert.equal((await store.list(type, { prefix: 'a/', newest: false })).entries.map((e) => e.key), ['a/1', 'a/10', 'a/2'], 'one replica lists what was written');
  });

  test('ensureType: an empty type that lists as empty, made once; records written after are listed', async () => {
    const type = freshType();
    await store.ensureType(type);
    await store.ensureType(type);
    assert.equal((await store.list(type, { newest: false })).entries, []);
    await store.create(type, 'k', { v: 1 });
    assert.equal((await store.list(type, { newest: false })).entries.map((e) => e.key), ['k']);
    assert.equal((await store.get(type, 'k'))?.value, { v: 1 });
  });

  test('a stored value is a copy: changing what was passed or read changes nothing stored', async () => {
    const type = freshType();
    const value = { list: [1, 2], nested: { a: 'x' } };
    await store.create(type, 'k', value);
    value.list.push(3);
    const read = await store.get<typeof value>(type, 'k');
    assert.equal(read?.value, { list: [1, 2], nested: { a: 'x' } });
    if (read) read.value.nested.a = 'changed';
    assert.equal((await store.get(type, 'k'))?.value, { list: [1, 2], nested: { a: 'x' } });
  });

  test('updateRecord: concurrent read-change-writes of one record all take effect', async () => {
    const type = freshType();
    await store.create(type, 'counter', { n: 0, by: [] as number[] });
    await Promise.all(
      [1, 2, 3, 4, 5, 6].map((i) => updateRecord<{ n: number; by: number[] }>(store, type, 'counter', (r) => ({ n: r.value.n + 1, by: [...r.value.by, i] }), 20)),
    );
    const final = await store.get<{ n: number; by: number[] }>(type, 'counter');
    assert.is(final?.value.n, 6);
    assert.equal([...(final?.value.by ?? [])].sort(), [1, 2, 3, 4, 5, 6]);
    assert.is(await updateRecord(store, type, 'missing', () => ({})), undefined);
    const kept = await updateRecord<{ n: number }>(store, type, 'counter', () => undefined);
    assert.is(kept?.version, final?.version);
  });

  test('concurrent creates of one key: exactly one succeeds', async () => {
    const type = freshType();
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => store.create(type, 'only', { i })));
    assert.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.instance(r.reason, RecordExistsError);
    const winner = results.findIndex((r) => r.status === 'fulfilled') + 1;
    assert.equal((await store.get(type, 'only'))?.value, { i: winner });
  });

  test('changeMark: steady while nothing happens; new after a create and after every noteChange', async () => {
    const type = freshType();
    const seen = new Set<string>();
    const fresh = async (): Promise<void> => {
      const mark = await store.changeMark(type);
      assert.ok(!seen.has(mark), `mark ${mark} seen before`);
      seen.add(mark);
    };
    await store.noteChange(type); // a type never written: nothing to note, no error
    await fresh();
    await store.create(type, 'a', { v: 1 });
    await fresh();
    assert.ok(seen.has(await store.changeMark(type)), 'the mark changed with nothing written');
    // An overwrite of the same size may keep the mark: the writer notes it.
    await store.put(type, 'a', { v: 2 });
    await store.noteChange(type);
    await fresh();
    await store.noteChange(type);
    await fresh();
    await store.create(type, 'b', {});
    await fresh();
    // A delete that brings count and bytes back to a state seen before is told apart by its note.
    await store.delete(type, 'b');
    await store.noteChange(type);
    await fresh();
  });

  test('bad record types and keys are refused before anything is stored', async () => {
    await rejects(store.get('Upper', 'k'), RangeError);
    await rejects(store.create('has space', 'k', {}), RangeError);
    await rejects(store.put(freshType(), '', {}), RangeError);
    await rejects(store.put(freshType(), 'x'.repeat(1025), {}), RangeError);
    await rejects(store.delete(freshType(), 'nul\0'), RangeError);
  });

  test.run();
}

async function toArray<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
