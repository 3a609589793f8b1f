import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RingBuilder } from '../../../ring/builder.ts';
import type { Device } from '../../../ring/device.ts';
import { RingError } from '../../../ring/device.ts';
import { validateTable } from '../../../ring/validate.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

const HOUR = 3_600_000;

interface Layout {
  devices: number;
  zones: number;
  regions?: number;
  weights?: number[];
  partPower?: number;
  minPartHours?: number;
}

/** Devices spread round-robin over zones (and regions); each zone is its own server. */
function build({ devices, zones, regions = 1, weights, partPower = 10, minPartHours = 0 }: Layout, clock = new ManualClock()): RingBuilder {
  const b = RingBuilder.create({ partPower, replicas: 3, minPartHours }, clock);
  for (let i = 0; i < devices; i++) {
    const zone = (i % zones) + 1;
    b.addDevice({ region: (zone % regions) + 1, zone, ip: `10.0.${zone}.1`, port: 6210, device: `sd${i}`, weight: weights?.[i] ?? 100 });
  }
  return b;
}

function table(b: RingBuilder): Uint16Array[] {
  return b.ringData().replica2part2dev.map((row) => Uint16Array.from(row));
}

/** For each partition, the devices that hold it now but did not before. */
function newcomersByPart(before: readonly Uint16Array[], after: readonly Uint16Array[]): number[][] {
  const out: number[][] = [];
  for (let p = 0; p < (after[0]?.length ?? 0); p++) {
    const old = before.map((row) => row[p]);
    const fresh: number[] = [];
    for (const row of after) {
      const d = row[p] as number;
      const at = old.indexOf(d);
      if (at === -1) fresh.push(d);
      else old[at] = -1;
    }
    out.push(fresh);
  }
  return out;
}

/** Every device that received a replica it did not hold before. */
function newcomers(before: readonly Uint16Array[], after: readonly Uint16Array[]): number[] {
  return newcomersByPart(before, after).flat();
}

/** The most replicas of one partition found in one zone. */
function maxReplicasInOneZone(b: RingBuilder): number {
  const zoneOf = new Map(b.devices.map((d) => [d.id, `${d.region}/${d.zone}`]));
  const t = b.ringData().replica2part2dev;
  let worst = 0;
  for (let p = 0; p < b.partitions; p++) {
    const counts = new Map<string, number>();
    for (const row of t) {
      const z = zoneOf.get(row[p] as number) as string;
      counts.set(z, (counts.get(z) ?? 0) + 1);
    }
    worst = Math.max(worst, ...counts.values());
  }
  return worst;
}

for (let n = 4; n <= 12; n++) {
  test(`equal weights, ${n} devices: every device within 1% of its ideal partition count`, () => {
    const b = build({ devices: n, zones: n });
    b.rebalance({ seed: n });
    const ideal = (1024 * 3) / n;
    for (const [id, count] of b.partCounts()) {
      assert.ok(Math.abs(count - ideal) / ideal <= 0.01, `d${id} has ${count}, ideal ${ideal.toFixed(1)}`);
    }
    assert.equal(validateTable(b.ringData().devices, b.ringData().replica2part2dev, 3, 10), []);
  });
}

test('equal weights in 4 zones of 2 devices: balanced too', () => {
  const b = build({ devices: 8, zones: 4 });
  b.rebalance({ seed: 1 });
  for (const [id, count] of b.partCounts()) assert.ok(Math.abs(count - 384) / 384 <= 0.01, `d${id}: ${count}`);
});

test('unequal weights: every device within 1% of its weight share', () => {
  const weights = [100, 100, 100, 200, 200, 300];
  const b = build({ devices: 6, zones: 6, weights });
  b.rebalance({ seed: 3 });
  const total = weights.reduce((a, w) => a + w, 0);
  for (const [id, count] of b.partCounts()) {
    const share = ((weights[id] as number) / total) * 3072;
    assert.ok(Math.abs(count - share) / share <= 0.01, `d${id} has ${count}, share ${share.toFixed(1)}`);
  }
});

for (const n of [4, 6, 9]) {
  test(`adding one device to ${n}: at most 1/(N+1) + 2 points move, all to the new device`, () => {
    const b = build({ devices: n, zones: n });
    b.rebalance({ seed: 11 });
    const before = table(b);
    const added = b.addDevice({ region: 1, zone: n + 1, ip: '10.0.99.1', port: 6210, device: 'new', weight: 100 });
    const report = b.rebalance({ seed: 12 });
    const moves = newcomers(before, table(b));
    assert.is(report.moved, moves.length);
    assert.ok(moves.length / 3072 <= 1 / (n + 1) + 0.02, `${moves.length} moved (${((moves.length / 3072) * 100).toFixed(2)}%)`);
    assert.ok(moves.every((d) => d === added.id), 'a replica moved between old devices');
    assert.ok(moves.length > 0);
  });
}

