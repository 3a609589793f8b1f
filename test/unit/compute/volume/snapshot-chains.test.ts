import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryRecordStore } from '../../../../client/memory-record-store.ts';
import { rejects } from '../../../helpers/rejects.ts';
import { chooseParent, planRetire, SNAPSHOT_CHAINS, SnapshotChains, type SnapshotLayer } from '../../../../compute/volume/snapshot-chains.ts';

/** Which layers of a volume's snapshots may go, and which a new snapshot builds on. */
const layer = (id: string, parent: string | null, state: SnapshotLayer['state'] = 'ready', size = 100): SnapshotLayer => ({ id, parent, container: 'c', prefix: `p-${id}`, size_bytes: size, state });

test('planRetire: a leaf goes at once; a layer an incremental builds on stays retired until that one goes too', () => {
  const layers = [layer('a', null), layer('b', 'a'), layer('c', 'b')];
  const leaf = planRetire(layers, 'c');
  assert.equal(leaf.collect.map((l) => l.id), ['c']);

  const middle = planRetire(layers, 'b');
  assert.equal(middle.collect, []);
  assert.equal(middle.layers.map((l) => l.state), ['ready', 'retired', 'ready']);

  // c goes: b (retired, now needed by nothing) goes with it; a stays (its snapshot lives).
  const after = planRetire(middle.layers, 'c');
  assert.equal(after.collect.map((l) => l.id), ['b', 'c']);
  // Then a: nothing is left.
  const rest = planRetire(after.layers.filter((l) => l.state !== 'collecting'), 'a');
  assert.equal(rest.collect.map((l) => l.id), ['a']);
});

test('planRetire: siblings keep their parent; an uploading child keeps it too; layers left collecting are collected again', () => {
  const tree = [layer('a', null, 'retired'), layer('b', 'a'), layer('c', 'a', 'uploading')];
  assert.equal(planRetire(tree, 'b').collect.map((l) => l.id), ['b']);
  const stuck = [layer('a', null), layer('x', null, 'collecting')];
  assert.equal(planRetire(stuck, 'nothing').collect.map((l) => l.id), ['x']);
});

test('chooseParent: the newest ready layer of the same size, unless the chain is already maxChain deep', () => {
  const chain = { project_id: 'p', volume_id: 'v', layers: [layer('a', null), layer('b', 'a'), layer('c', 'b', 'uploading')] };
  assert.is(chooseParent(chain, 100, 8)?.id, 'b');
  assert.is(chooseParent(chain, 100, 2), undefined, 'b is 2 deep: the next is a full copy');
  assert.is(chooseParent(chain, 200, 8), undefined, 'the volume grew');
  assert.is(chooseParent(undefined, 100, 8), undefined);
});

test('SnapshotChains: begin over the previous layer, finish, the chain for a restore, retire and collect down to no record', async () => {
  const store = new MemoryRecordStore();
  const chains = new SnapshotChains(store, { maxChain: 8 });
  assert.is(await chains.begin('p', 'v', 's1', 100, 'c'), undefined);
  await chains.finish('p', 'v', 's1', 'pre1');
  const parent = await chains.begin('p', 'v', 's2', 100, 'c');
  assert.equal(parent, { id: 's1', container: 'c', serviceMetadata: 'pre1', parentId: null });
  await rejects(chains.chainOf('p', 'v', 's2'), /no copy in the cluster/, 'not restorable while uploading');
  await chains.finish('p', 'v', 's2', 'pre2');
  assert.equal(await chains.chainOf('p', 'v', 's2'), [
    { id: 's2', container: 'c', serviceMetadata: 'pre2', parentId: 's1' },
    { id: 's1', container: 'c', serviceMetadata: 'pre1', parentId: null },
  ]);
  assert.equal(await chains.retire('p', 'v', 's1'), [], 's2 builds on s1');
  await rejects(chains.chainOf('p', 'v', 's1'), /no copy/, 'a retired snapshot is not restorable');
  assert.is((await chains.chainOf('p', 'v', 's2')).length, 2, 'but s2 still is');
  const collect = await chains.retire('p', 'v', 's2');
  assert.equal(collect.map((l) => l.id).sort(), ['s1', 's2']);
  await chains.collected('p', 'v', ['s1', 's2']);
  assert.is(await store.get(SNAPSHOT_CHAINS, 'p/v'), undefined);
});

test('SnapshotChains: concurrent begins of one new chain: both layers are kept', async () => {
  const chains = new SnapshotChains(new MemoryRecordStore(), { maxChain: 8 });
  await Promise.all([chains.begin('p', 'v', 's1', 100, 'c'), chains.begin('p', 'v', 's2', 100, 'c')]);
  const chain = await chains.get('p', 'v');
  assert.equal(chain?.layers.map((l) => l.id).sort(), ['s1', 's2']);
});

test.run();
