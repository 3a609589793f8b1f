import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpuWeigher } from '../../../../compute/scheduler/weighers/cpu-weigher.ts';
import { diskWeigher } from '../../../../compute/scheduler/weighers/disk-weigher.ts';
import { normalize, weighHosts } from '../../../../compute/scheduler/weighers/host-weigher.ts';
import { ramWeigher } from '../../../../compute/scheduler/weighers/ram-weigher.ts';
import { host } from './host-fixture.ts';

const used = (vcpus: number, memoryMiB: number, diskGiB: number) => ({ used: { vcpus, memoryMiB, diskGiB } });

test('normalize scales between the bounds as Nova does; all equal is all 0', () => {
  const rows: [number[], number | undefined, number[]][] = [
    [[10, 20, 30], undefined, [0, 0.5, 1]],
    [[10, 20, 30], 0, [1 / 3, 2 / 3, 1]],
    [[5, 5], undefined, [0, 0]],
    [[], undefined, []],
  ];
  for (const [values, minval, expected] of rows) assert.equal(normalize(values, minval), expected);
});

test('raw weights: free RAM (less the reserve), free vCPUs at the ratio, free disk in MiB', () => {
  const h = host('a', used(3, 4096, 30));
  assert.is(ramWeigher().weigh(h), 16_384 - 4096);
  assert.is(cpuWeigher().weigh(h), 8 * 4 - 3);
  assert.is(diskWeigher().weigh(h), 70 * 1024);
});

test('spreading (multiplier 1.0) puts the emptiest host first; stacking (-1.0) the fullest', () => {
  const hosts = [host('half', used(4, 8192, 50)), host('empty'), host('full', used(7, 14_000, 90))];
  const spread = weighHosts(hosts, [ramWeigher(), cpuWeigher(), diskWeigher()]).map((w) => w.host.host);
  assert.equal(spread, ['empty', 'half', 'full']);
  const stack = weighHosts(hosts, [ramWeigher(-1), cpuWeigher(-1), diskWeigher(-1)]).map((w) => w.host.host);
  assert.equal(stack, ['full', 'half', 'empty']);
});

test('weights add up weigher by weigher, each times its multiplier', () => {
  const hosts = [host('ram-rich', used(6, 0, 0)), host('cpu-rich', used(0, 12_288, 0))];
  const table: [number, number, string][] = [
    [1, 1, 'ram-rich'], // RAM: ram-rich 16384 free vs 4096 -> 1 vs 0.25; CPU: 26 vs 32 free -> 0.8125 vs 1
    [1, 10, 'cpu-rich'],
    [10, 1, 'ram-rich'],
  ];
  for (const [ram, cpu, best] of table) {
    const weighed = weighHosts(hosts, [ramWeigher(ram), cpuWeigher(cpu)]);
    assert.is(weighed[0]?.host.host, best, `ram ${ram}, cpu ${cpu}`);
  }
  const [first] = weighHosts(hosts, [ramWeigher(1), cpuWeigher(1)]);
  assert.is(first?.weight, 1 + 26 / 32);
});

test('an overcommitted host\'s negative free RAM counts as 0, not below', () => {
  const over = host('over', { ...used(0, 20_000, 0), allocationRatios: { vcpus: 4, memoryMiB: 1.5, diskGiB: 1 } });
  const weighed = weighHosts([over, host('b', used(0, 16_384, 0))], [ramWeigher()]);
  assert.equal(weighed.map((w) => w.weight), [0, 0]);
});

test('one host is not weighed at all', () => {
  assert.equal(weighHosts([host('only')], [ramWeigher()]).map((w) => w.weight), [0]);
});

test.run();
