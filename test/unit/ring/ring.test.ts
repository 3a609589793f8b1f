import { utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HashPath } from '../../../common/hash-path.ts';
import { RingBuilder } from '../../../ring/builder.ts';
import { writeRingFile } from '../../../ring/io.ts';
import { Ring } from '../../../ring/ring.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';
import { makeTempDir } from '../../helpers/tmpdir.ts';

const secret = new HashPath('', 'changeme');

/** 3 regions x 2 zones x 2 servers x 2 devices. */
function builder(partPower = 8): RingBuilder {
  const b = RingBuilder.create({ partPower, replicas: 3, minPartHours: 0 }, new ManualClock());
  for (let region = 1; region <= 3; region++) {
    for (let zone = 1; zone <= 2; zone++) {
      for (let server = 1; server <= 2; server++) {
        for (let disk = 1; disk <= 2; disk++) {
          b.addDevice({ region, zone, ip: `10.${region}.${zone}.${server}`, port: 6210, device: `sd${disk}`, weight: 100 });
        }
      }
    }
  }
  b.rebalance({ seed: 1 });
  return b;
}

test('getNodes agrees with the builder table', () => {
  const b = builder();
  const ring = Ring.fromData(b.ringData(), secret);
  for (const name of ['a', 'b', 'AUTH_test', 'ü']) {
    const { partition, nodes } = ring.getNodes(name, 'c', 'o');
    const expected = b.ringData().replica2part2dev.map((row) => row[partition]);
    assert.equal(nodes.map((n) => n.id), expected);
    assert.equal(nodes.map((n) => n.index), [0, 1, 2]);
    assert.ok(partition >= 0 && partition < 256);
  }
});

test('the same name maps to the same partition for a given secret; another secret differs', () => {
  const data = builder().ringData();
  const one = Ring.fromData(data, secret);
  const again = Ring.fromData(data, new HashPath('', 'changeme'));
  const other = Ring.fromData(data, new HashPath('', 'something else'));
  let differ = 0;
  for (let i = 0; i < 200; i++) {
    const name = `obj-${i}`;
    assert.is(one.getPart('AUTH_a', 'c', name), again.getPart('AUTH_a', 'c', name));
    if (one.getPart('AUTH_a', 'c', name) !== other.getPart('AUTH_a', 'c', name)) differ++;
  }
  assert.ok(differ > 180, `only ${differ} of 200 names moved with the secret`);
});

test('partitions are spread evenly over names', () => {
  const ring = Ring.fromData(builder(4).ringData(), secret);
  const counts = new Array<number>(16).fill(0);
  for (let i = 0; i < 16_000; i++) {
    const p = ring.getPart('a', 'c', `o${i}`);
    counts[p] = (counts[p] ?? 0) + 1;
  }
  for (const n of counts) assert.ok(n > 800 && n < 1200, `a partition got ${n} of 16000 names`);
});

test('handoffs never repeat a primary, cover every other device, and prefer unused regions, zones, servers', () => {
  const ring = Ring.fromData(builder().ringData(), secret);
  for (let part = 0; part < 256; part += 17) {
    const primaries = ring.getPartNodes(part);
    const handoffs = [...ring.moreNodes(part)];
    const ids = new Set(primaries.map((d) => d.id));
    assert.ok(handoffs.every((d) => !ids.has(d.id)), 'a handoff repeats a primary');
    assert.is(new Set(handoffs.map((d) => d.id)).size, handoffs.length);
    assert.is(handoffs.length, 24 - 3);
    // 3 primaries use all 3 regions, so the first handoffs use zones the primaries do not.
    const zones = new Set(primaries.map((d) => `${d.region}/${d.zone}`));
    const firstThree = handoffs.slice(0, 3);
    assert.ok(firstThree.every((d) => !zones.has(`${d.region}/${d.zone}`)), `part ${part}: early handoff in a primary zone`);
  }
});

test('handoff order is the same for every ring instance (proxies and replicators agree)', () => {
  const data = builder().ringData();
  const a = Ring.fromData(data, secret);
  const b = Ring.fromData(data, secret);
  assert.equal([...a.moreNodes(42)].map((d) => d.id), [...b.moreNodes(42)].map((d) => d.id));
  assert.not.equal([...a.moreNodes(42)].map((d) => d.id), [...a.moreNodes(43)].map((d) => d.id));
});

test('a ring reloads when its file changes, and keeps the last good ring when the new one is bad', async () => {
  const dir = await makeTempDir();
  try {
    const path = join(dir.path, 'object.ring.gz');
    const b = builder();
    await writeRingFile(path, b.ringData());
    const clock = new ManualClock();
    const ring = Ring.load(path, secret, { clock, reloadIntervalMs: 15_000 });
    assert.is(ring.version, 1);
    b.addDevice({ region: 1, zone: 1, ip: '10.9.9.9', port: 6210, device: 'sdx', weight: 100 });
    b.rebalance({ seed: 2 });
    await writeRingFile(path, b.ringData());
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    assert.is(ring.getPartNodes(0).length, 3);
    assert.is(ring.version, 1, 'reloaded before the interval passed');
    clock.advance(15_001);
    ring.getPartNodes(0);
    assert.is(ring.version, 2);
    assert.is(ring.devices.length, 25);
    // A corrupt file is not loaded; the ring keeps serving version 2.
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path, 'garbage');
    utimesSync(path, new Date(), new Date(Date.now() + 10_000));
    clock.advance(15_001);
    assert.is(ring.getPartNodes(0).length, 3);
    assert.is(ring.version, 2);
    assert.match(String(ring.reloadError?.message), /not a Swiftlet ring or builder file/);
  } finally {
    await dir.remove();
  }
});

test('a partition of a device listed twice is returned once (fewer devices than replicas)', () => {
  const b = RingBuilder.create({ partPower: 4, replicas: 3, minPartHours: 0 }, new ManualClock());
  b.addDevice({ region: 1, zone: 1, ip: '10.0.0.1', port: 6210, device: 'sda', weight: 1 });
  b.addDevice({ region: 1, zone: 2, ip: '10.0.0.2', port: 6210, device: 'sda', weight: 1 });
  b.rebalance({ seed: 1 });
  const ring = Ring.fromData(b.ringData(), secret);
  for (let p = 0; p < 16; p++) assert.is(ring.getPartNodes(p).length, 2);
});

test.run();
