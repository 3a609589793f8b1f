import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AvailabilityZoneFilter } from '../../../../compute/scheduler/filters/availability-zone-filter.ts';
import { ComputeFilter } from '../../../../compute/scheduler/filters/compute-filter.ts';
import { CoreFilter } from '../../../../compute/scheduler/filters/core-filter.ts';
import { DiskFilter } from '../../../../compute/scheduler/filters/disk-filter.ts';
import type { HostFilter } from '../../../../compute/scheduler/filters/host-filter.ts';
import { ImagePropertiesFilter } from '../../../../compute/scheduler/filters/image-properties-filter.ts';
import { RamFilter } from '../../../../compute/scheduler/filters/ram-filter.ts';
import { ServerGroupAffinityFilter } from '../../../../compute/scheduler/filters/server-group-affinity-filter.ts';
import { ServerGroupAntiAffinityFilter } from '../../../../compute/scheduler/filters/server-group-anti-affinity-filter.ts';
import type { HostState } from '../../../../compute/scheduler/host-state.ts';
import type { RequestSpec } from '../../../../compute/scheduler/request-spec.ts';
import { host, NOW, request } from './host-fixture.ts';

type Row = [what: string, filter: HostFilter, host: HostState, spec: RequestSpec, passes: boolean, groupHosts?: string[]];

const group = (policy: 'affinity' | 'anti-affinity', members: string[], max?: number) => ({ uuid: 'g-1', policy, members, ...(max === undefined ? {} : { rules: { max_server_per_host: max } }) });

