import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryRecordStore } from '../../../client/memory-record-store.ts';
import { systemClock } from '../../../common/clock.ts';
import { type BlockDeviceMapping, blockDevicesOf, changeBlockDevices, nextDeviceName } from '../../../compute/block-device-record.ts';
import { ComputeStore } from '../../../compute/store.ts';

const mapping = (volume: string, device: string): BlockDeviceMapping => ({ uuid: `bdm-${volume}`, volume_id: volume, device_name: device, tag: null, delete_on_termination: false, attachment_id: null, attached: false, created_at: '2026-01-01T00:00:00Z' });
const flavor = (ephemeral: number, swap: number) => ({ flavor: { ephemeral, swap } });

test("device names as Nova's libvirt driver gives them: after the root disk, the flavor's ephemeral and swap disks and the volumes there are", () => {
  assert.is(nextDeviceName(flavor(0, 0), []), '/dev/vdb');
  assert.is(nextDeviceName(flavor(1, 0), []), '/dev/vdc');
  assert.is(nextDeviceName(flavor(1, 512), []), '/dev/vdd');
  assert.is(nextDeviceName(flavor(0, 0), [mapping('a', '/dev/vdb'), mapping('b', '/dev/vdd')]), '/dev/vdc', 'the first free one');
  const many = Array.from({ length: 25 }, (_, i) => mapping(String(i), `/dev/vd${'bcdefghijklmnopqrstuvwxyz'[i]}`));
  assert.is(nextDeviceName(flavor(0, 0), many), '/dev/vdaa', 'after vdz, vdaa');
});

test("a server's recorded local disks decide, not its flavor: two ephemeral disks and swap come before the volumes", () => {
  const disk = (device: string) => ({ kind: 'ephemeral' as const, size: 1, file: `disk.${device}`, device, guest_format: null });
  assert.is(nextDeviceName({ flavor: { ephemeral: 2, swap: 0 }, local_disks: [disk('vdb'), disk('vdc')] }, []), '/dev/vdd');
  assert.is(nextDeviceName({ flavor: { ephemeral: 1, swap: 0 }, local_disks: [] }, []), '/dev/vdb', 'a flavor ephemeral the request mapped away (size 0) takes no device');
  assert.is(nextDeviceName({ flavor: { ephemeral: 2, swap: 0 }, local_disks: [disk('vdb'), disk('vdc')] }, [mapping('a', '/dev/vdd')]), '/dev/vde');
});

test('concurrent changes of one server\'s mappings all land (compare-and-swap), and no two get one device', async () => {
  const store = new ComputeStore(new MemoryRecordStore(), systemClock);
  await Promise.all(['a', 'b', 'c', 'd', 'e'].map((v) => changeBlockDevices(store, 'srv', (ms) => [...ms, mapping(v, nextDeviceName(flavor(0, 0), ms))])));
  const all = await blockDevicesOf(store, 'srv');
  assert.equal(all.map((m) => m.volume_id).sort(), ['a', 'b', 'c', 'd', 'e']);
  assert.equal(all.map((m) => m.device_name).sort(), ['/dev/vdb', '/dev/vdc', '/dev/vdd', '/dev/vde', '/dev/vdf']);
});

test.run();