test('adding a device to an existing zone moves only to it and keeps zones apart', () => {
  const b = build({ devices: 8, zones: 4 });
  b.rebalance({ seed: 5 });
  const before = table(b);
  const added = b.addDevice({ region: 1, zone: 2, ip: '10.0.2.2', port: 6210, device: 'extra', weight: 100 });
  b.addDevice({ region: 1, zone: 1, ip: '10.0.1.2', port: 6210, device: 'extra', weight: 100 });
  b.addDevice({ region: 1, zone: 3, ip: '10.0.3.2', port: 6210, device: 'extra', weight: 100 });
  b.addDevice({ region: 1, zone: 4, ip: '10.0.4.2', port: 6210, device: 'extra', weight: 100 });
  b.rebalance({ seed: 6 });
  const moves = newcomers(before, table(b));
  assert.ok(moves.every((d) => d >= added.id), 'only the new devices receive partitions');
  assert.is(maxReplicasInOneZone(b), 1);
});

test('at least as many zones as replicas: no partition has two replicas in one zone', () => {
  for (const [devices, zones] of [[3, 3], [4, 4], [8, 4], [12, 3], [12, 6]] as const) {
    const b = build({ devices, zones });
    const report = b.rebalance({ seed: devices * zones });
    assert.is(maxReplicasInOneZone(b), 1, `${devices} devices in ${zones} zones`);
    assert.is(report.dispersion, 0);
  }
});

test('fewer zones than replicas: replicas spread as evenly as the zones allow (2 + 1)', () => {
  const b = build({ devices: 6, zones: 2 });
  b.rebalance({ seed: 2 });
  assert.is(maxReplicasInOneZone(b), 2);
  // No partition on one device twice, and every partition uses both zones.
  const t = b.ringData().replica2part2dev;
  const zoneOf = new Map(b.devices.map((d) => [d.id, d.zone]));
  for (let p = 0; p < b.partitions; p++) {
    const devs = t.map((row) => row[p] as number);
    assert.is(new Set(devs).size, 3);
    assert.is(new Set(devs.map((d) => zoneOf.get(d))).size, 2);
  }
});

test('regions come first: with 2 regions every partition has a replica in each', () => {
  const b = build({ devices: 8, zones: 4, regions: 2 });
  b.rebalance({ seed: 9 });
  const regionOf = new Map(b.devices.map((d) => [d.id, d.region]));
  for (let p = 0; p < b.partitions; p++) {
    const regions = new Set(b.ringData().replica2part2dev.map((row) => regionOf.get(row[p] as number)));
    assert.is(regions.size, 2, `partition ${p}`);
  }
});

test('servers spread before devices: two devices per server never hold one partition twice', () => {
  const b = RingBuilder.create({ partPower: 8, replicas: 3, minPartHours: 0 }, new ManualClock());
  for (let s = 0; s < 3; s++) for (let d = 0; d < 2; d++) b.addDevice({ region: 1, zone: 1, ip: `10.0.0.${s}`, port: 6210, device: `sd${d}`, weight: 1 });
  b.rebalance({ seed: 4 });
  const serverOf = new Map(b.devices.map((d) => [d.id, d.ip]));
  for (let p = 0; p < b.partitions; p++) {
    assert.is(new Set(b.ringData().replica2part2dev.map((row) => serverOf.get(row[p] as number))).size, 3);
  }
});

test('overload lets replicas stay apart when weights alone would not (5 devices, 4 zones)', () => {
  const b = build({ devices: 5, zones: 4 });
  b.rebalance({ seed: 1 });
  assert.ok(b.dispersion().percent > 0, 'weights alone double up zone 1');
  const required = b.requiredOverload();
  assert.ok(Math.abs(required - 1 / 9) < 0.001, `required overload ${required}`);
  const c = build({ devices: 5, zones: 4 });
  c.setOverload(required + 0.01);
  c.rebalance({ seed: 1 });
  assert.is(maxReplicasInOneZone(c), 1);
});

test('min_part_hours: nothing moves until it has passed, then at most one replica per partition', () => {
  const clock = new ManualClock();
  const b = build({ devices: 4, zones: 4, minPartHours: 1 }, clock);
  b.rebalance({ seed: 1 });
  const first = table(b);
  b.addDevice({ region: 1, zone: 5, ip: '10.0.5.1', port: 6210, device: 'sd9', weight: 100 });
  clock.advance(30 * 60_000);
  const early = b.rebalance({ seed: 2 });
  assert.is(early.moved, 0, 'moved within min_part_hours');
  clock.advance(31 * 60_000);
  const later = b.rebalance({ seed: 3 });
  assert.ok(later.moved > 0);
  const second = table(b);
  const moves = newcomersByPart(first, second);
  for (const [p, fresh] of moves.entries()) assert.ok(fresh.length <= 1, `partition ${p} moved ${fresh.length} replicas at once`);
  // Straight away again: partitions that just moved stay put.
  b.setWeight(0, 50);
  clock.advance(60_000);
  b.rebalance({ seed: 4 });
  const third = table(b);
  moves.forEach((fresh, p) => {
    if (fresh.length > 0) assert.equal(third.map((row) => row[p]), second.map((row) => row[p]), `partition ${p} moved twice within an hour`);
  });
  assert.ok(newcomers(second, third).length > 0, 'partitions that had not moved may move');
});