const rows: Row[] = [
  ['an enabled host heard from 5 s ago', ComputeFilter, host('a'), request(), true],
  ['a disabled host', ComputeFilter, host('a', { enabled: false, disabledReason: 'maintenance' }), request(), false],
  ['a host last heard from 60 s ago (service_down_time) is still up', ComputeFilter, host('a', { lastHeartbeatMs: NOW - 60_000 }), request(), true],
  ['a host last heard from 61 s ago is down', ComputeFilter, host('a', { lastHeartbeatMs: NOW - 61_000 }), request(), false],

  ['RAM: 2 GiB on an empty 16 GiB host', RamFilter, host('a'), request(), true],
  ['RAM: exactly the rest fits', RamFilter, host('a', { used: { vcpus: 0, memoryMiB: 14_336, diskGiB: 0 } }), request(), true],
  ['RAM: one MiB more does not', RamFilter, host('a', { used: { vcpus: 0, memoryMiB: 14_337, diskGiB: 0 } }), request(), false],
  ['RAM: the 512 MiB reserve is not for instances', RamFilter, host('a'), request({ resources: { vcpus: 1, memoryMiB: 16_385, diskGiB: 0 } }), false],
  ['RAM: ratio 1.5 lets 24 GiB be used', RamFilter, host('a', { allocationRatios: { vcpus: 4, memoryMiB: 1.5, diskGiB: 1 }, used: { vcpus: 0, memoryMiB: 22_528, diskGiB: 0 } }), request(), true],
  ['RAM: but no one instance larger than the host (max_unit)', RamFilter, host('a', { allocationRatios: { vcpus: 4, memoryMiB: 4, diskGiB: 1 } }), request({ resources: { vcpus: 1, memoryMiB: 20_000, diskGiB: 0 } }), false],

  ['disk: 20 of 100 GiB', DiskFilter, host('a'), request(), true],
  ['disk: 81 GiB used leaves too little', DiskFilter, host('a', { used: { vcpus: 0, memoryMiB: 0, diskGiB: 81 } }), request(), false],
  ['disk: a boot from volume claims none', DiskFilter, host('a', { used: { vcpus: 0, memoryMiB: 0, diskGiB: 100 } }), request({ resources: { vcpus: 1, memoryMiB: 2048, diskGiB: 0 } }), true],

  ['vCPU: 8 cores at ratio 4 hold 32', CoreFilter, host('a', { used: { vcpus: 31, memoryMiB: 0, diskGiB: 0 } }), request(), true],
  ['vCPU: the 33rd does not fit', CoreFilter, host('a', { used: { vcpus: 32, memoryMiB: 0, diskGiB: 0 } }), request(), false],
  ['vCPU: no instance wider than the host', CoreFilter, host('a'), request({ resources: { vcpus: 9, memoryMiB: 1, diskGiB: 0 } }), false],

  ['AZ: none asked, any zone', AvailabilityZoneFilter, host('a', { availabilityZone: 'az2' }), request(), true],
  ['AZ: the zone asked for', AvailabilityZoneFilter, host('a', { availabilityZone: 'az2' }), request({ availabilityZone: 'az2' }), true],
  ['AZ: another zone', AvailabilityZoneFilter, host('a'), request({ availabilityZone: 'az2' }), false],

  ['image: no properties run anywhere', ImagePropertiesFilter, host('a', { supportedInstances: [] }), request(), true],
  ['image: x86_64 on an x86_64 host', ImagePropertiesFilter, host('a'), request({ imageProperties: { hw_architecture: 'x86_64' } }), true],
  ['image: amd64 is x86_64', ImagePropertiesFilter, host('a'), request({ imageProperties: { hw_architecture: 'AMD64' } }), true],
  ['image: aarch64 on an x86_64 host', ImagePropertiesFilter, host('a'), request({ imageProperties: { hw_architecture: 'aarch64' } }), false],
  ['image: a property on a host advertising nothing', ImagePropertiesFilter, host('a', { supportedInstances: [] }), request({ imageProperties: { hw_architecture: 'x86_64' } }), false],
  ['image: kvm and hvm together', ImagePropertiesFilter, host('a'), request({ imageProperties: { img_hv_type: 'kvm', hw_vm_mode: 'hv' } }), true],
  ['image: xen (xapi) guests', ImagePropertiesFilter, host('a'), request({ imageProperties: { img_hv_type: 'xapi' } }), false],
  ['image: hypervisor >= 6.0 on 7.2.0', ImagePropertiesFilter, host('a'), request({ imageProperties: { img_hv_type: 'qemu', img_hv_requested_version: '>=6.0' } }), true],
  ['image: hypervisor >= 7.3 on 7.2.0', ImagePropertiesFilter, host('a'), request({ imageProperties: { img_hv_type: 'qemu', img_hv_requested_version: '>=7.3' } }), false],
  ['image: a range 7.2.0 is in', ImagePropertiesFilter, host('a'), request({ imageProperties: { img_hv_type: 'qemu', img_hv_requested_version: '>=7.0, <8' } }), true],

  ['affinity: no group', ServerGroupAffinityFilter, host('a'), request(), true],
  ['affinity: the first member goes anywhere', ServerGroupAffinityFilter, host('a'), request({ group: group('affinity', ['i-1']) }), true, []],
  ['affinity: the host of the members', ServerGroupAffinityFilter, host('a'), request({ group: group('affinity', ['i-0', 'i-1']) }), true, ['a']],
  ['affinity: any other host', ServerGroupAffinityFilter, host('b'), request({ group: group('affinity', ['i-0', 'i-1']) }), false, ['a']],
  ['affinity: an anti-affinity group is not its business', ServerGroupAffinityFilter, host('b'), request({ group: group('anti-affinity', ['i-0', 'i-1']) }), true, ['a']],

  ['anti-affinity: a host without members', ServerGroupAntiAffinityFilter, host('a', { instances: ['x'] }), request({ group: group('anti-affinity', ['i-0', 'i-1']) }), true],
  ['anti-affinity: a host with a member', ServerGroupAntiAffinityFilter, host('a', { instances: ['i-0'] }), request({ group: group('anti-affinity', ['i-0', 'i-1']) }), false],
  ['anti-affinity: max_server_per_host 2 allows a second', ServerGroupAntiAffinityFilter, host('a', { instances: ['i-0'] }), request({ group: group('anti-affinity', ['i-0', 'i-1'], 2) }), true],
  ['anti-affinity: the instance itself (rebuild) passes', ServerGroupAntiAffinityFilter, host('a', { instances: ['i-0', 'i-1'] }), request({ group: group('anti-affinity', ['i-0', 'i-1']) }), true],
  ['anti-affinity: a soft policy does not filter', ServerGroupAntiAffinityFilter, host('a', { instances: ['i-0'] }), request({ group: { uuid: 'g', policy: 'soft-anti-affinity', members: ['i-0', 'i-1'] } }), true],
];

for (const [what, filter, h, spec, passes, groupHosts] of rows) {
  test(`${filter.name}: ${what} ${passes ? 'passes' : 'does not pass'}`, () => {
    const context = { spec, instanceUuid: spec.instanceUuids[0] ?? '', groupHosts: new Set(groupHosts ?? []), nowMs: NOW };
    assert.is(filter.hostPasses(h, context), passes);
  });
}

test.run();
