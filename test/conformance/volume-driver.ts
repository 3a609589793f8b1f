import { randomBytes } from 'node:crypto';
import { suite as uvuSuite } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidVolume, SnapshotIsBusy, SnapshotNotFound, VolumeExists, VolumeNotFound } from '../../compute/volume/errors.ts';
import type { VolumeDriver, VolumeFile, VolumeFormat } from '../../compute/volume/driver/types.ts';
import { rejects } from '../helpers/rejects.ts';

/**
 * The contract of `VolumeDriver` (compute/volume/driver/types.ts), what the volume service
 * and the backup engine rely on, run against the file driver and its memory twin, for each
 * format the implementation offers.
 */
export interface VolumeDriverFixture {
  open(): Promise<VolumeDriver>;
  cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;
let n = 0;
const freshId = (): string => `v${n++}-${process.pid}`;

async function readAll(file: VolumeFile): Promise<Buffer> {
  return Buffer.from(await file.read(0, file.sizeBytes));
}

async function contents(driver: VolumeDriver, id: string): Promise<Buffer> {
  const file = await driver.openVolume(id, 'r');
  try {
    return await readAll(file);
  } finally {
    await file.close();
  }
}

async function writeAt(driver: VolumeDriver, id: string, position: number, data: Uint8Array): Promise<void> {
  const file = await driver.openVolume(id, 'rw');
  await file.write(position, data);
  await file.close();
}

export function suite(name: string, fixture: VolumeDriverFixture, formats: readonly VolumeFormat[]): void {
  const test = uvuSuite(`VolumeDriver conformance: ${name}`);
  let driver: VolumeDriver;
  test.before(async () => {
    driver = await fixture.open();
  });
  test.after(() => fixture.cleanup());

  for (const format of formats) {
    test(`${format}: a new volume has its size and reads as zeros; a second create of the id is VolumeExists`, async () => {
      const id = freshId();
      const info = await driver.createVolume(id, 3 * MiB, { format });
      assert.equal(info, { id, format, sizeBytes: 3 * MiB });
      assert.equal(await driver.getVolume(id), info);
      assert.ok((await contents(driver, id)).equals(Buffer.alloc(3 * MiB)));
      await rejects(driver.createVolume(id, MiB, { format }), VolumeExists);
      assert.is((await driver.getVolume(id))?.sizeBytes, 3 * MiB);
    });

    test(`${format}: writes are read back at their offsets, across reopening`, async () => {
      const id = freshId();
      await driver.createVolume(id, 2 * MiB, { format });
      const a = randomBytes(5000);
      const b = randomBytes(70_000);
      const file = await driver.openVolume(id, 'rw');
      await file.write(10, a);
      await file.write(MiB - 100, b);
      await file.sync();
      assert.ok(Buffer.from(await file.read(10, a.length)).equals(a));
      await file.close();
      const all = await contents(driver, id);
      const expected = Buffer.alloc(2 * MiB);
      a.copy(expected, 10);
      b.copy(expected, MiB - 100);
      assert.ok(all.equals(expected));
    });

    test(`${format}: a write past the end or on a read-only handle is InvalidVolume and writes nothing`, async () => {
      const id = freshId();
      await driver.createVolume(id, MiB, { format });
      const rw = await driver.openVolume(id, 'rw');
      await rejects(rw.write(MiB - 10, new Uint8Array(11).fill(7)), InvalidVolume);
      await rw.close();
      const ro = await driver.openVolume(id, 'r');
      await rejects(ro.write(0, new Uint8Array(1).fill(7)), InvalidVolume);
      assert.is((await ro.read(MiB - 4, 100)).length, 4, 'a read at the end is short');
      await ro.close();
      assert.ok((await contents(driver, id)).equals(Buffer.alloc(MiB)));
    });

    test(`${format}: extend keeps the data and adds zeros; a shrink or same size is InvalidVolume`, async () => {
      const id = freshId();
      await driver.createVolume(id, MiB, { format });
      const data = randomBytes(1000);
      await writeAt(driver, id, MiB - 1000, data);
      assert.is((await driver.extendVolume(id, 3 * MiB)).sizeBytes, 3 * MiB);
      const all = await contents(driver, id);
      assert.is(all.length, 3 * MiB);
      assert.ok(all.subarray(MiB - 1000, MiB).equals(data));
      assert.ok(all.subarray(MiB).equals(Buffer.alloc(2 * MiB)));
      await rejects(driver.extendVolume(id, 2 * MiB), InvalidVolume);
      await rejects(driver.extendVolume(id, 3 * MiB), InvalidVolume);
      assert.is((await driver.getVolume(id))?.sizeBytes, 3 * MiB);
      await rejects(driver.extendVolume(freshId(), 4 * MiB), VolumeNotFound);
    });

    test(`${format}: a snapshot keeps the data of its moment; a volume from it has that data at its own size`, async () => {
      const id = freshId();
      await driver.createVolume(id, MiB, { format });
      const before = randomBytes(MiB);
      await writeAt(driver, id, 0, before);
      const snap = freshId();
      assert.equal(await driver.createSnapshot(snap, id), { id: snap, volumeId: id, format, sizeBytes: MiB });
      await writeAt(driver, id, 0, randomBytes(4096));
      const sfile = await driver.openSnapshot(snap);
      assert.ok((await readAll(sfile)).equals(before));
      await sfile.close();

      const clone = freshId();
      await rejects(driver.createVolumeFromSnapshot(clone, snap, MiB - 1), InvalidVolume);
      assert.is(await driver.getVolume(clone), undefined);
      const info = await driver.createVolumeFromSnapshot(clone, snap, 2 * MiB);
      assert.is(info.sizeBytes, 2 * MiB);
      assert.is(info.format, format);
      const cloned = await contents(driver, clone);
      assert.ok(cloned.subarray(0, MiB).equals(before));
      assert.ok(cloned.subarray(MiB).equals(Buffer.alloc(MiB)));
      // The clone's writes are its own.
      await writeAt(driver, clone, 0, Buffer.alloc(10, 9));
      const again = await driver.openSnapshot(snap);
      assert.ok((await readAll(again)).equals(before));
      await again.close();
      await rejects(driver.createVolumeFromSnapshot(freshId(), freshId(), MiB), SnapshotNotFound);
    });

    test(`${format}: deleting a volume leaves its snapshots; a snapshot goes unless a volume reads through it`, async () => {
      const id = freshId();
      await driver.createVolume(id, MiB, { format });
      const snap = freshId();
      await driver.createSnapshot(snap, id);
      await driver.deleteVolume(id);
      assert.is(await driver.getVolume(id), undefined);
      await rejects(driver.deleteVolume(id), VolumeNotFound);
      await rejects(driver.openVolume(id, 'r'), VolumeNotFound);
      assert.is((await driver.getSnapshot(snap))?.volumeId, id);
      const clone = freshId();
      const cloneInfo = await driver.createVolumeFromSnapshot(clone, snap, MiB);
      if (cloneInfo.backingSnapshot !== undefined) {
        assert.is(cloneInfo.backingSnapshot, snap);
        await rejects(driver.deleteSnapshot(snap), SnapshotIsBusy);
        assert.ok(await driver.getSnapshot(snap));
        await driver.deleteVolume(clone);
      }
      await driver.deleteSnapshot(snap);
      assert.is(await driver.getSnapshot(snap), undefined);
      await rejects(driver.deleteSnapshot(snap), SnapshotNotFound);
      await rejects(driver.createSnapshot(freshId(), id), VolumeNotFound);
    });

    test(`${format}: the sweep at start (nothing left behind) removes nothing and leaves every volume, snapshot and clone as they were`, async () => {
      const id = freshId();
      await driver.createVolume(id, 2 * MiB, { format });
      const data = new Uint8Array(2 * MiB).map((_, i) => (i * 7) % 253);
      await writeAt(driver, id, 0, data);
      const snap = freshId();
      await driver.createSnapshot(snap, id);
      const clone = freshId();
      const cloneInfo = await driver.createVolumeFromSnapshot(clone, snap, 2 * MiB);
      const before = { volume: await driver.getVolume(id), snapshot: await driver.getSnapshot(snap), clone: await driver.getVolume(clone) };
      assert.equal(await driver.sweepLeftovers(), { partialFiles: 0, stoppedExports: 0, exportFiles: 0 });
      assert.equal({ volume: await driver.getVolume(id), snapshot: await driver.getSnapshot(snap), clone: await driver.getVolume(clone) }, before);
      assert.equal(before.clone, cloneInfo);
      assert.ok((await contents(driver, id)).equals(Buffer.from(data)));
      assert.ok((await contents(driver, clone)).equals(Buffer.from(data)));
      assert.ok((await driver.listSnapshots()).includes(snap));
    });
  }

  if (formats.includes('qcow2')) {
    test('qcow2: after markChanges every write through a handle is in changedSince, and little else', async () => {
      const id = freshId();
      await driver.createVolume(id, 8 * MiB, { format: 'qcow2' });
      await writeAt(driver, id, 0, randomBytes(MiB)); // before the mark: not reported
      assert.ok(driver.markChanges && driver.dropChangeMarks, 'a qcow2 driver tracks changes');
      assert.is(await driver.markChanges(id, 'b1'), true);
      const spots: Array<[number, number]> = [
        [3 * MiB + 1000, 5000],
        [6 * MiB, 200 * 1024],
        [8 * MiB - 10, 10],
      ];
      for (const [at, length] of spots) await writeAt(driver, id, at, randomBytes(length));
      const file = await driver.openVolume(id, 'r');
      try {
        const changed = await file.changedSince?.('b1');
        assert.ok(changed, 'the mark is known');
        for (const [at, length] of spots) assert.ok(changed.some(([s, e]) => s <= at && at + length <= e), `write at ${at} is in ${JSON.stringify(changed)}`);
        const total = changed.reduce((sum, [s, e]) => sum + (e - s), 0);
        assert.ok(total <= 2 * MiB, `${total} bytes reported for ~215 KB written`);
        assert.not.ok(changed.some(([s]) => s < MiB), 'the write before the mark is not reported');
        assert.is(await file.changedSince?.('never-marked'), undefined);
      } finally {
        await file.close();
      }
    });

    test('qcow2: dropChangeMarks forgets one mark, or all but one; a new mark starts clean', async () => {
      const id = freshId();
      await driver.createVolume(id, 2 * MiB, { format: 'qcow2' });
      const mark = driver.markChanges as NonNullable<VolumeDriver['markChanges']>;
      const drop = driver.dropChangeMarks as NonNullable<VolumeDriver['dropChangeMarks']>;
      await mark.call(driver, id, 'a');
      await writeAt(driver, id, 0, randomBytes(4096));
      await mark.call(driver, id, 'b');
      await mark.call(driver, id, 'c');
      await drop.call(driver, id, { mark: 'c' });
      await drop.call(driver, id, { mark: 'not-there' });
      const seen = async (): Promise<Record<string, number | undefined>> => {
        const file = await driver.openVolume(id, 'r');
        try {
          const out: Record<string, number | undefined> = {};
          for (const m of ['a', 'b', 'c']) out[m] = (await file.changedSince?.(m))?.length;
          return out;
        } finally {
          await file.close();
        }
      };
      assert.equal(await seen(), { a: 1, b: 0, c: undefined });
      await drop.call(driver, id, { allBut: 'b' });
      assert.equal(await seen(), { a: undefined, b: 0, c: undefined });
    });
  }

  if (formats.includes('raw')) {
    test('raw: markChanges says the volume cannot track changes', async () => {
      const id = freshId();
      await driver.createVolume(id, MiB, { format: 'raw' });
      if (driver.markChanges) assert.is(await driver.markChanges(id, 'x'), false);
      const file = await driver.openVolume(id, 'r');
      try {
        assert.is(await file.changedSince?.('x'), undefined);
      } finally {
        await file.close();
      }
    });
  }

  test('a size that is not a positive whole number of bytes is InvalidVolume, and nothing is made', async () => {
    for (const size of [0, -1, 1.5, Number.NaN]) {
      const id = freshId();
      await rejects(driver.createVolume(id, size), InvalidVolume);
      assert.is(await driver.getVolume(id), undefined);
    }
  });

  test('listSnapshots names every snapshot and no volume', async () => {
    const vol = freshId();
    await driver.createVolume(vol, MiB);
    const a = freshId();
    const b = freshId();
    await driver.createSnapshot(a, vol);
    await driver.createSnapshot(b, vol);
    let listed = await driver.listSnapshots();
    assert.ok(listed.includes(a) && listed.includes(b), JSON.stringify(listed));
    assert.not.ok(listed.includes(vol));
    await driver.deleteSnapshot(a);
    listed = await driver.listSnapshots();
    assert.not.ok(listed.includes(a));
    assert.ok(listed.includes(b));
  });

  test('a volume and a snapshot cannot share an id', async () => {
    const id = freshId();
    await driver.createVolume(id, MiB);
    await rejects(driver.createSnapshot(id, id), VolumeExists);
    assert.is(await driver.getSnapshot(id), undefined);
  });

  test.run();
}
