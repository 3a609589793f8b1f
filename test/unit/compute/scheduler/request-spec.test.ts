import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resourcesFromFlavor } from '../../../../compute/scheduler/request-spec.ts';

test('a flavor claims its vCPUs and RAM, and root + ephemeral + swap rounded up to GiB as disk (Nova\'s resources_from_flavor)', () => {
  const rows: [Parameters<typeof resourcesFromFlavor>[0], boolean, [number, number, number]][] = [
    [{ vcpus: 1, ram: 512, disk: 1 }, false, [1, 512, 1]],
    [{ vcpus: 2, ram: 4096, disk: 40, 'OS-FLV-EXT-DATA:ephemeral': 10, swap: 1025 }, false, [2, 4096, 52]],
    [{ vcpus: 2, ram: 4096, disk: 40, swap: '' }, false, [2, 4096, 40]],
    [{ vcpus: 2, ram: 4096, disk: 40, 'OS-FLV-EXT-DATA:ephemeral': 5 }, true, [2, 4096, 5]],
  ];
  for (const [flavor, bfv, [vcpus, memoryMiB, diskGiB]] of rows) assert.equal(resourcesFromFlavor(flavor, bfv), { vcpus, memoryMiB, diskGiB }, JSON.stringify(flavor));
});

test.run();
