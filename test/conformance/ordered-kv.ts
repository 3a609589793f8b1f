import { suite as uvuSuite } from 'uvu';
import * as assert from 'uvu/assert';
import type { KvEntry, KvIterator, OrderedKv } from '../../common/db/kv.ts';

/**
 * The contract of `OrderedKv` (common/db/kv.ts): what the brokers rely on from LevelDB and
 * from its in-memory twin. Each implementation's test file runs it with its own factory.
 */
export interface KvFixture {
  /** A fresh, empty store. */
  open(): Promise<OrderedKv>;
  /** Closes `kv` and opens the same store again (its data must still be there). */
  reopen(kv: OrderedKv): Promise<OrderedKv>;
  cleanup(): Promise<void>;
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));

async function drain(it: KvIterator, size = 2): Promise<string[]> {
  const keys: string[] = [];
  try {
    for (let batch: KvEntry[] = await it.nextv(size); batch.length > 0; batch = await it.nextv(size)) keys.push(...batch.map(([k]) => k));
  } finally {
    await it.close();
  }
  return keys;
}

async function putAll(kv: OrderedKv, keys: readonly string[]): Promise<void> {
  await kv.batch(keys.map((key) => ({ type: 'put' as const, key, value: bytes(`v:${key}`) })));
}

export function suite(name: string, fixture: KvFixture): void {
  const test = uvuSuite(`OrderedKv conformance: ${name}`);
  let kv: OrderedKv;
  test.before.each(async () => {
    kv = await fixture.open();
  });
  test.after.each(async () => {
    await kv.close().catch(() => undefined);
  });
  test.after(() => fixture.cleanup());

  test('get, getMany and batch: puts and deletes apply in order', async () => {
    assert.is(await kv.get('missing'), undefined);
    await kv.batch([
      { type: 'put', key: 'a', value: bytes('1') },
      { type: 'put', key: 'b', value: bytes('2') },
      { type: 'del', key: 'a' },
      { type: 'put', key: 'c', value: bytes('3') },
      { type: 'put', key: 'c', value: bytes('4') },
    ]);
    assert.equal((await kv.getMany(['a', 'b', 'c', 'd'])).map(text), [undefined, '2', '4', undefined]);
    await kv.batch([]);
    assert.is(text(await kv.get('b')), '2');
    assert.is(text(kv.getSync('c')), '4');
    assert.is(kv.getSync('a'), undefined);
  });

  test('getSync finds a long multi-byte key read after a short one (a listed row a DELETE missed)', async () => {
    // A short key first, then keys whose last character is cut by any buffer sized for it.
    const short = 'k';
    const long = (n: number) => `${'\u850a'.repeat(n)}/\uf111\u{1F600}${'\u00e9'.repeat(n)}`;
    await kv.batch([{ type: 'put', key: short, value: bytes('s') }, ...[20, 40, 41, 42, 43, 90].map((n) => ({ type: 'put' as const, key: long(n), value: bytes(String(n)) }))]);
    assert.is(text(kv.getSync(short)), 's');
    for (const n of [20, 40, 41, 42, 43, 90]) assert.is(text(kv.getSync(long(n))), String(n), `key of ${n} characters`);
    assert.is(kv.getSync(long(40).slice(0, -1)), undefined);
  });

  test('keys are ordered by UTF-8 bytes (code points), not UTF-16 units', async () => {
    // U+FF5E sorts before U+1F600 in code point order, after it in UTF-16 order.
    const keys = ['b', 'a', '\u{1F600}', '\uFF5E', 'a\u0000', 'ab', '\u00e9'];
    await putAll(kv, keys);
    assert.equal(await drain(kv.iterator({})), ['a', 'a\u0000', 'ab', 'b', '\u00e9', '\uFF5E', '\u{1F600}']);
  });

  test('ranges: gt/gte/lt/lte bound the iteration, forwards and in reverse', async () => {
    await putAll(kv, ['k1', 'k2', 'k3', 'k4', 'k5']);
    assert.equal(await drain(kv.iterator({ gt: 'k1', lt: 'k4' })), ['k2', 'k3']);
    assert.equal(await drain(kv.iterator({ gte: 'k1', lte: 'k4' })), ['k1', 'k2', 'k3', 'k4']);
    assert.equal(await drain(kv.iterator({ gt: 'k1', lt: 'k4', reverse: true })), ['k3', 'k2']);
    assert.equal(await drain(kv.iterator({ gte: 'k2', reverse: true })), ['k5', 'k4', 'k3', 'k2']);
    assert.equal(await drain(kv.iterator({ lte: 'k2' })), ['k1', 'k2']);
    assert.equal(await drain(kv.iterator({ gt: 'k5' })), []);
  });

  test('nextv returns at most size entries, then an empty batch at the end', async () => {
    await putAll(kv, ['a', 'b', 'c']);
    const it = kv.iterator({});
    const first = await it.nextv(2);
    assert.ok(first.length >= 1 && first.length <= 2);
    const rest = await drain(it, 10);
    assert.equal([...first.map(([k]) => k), ...rest], ['a', 'b', 'c']);
    assert.equal(text(first[0]?.[1]), 'v:a');
  });

  test('seek moves forwards to the first key >= target, within the range', async () => {
    await putAll(kv, ['a1', 'a2', 'b1', 'b2', 'c1']);
    const it = kv.iterator({ lt: 'c' });
    assert.equal((await it.nextv(1)).map(([k]) => k), ['a1']);
    it.seek('b');
    assert.equal((await it.nextv(1)).map(([k]) => k), ['b1']);
    it.seek('b2');
    assert.equal((await it.nextv(1)).map(([k]) => k), ['b2']);
    it.seek('a'); // backwards is allowed
    assert.equal((await it.nextv(1)).map(([k]) => k), ['a1']);
    it.seek('c0'); // outside the range: the iterator ends
    assert.equal(await it.nextv(5), []);
    await it.close();
  });

  test('seek in reverse lands on the last key <= target', async () => {
    await putAll(kv, ['a1', 'a2', 'b1', 'b2', 'c1']);
    const it = kv.iterator({ reverse: true });
    assert.equal((await it.nextv(1)).map(([k]) => k), ['c1']);
    it.seek('b2');
    assert.equal((await it.nextv(1)).map(([k]) => k), ['b2']);
    it.seek('b');
    assert.equal((await it.nextv(2)).map(([k]) => k), ['a2', 'a1']);
    await it.close();
  });

  test('clear deletes exactly the range', async () => {
    await putAll(kv, ['a', 'b1', 'b2', 'c']);
    await kv.clear({ gte: 'b', lt: 'c' });
    assert.equal(await drain(kv.iterator({})), ['a', 'c']);
  });

  test('data survives close and reopen', async () => {
    await putAll(kv, ['x', 'y']);
    kv = await fixture.reopen(kv);
    assert.equal(await drain(kv.iterator({})), ['x', 'y']);
  });

  test('a closed store refuses work', async () => {
    await kv.close();
    let failed = false;
    await kv.get('x').catch(() => {
      failed = true;
    });
    assert.ok(failed, 'get on a closed store must reject');
  });

  test.run();
}
