import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ephemeralFloor, type LocalDisk, localDisksAfterResize, localDisksAtBoot } from '../../../compute/local-disks.ts';

const eph = (file: string, device: string, size = 1): LocalDisk => ({ kind: 'ephemeral', size, file, device, guest_format: null });

test("a boot's local disks: the flavor's unless mapped, sized by the flavor when the mapping gives none, zero-sized ones left out", () => {
  assert.equal(localDisksAtBoot({ ephemeral: 2, swap: 512 }, [], true).map((d) => [d.file, d.device, d.size]), [['disk.eph0', 'vdb', 2], ['disk.swap', 'vdc', 512]]);
  assert.equal(localDisksAtBoot({ ephemeral: 2, swap: 0 }, [{ guestFormat: 'xfs' }], true).map((d) => [d.file, d.size, d.guest_format]), [['disk.eph0', 2, 'xfs']]);
  assert.equal(localDisksAtBoot({ ephemeral: 0, swap: 0 }, [{ guestFormat: null }], true), [], 'an unsized ephemeral mapping on a flavor without ephemeral disk: Nova lets it through at size 0');
  assert.equal(localDisksAtBoot({ ephemeral: 1, swap: 64 }, [{ volumeSize: 32, guestFormat: 'swap' }], false).map((d) => [d.file, d.device, d.size]), [['disk.eph0', 'vdb', 1], ['disk.swap', 'vdc', 32]]);
});

test('a resize keeps the ephemeral disks, adds disk.local to a server that had none (clear of its volumes), and swap follows the flavor', () => {
  const swap: LocalDisk = { kind: 'swap', size: 64, file: 'disk.swap', device: 'vdc', guest_format: 'swap' };
  assert.equal(localDisksAfterResize([eph('disk.eph0', 'vdb'), swap], { ephemeral: 2, swap: 128 }, new Set()).map((d) => [d.file, d.device, d.size]), [['disk.eph0', 'vdb', 1], ['disk.swap', 'vdc', 128]]);
  assert.equal(localDisksAfterResize([eph('disk.eph0', 'vdb'), swap], { ephemeral: 1, swap: 0 }, new Set()).map((d) => d.file), ['disk.eph0'], 'no swap under a flavor without');
  assert.equal(localDisksAfterResize([], { ephemeral: 1, swap: 64 }, new Set(['vdb'])).map((d) => [d.file, d.device]), [['disk.local', 'vdc'], ['disk.swap', 'vdd']], 'the volume at vdb keeps it');
  assert.is(ephemeralFloor([eph('disk.eph0', 'vdb', 1), eph('disk.eph1', 'vdc', 1)], { ephemeral: 5 }), 2, "the disks' sizes, not the flavor's");
  assert.is(ephemeralFloor([], { ephemeral: 5 }), 5);
});

test.run();
