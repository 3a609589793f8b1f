import { gunzipSync, gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { xxh64Hex } from '../../../common/hash-path.ts';
import { RingBuilder } from '../../../ring/builder.ts';
import { RingError } from '../../../ring/device.ts';
import { deserializeBuilder, deserializeRing, serializeBuilder, serializeRing } from '../../../ring/io.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';

function built(): RingBuilder {
  const b = RingBuilder.create({ partPower: 6, replicas: 3, minPartHours: 1, overload: 0.05 }, new ManualClock());
  for (let i = 0; i < 4; i++) b.addDevice({ region: 1, zone: i + 1, ip: `10.0.0.${i}`, port: 6210, device: 'sdb', weight: 100, meta: i === 0 ? 'fast' : '' });
  b.rebalance({ seed: 1 });
  b.removeDevice(3);
  return b;
}

function rejects(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof RingError && err.code === code && pattern.test(err.message));
}

test('a ring file round-trips', () => {
  const data = built().ringData();
  const back = deserializeRing(serializeRing(data));
  assert.equal(back.devices, data.devices);
  assert.equal(back.replica2part2dev.map((r) => [...r]), data.replica2part2dev.map((r) => [...r]));
  assert.is(back.version, data.version);
  assert.is(back.partPower, 6);
});

test('a builder file round-trips, pending removals and move ages included', () => {
  const data = built().toData();
  const back = deserializeBuilder(serializeBuilder(data));
  assert.equal(back.removing, [3]);
  assert.is(back.overload, 0.05);
  assert.is(back.minPartHours, 1);
  assert.equal([...back.lastPartMoves], [...data.lastPartMoves]);
  assert.equal(back.replica2part2dev?.map((r) => [...r]), data.replica2part2dev?.map((r) => [...r]));
  const fresh = RingBuilder.create({ partPower: 3, replicas: 2, minPartHours: 0 }, new ManualClock()).toData();
  assert.is(deserializeBuilder(serializeBuilder(fresh)).replica2part2dev, null);
});

test('a corrupt, truncated or foreign file is refused with a clear error', () => {
  const ring = serializeRing(built().ringData());
  rejects(() => deserializeRing(Buffer.from('not gzip at all')), 'RING_FILE_CORRUPT', /not gzip data/);
  const raw = gunzipSync(ring);
  const flipped = Buffer.from(raw);
  flipped[40] = (flipped[40] as number) ^ 0xff;
  rejects(() => deserializeRing(gzipSync(flipped)), 'RING_FILE_CORRUPT', /checksum mismatch/);
  rejects(() => deserializeRing(gzipSync(raw.subarray(0, raw.length - 100))), 'RING_FILE_CORRUPT', /checksum mismatch|truncated/);
  rejects(() => deserializeRing(gzipSync(Buffer.from('R1NG\x00\x01 swift ring'))), 'RING_FILE_FOREIGN', /OpenStack Swift ring file/);
  rejects(() => deserializeBuilder(ring), 'RING_FILE_FOREIGN', /expected a builder file, found a ring file/);
  rejects(() => deserializeRing(serializeBuilder(built().toData())), 'RING_FILE_FOREIGN', /expected a ring file, found a builder file/);
  rejects(() => deserializeBuilder(Buffer.from([0x80, 0x02, 0x7d])), 'RING_FILE_FOREIGN', /Python pickle/);
});

test('a newer format version is refused by name', () => {
  const raw = Buffer.from(gunzipSync(serializeRing(built().ringData())));
  raw.writeUInt16BE(9, 8);
  // Re-seal the checksum so only the version is wrong.
  const body = raw.subarray(0, raw.length - 8);
  Buffer.from(xxh64Hex(body), 'hex').copy(raw, raw.length - 8);
  rejects(() => deserializeRing(gzipSync(raw)), 'RING_FILE_VERSION', /version 9 is not supported/);
});

test.run();
