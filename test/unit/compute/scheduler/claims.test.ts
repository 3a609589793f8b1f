import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyClaim, type Claim, claimOnFirstFit, type HostStateStore, releaseClaim, releaseOn } from '../../../../compute/scheduler/claims.ts';
import { ClaimFailed, NoValidHost } from '../../../../compute/scheduler/errors.ts';
import { capacity, type HostState, RESOURCE_NAMES } from '../../../../compute/scheduler/host-state.ts';
import { rejects } from '../../../helpers/rejects.ts';
import { host } from './host-fixture.ts';

const small = (uuid: string): Claim => ({ instanceUuid: uuid, resources: { vcpus: 1, memoryMiB: 2048, diskGiB: 20 } });

test('a claim adds its resources and instance and bumps the generation', () => {
  const after = applyClaim(host('a'), small('i-1'));
  assert.equal(after.used, { vcpus: 1, memoryMiB: 2048, diskGiB: 20 });
  assert.equal(after.instances, ['i-1']);
  assert.is(after.generation, 1);
});

test('a claim that no longer fits fails, naming the resource, and changes nothing', () => {
  const rows: [Partial<HostState>, string][] = [
    [{ used: { vcpus: 32, memoryMiB: 0, diskGiB: 0 } }, 'VCPU'],
    [{ used: { vcpus: 0, memoryMiB: 15_000, diskGiB: 0 } }, 'MEMORY_MB'],
    [{ used: { vcpus: 0, memoryMiB: 0, diskGiB: 81 } }, 'DISK_GB'],
  ];
  for (const [changes, resource] of rows) {
    const before = host('a', changes);
    assert.throws(() => applyClaim(before, small('i-1')), (err: unknown) => err instanceof ClaimFailed && err.message.includes(resource), resource);
    assert.equal(before.instances, []);
  }
});

test('anti-affinity race: a boot that read the group before the other member joined still cannot share its host', () => {
  // Boot B joined the group after boot A read it: A's claim knows only itself; B claimed first.
  const hostWithB = applyClaim(host('a'), { ...small('i-b'), group: { uuid: 'g', policy: 'anti-affinity', members: ['i-a', 'i-b'] } });
  assert.equal(hostWithB.instanceGroups, { 'i-b': 'g' });
  assert.throws(() => applyClaim(hostWithB, { ...small('i-a'), group: { uuid: 'g', policy: 'anti-affinity', members: ['i-a'] } }), (err: unknown) => err instanceof ClaimFailed && err.message.includes('server group g'));
  // Another group's member, or 2.64's max_server_per_host 2, fits.
  assert.ok(applyClaim(hostWithB, { ...small('i-a'), group: { uuid: 'other', policy: 'anti-affinity', members: ['i-a'] } }));
  assert.ok(applyClaim(hostWithB, { ...small('i-a'), group: { uuid: 'g', policy: 'anti-affinity', members: ['i-a'], rules: { max_server_per_host: 2 } } }));
  // Released, the host forgets the instance's group.
  assert.equal(releaseClaim(hostWithB, small('i-b')).instanceGroups, {});
});

test('the same claim twice is counted once (a retried boot)', () => {
  const once = applyClaim(host('a'), small('i-1'));
  assert.is(applyClaim(once, small('i-1')), once);
});

test('an anti-affinity claim fails on a host that got a member meanwhile', () => {
  const group = { uuid: 'g', policy: 'anti-affinity' as const, members: ['i-1', 'i-2'] };
  const withOne = applyClaim(host('a'), { ...small('i-1'), group });
  assert.throws(() => applyClaim(withOne, { ...small('i-2'), group }), (err: unknown) => err instanceof ClaimFailed);
});

test('a release gives back exactly what the claim took; releasing twice is a no-op', () => {
  const claimed = applyClaim(applyClaim(host('a'), small('i-1')), small('i-2'));
  const released = releaseClaim(claimed, small('i-1'));
  assert.equal(released.used, { vcpus: 1, memoryMiB: 2048, diskGiB: 20 });
  assert.equal(released.instances, ['i-2']);
  assert.is(releaseClaim(released, small('i-1')), released);
});

