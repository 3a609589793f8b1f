import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { seededRandom } from '../../../../common/seeded-random.ts';
import { NoValidHost } from '../../../../compute/scheduler/errors.ts';
import { defaultSchedulerConfig, type SchedulerConfig, selectDestinations } from '../../../../compute/scheduler/select-destinations.ts';
import { cpuWeigher } from '../../../../compute/scheduler/weighers/cpu-weigher.ts';
import { diskWeigher } from '../../../../compute/scheduler/weighers/disk-weigher.ts';
import { ramWeigher } from '../../../../compute/scheduler/weighers/ram-weigher.ts';
import { serverGroupSoftAffinityWeigher } from '../../../../compute/scheduler/weighers/server-group-soft-weighers.ts';
import { host, NOW, request } from './host-fixture.ts';

const config = (changes: Partial<SchedulerConfig> = {}): SchedulerConfig => ({ ...defaultSchedulerConfig(seededRandom(7)), ...changes });
const uuids = (n: number) => Array.from({ length: n }, (_, i) => `i-${i}`);
const hosts = () => [host('h1'), host('h2'), host('h3'), host('h4')];

test('one boot goes to the best host, with the next best as alternates (max_attempts 3)', () => {
  const [s] = selectDestinations([host('small', { used: { vcpus: 0, memoryMiB: 8192, diskGiB: 0 } }), host('big'), host('mid', { used: { vcpus: 0, memoryMiB: 4096, diskGiB: 0 } }), host('tiny', { used: { vcpus: 0, memoryMiB: 12_288, diskGiB: 0 } })], request(), config(), NOW);
  assert.equal(s, { instanceUuid: 'i-1', host: 'big', alternates: ['mid', 'small'] });
});

test('with nowhere to go: "No valid host was found. There are not enough hosts available."', () => {
  const down = [host('h1', { enabled: false }), host('h2', { lastHeartbeatMs: NOW - 3_600_000 })];
  assert.throws(() => selectDestinations(down, request(), config(), NOW), (err: unknown) => err instanceof NoValidHost && err.message === 'No valid host was found. There are not enough hosts available.');
});

test('many instances in one request spread over the hosts and all see each other', () => {
  const selections = selectDestinations(hosts(), request({ instanceUuids: uuids(8) }), config(), NOW);
  const per = new Map<string, number>();
  for (const s of selections) per.set(s.host, (per.get(s.host) ?? 0) + 1);
  assert.equal([...per.values()], [2, 2, 2, 2]);
});

test('stacking (negative multipliers) fills one host before the next', () => {
  const stack = config({ weighers: [ramWeigher(-1), cpuWeigher(-1), diskWeigher(-1)] });
  // 16 GiB / 2 GiB: 8 per host by RAM; disk 100 / 20: 5 per host. Disk runs out first.
  const selections = selectDestinations(hosts(), request({ instanceUuids: uuids(7) }), stack, NOW);
  const first = selections[0]?.host;
  assert.equal(selections.slice(0, 5).map((s) => s.host), Array(5).fill(first));
  assert.not.equal(selections[5]?.host, first);
});

test('all or nothing: more instances than fit is NoValidHost, not a partial placement', () => {
  // 4 hosts x 5 (disk-bound) = 20 fit.
  assert.is(selectDestinations(hosts(), request({ instanceUuids: uuids(20) }), config(), NOW).length, 20);
  assert.throws(() => selectDestinations(hosts(), request({ instanceUuids: uuids(21) }), config(), NOW), (err: unknown) => err instanceof NoValidHost);
});

test('anti-affinity puts each member on its own host, and a fifth on four hosts fails', () => {
  const group = { uuid: 'g', policy: 'anti-affinity' as const, members: [] };
  const placed = selectDestinations(hosts(), request({ instanceUuids: uuids(4), group }), config(), NOW).map((s) => s.host);
  assert.is(new Set(placed).size, 4);
  assert.throws(() => selectDestinations(hosts(), request({ instanceUuids: uuids(5), group }), config(), NOW), (err: unknown) => err instanceof NoValidHost);
});

test('affinity keeps a group together, on the host its earlier members are on', () => {
  const group = { uuid: 'g', policy: 'affinity' as const, members: ['old'] };
  const withOld = [host('h1'), host('h2'), host('h3', { instances: ['old'], used: { vcpus: 1, memoryMiB: 8192, diskGiB: 20 } })];
  const placed = selectDestinations(withOld, request({ instanceUuids: uuids(3), group }), config(), NOW).map((s) => s.host);
  assert.equal(placed, ['h3', 'h3', 'h3']);
});

test('soft-affinity: the group stays on one host while it fits, then spills over instead of failing', () => {
  const group = { uuid: 'g', policy: 'soft-affinity' as const, members: [] };
  // Disk-bound: 5 m1.small per host. The three spreading weighers at 1.0 together can outweigh
  // the group's at 1.0 as a host fills (Nova's too), so the operator raises its multiplier.
  const weighers = [ramWeigher(), cpuWeigher(), diskWeigher(), serverGroupSoftAffinityWeigher(10)];
  const placed = selectDestinations(hosts(), request({ instanceUuids: uuids(6), group }), config({ weighers }), NOW).map((s) => s.host);
  assert.equal(placed.slice(0, 5), Array(5).fill(placed[0]));
  assert.not.equal(placed[5], placed[0]);
});

test('soft-anti-affinity: members spread one per host, and a fifth on four hosts still boots (doubled up)', () => {
  const group = { uuid: 'g', policy: 'soft-anti-affinity' as const, members: ['old'] };
  const withOld = [host('h1', { instances: ['old'] }), host('h2'), host('h3'), host('h4')];
  // With only the RAM weigher, h1 (no use counted) would win every time; the group's weigher moves them off.
  const placed = selectDestinations(withOld, request({ instanceUuids: uuids(4), group }), config({ weighers: defaultSchedulerConfig(Math.random).weighers.slice(3) }), NOW).map((s) => s.host);
  assert.equal(new Set(placed.slice(0, 3)), new Set(['h2', 'h3', 'h4']));
  assert.is(placed.length, 4);
});

test('an availability zone confines the placement', () => {
  const zoned = [host('h1'), host('h2', { availabilityZone: 'az2' }), host('h3')];
  const placed = selectDestinations(zoned, request({ instanceUuids: uuids(3), availabilityZone: 'az2' }), config(), NOW).map((s) => s.host);
  assert.equal(placed, ['h2', 'h2', 'h2']);
});

test('host_subset_size draws the first host among the N best, from the injected random source', () => {
  const seen = new Set<string>();
  const draw = seededRandom(1);
  for (let i = 0; i < 50; i++) {
    const [s] = selectDestinations(hosts(), request(), config({ hostSubsetSize: 2, random: draw }), NOW);
    seen.add(s?.host ?? '');
  }
  // All four are equal, so the best two are the first two in order.
  assert.equal([...seen].sort(), ['h1', 'h2']);
});

test('the same seed chooses the same hosts', () => {
  const run = () => selectDestinations(hosts(), request({ instanceUuids: uuids(6) }), config({ hostSubsetSize: 3, random: seededRandom(42) }), NOW).map((s) => s.host);
  assert.equal(run(), run());
});

test.run();