test('removing a device reassigns all of its partitions, even within min_part_hours', () => {
  const clock = new ManualClock();
  const b = build({ devices: 6, zones: 6, minPartHours: 24 }, clock);
  b.rebalance({ seed: 1 });
  b.removeDevice(2);
  assert.equal(b.pendingRemoval, [2]);
  const report = b.rebalance({ seed: 2 });
  assert.is(report.removed.length, 1);
  assert.is(report.removed[0]?.id, 2);
  assert.ok(!b.devices.some((d) => d.id === 2));
  assert.ok(!b.partCounts().has(2));
  assert.ok(b.ringData().replica2part2dev.every((row) => !row.includes(2)));
  assert.equal(validateTable(b.ringData().devices, b.ringData().replica2part2dev, 3, 10), []);
  assert.is(maxReplicasInOneZone(b), 1);
});

test('weight 0 drains a device once min_part_hours allows', () => {
  const clock = new ManualClock();
  const b = build({ devices: 5, zones: 5, minPartHours: 1 }, clock);
  b.rebalance({ seed: 1 });
  b.setWeight(4, 0);
  clock.advance(2 * HOUR);
  b.rebalance({ seed: 2 });
  assert.is(b.partCounts().get(4), 0);
  for (const [id, count] of b.partCounts()) if (id !== 4) assert.ok(Math.abs(count - 768) <= 8, `d${id}: ${count}`);
});

test('the same seed gives the same ring; another seed a different one', () => {
  const a = build({ devices: 7, zones: 7 });
  const b = build({ devices: 7, zones: 7 });
  const c = build({ devices: 7, zones: 7 });
  a.rebalance({ seed: 42 });
  b.rebalance({ seed: 42 });
  c.rebalance({ seed: 43 });
  assert.equal(table(a), table(b));
  assert.not.equal(table(a), table(c));
});

test('a removed id is reused by the next device, as swift-ring-builder does', () => {
  const b = build({ devices: 4, zones: 4 });
  b.rebalance({ seed: 1 });
  b.removeDevice(1);
  b.rebalance({ seed: 2 });
  const dev: Device = b.addDevice({ region: 1, zone: 9, ip: '10.9.9.9', port: 6210, device: 'sdz', weight: 100 });
  assert.is(dev.id, 1);
});

test('bad input is refused with a clear error', () => {
  const clock = new ManualClock();
  assert.throws(() => RingBuilder.create({ partPower: 40, replicas: 3, minPartHours: 1 }, clock), /part_power 40/);
  assert.throws(() => RingBuilder.create({ partPower: 8, replicas: 0, minPartHours: 1 }, clock), /replicas 0/);
  assert.throws(() => RingBuilder.create({ partPower: 8, replicas: 3, minPartHours: -1 }, clock), /min_part_hours -1/);
  const b = build({ devices: 3, zones: 3 });
  assert.throws(() => b.addDevice({ region: 1, zone: 1, ip: '10.0.1.1', port: 6210, device: 'sd0', weight: 1 }), /already exists as d0/);
  assert.throws(() => b.addDevice({ region: 1, zone: 1, ip: '10.0.1.1', port: 70000, device: 'x', weight: 1 }), /port 70000/);
  assert.throws(() => b.setWeight(0, -5), /weight -5/);
  assert.throws(() => b.removeDevice(77), /no device with id 77/);
  const empty = RingBuilder.create({ partPower: 4, replicas: 3, minPartHours: 1 }, clock);
  assert.throws(() => empty.rebalance({ seed: 1 }), (err: unknown) => err instanceof RingError && /no devices with weight/.test(err.message));
  assert.throws(() => empty.ringData(), /never been rebalanced/);
});

test('regression (lockstep placement): a device shares partitions with every other device, evenly', () => {
  // The first placement always took the least-full device, so 6 devices formed exactly two
  // fixed triples: losing two devices of a triple took two replicas of 512 partitions.
  const b = build({ devices: 6, zones: 6 });
  b.rebalance({ seed: 1 });
  const t = b.ringData().replica2part2dev;
  const pairs = new Map<string, number>();
  for (let p = 0; p < b.partitions; p++) {
    const devs = t.map((row) => row[p] as number).sort((x, y) => x - y);
    for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) pairs.set(`${devs[i]}-${devs[j]}`, (pairs.get(`${devs[i]}-${devs[j]}`) ?? 0) + 1);
  }
  assert.is(pairs.size, 15, 'every pair of devices shares some partitions');
  const mean = (1024 * 3) / 15;
  for (const [pair, n] of pairs) assert.ok(n > mean * 0.6 && n < mean * 1.4, `pair ${pair} shares ${n} partitions (mean ${mean})`);
});

test.run();