/**
 * Host states as records with versions, as the record store will keep them: every read and
 * write yields to the event loop, so concurrent claims interleave as they would over HTTP.
 */
class VersionedStore implements HostStateStore {
  readonly records = new Map<string, { state: HostState; version: number }>();
  lostRaces = 0;

  constructor(hosts: readonly HostState[]) {
    for (const h of hosts) this.records.set(h.host, { state: h, version: 1 });
  }

  async read(name: string): Promise<{ state: HostState; version: string }> {
    await new Promise((resolve) => setImmediate(resolve));
    const r = this.records.get(name);
    if (r === undefined) throw new Error(`no host ${name}`);
    return { state: r.state, version: String(r.version) };
  }

  async writeIfUnchanged(name: string, version: string, state: HostState): Promise<boolean> {
    await new Promise((resolve) => setImmediate(resolve));
    const r = this.records.get(name);
    if (r === undefined || String(r.version) !== version) {
      this.lostRaces++;
      return false;
    }
    this.records.set(name, { state, version: r.version + 1 });
    return true;
  }
}

test('concurrent boots that all chose one host never overcommit it: the losers move to their alternates', async () => {
  // Room for 5 m1.small on each host (disk): 12 boots all sent to h1 first, then h2, then h3.
  const store = new VersionedStore([host('h1'), host('h2'), host('h3')]);
  const results = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => claimOnFirstFit(store, ['h1', 'h2', 'h3'], small(`i-${i}`))));
  assert.ok(results.every((r) => r.status === 'fulfilled'), JSON.stringify(results.filter((r) => r.status === 'rejected')));
  assert.ok(store.lostRaces > 0, 'the boots did race');
  const placed: string[] = [];
  for (const { state } of store.records.values()) {
    for (const resource of RESOURCE_NAMES) assert.ok(state.used[resource] <= capacity(state, resource), `${state.host} ${resource}`);
    placed.push(...state.instances);
  }
  assert.equal(placed.sort(), Array.from({ length: 12 }, (_, i) => `i-${i}`).sort());
  assert.equal(store.records.get('h1')?.state.instances.length, 5);
});

test('concurrent boots beyond every candidate\'s room: exactly the room is claimed, the rest get NoValidHost', async () => {
  const store = new VersionedStore([host('h1'), host('h2')]);
  const results = await Promise.allSettled(Array.from({ length: 13 }, (_, i) => claimOnFirstFit(store, ['h1', 'h2'], small(`i-${i}`))));
  assert.is(results.filter((r) => r.status === 'fulfilled').length, 10);
  for (const r of results) if (r.status === 'rejected') assert.instance(r.reason, NoValidHost);
  assert.equal([...store.records.values()].map((r) => r.state.used.diskGiB), [100, 100]);
});

test('a claim already stored (a retry after a lost answer) is not written again', async () => {
  const store = new VersionedStore([applyClaim(host('h1'), small('i-1'))]);
  await claimOnFirstFit(store, ['h1'], small('i-1'));
  assert.is(store.records.get('h1')?.version, 1);
  await rejects(claimOnFirstFit(store, [], small('i-2')), NoValidHost);
});

test('releaseOn gives back every claim named in one write, and skips those the host does not hold', async () => {
  const store = new VersionedStore([applyClaim(applyClaim(host('h1'), small('i-1')), small('migration-1'))]);
  await releaseOn(store, 'h1', small('i-1'), small('migration-1'), small('never-here'));
  const after = store.records.get('h1');
  assert.equal([after?.state.instances, after?.state.used, after?.version], [[], { vcpus: 0, memoryMiB: 0, diskGiB: 0 }, 2], 'one write');
  await releaseOn(store, 'h1', small('i-1'));
  assert.is(store.records.get('h1')?.version, 2, 'nothing to give back: nothing written');
});

test('a release whose host record keeps changing fails with ClaimFailed (the agent\'s delete gave up silently after 10 lost races, its claim kept and the server record removed)', async () => {
  const store = new VersionedStore([applyClaim(host('h1'), small('i-1'))]);
  const busy: HostStateStore = { read: (h) => store.read(h), writeIfUnchanged: async () => false };
  await rejects(releaseOn(busy, 'h1', small('i-1')), ClaimFailed);
});

test.run();
