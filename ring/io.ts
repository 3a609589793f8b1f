import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { gunzipSync, gzipSync } from 'node:zlib';
import { writeFileAtomic } from '../common/atomic-write.ts';
import { xxh64Hex } from '../common/hash-path.ts';
import { type Device, RingError } from './device.ts';

/**
 * File formats. Both files are gzip of: an 8-byte magic, a format version (u16), a JSON
 * header (u32 length + UTF-8), little-endian arrays, and an xxHash64 of everything before it,
 * so a truncated, corrupt or foreign file is refused with a clear error instead of being
 * half-read.
 *
 * - Ring file (`object.ring.gz`): what servers load: devices and the replica-to-partition-to-
 *   device table.
 * - Builder file (`object.builder`): what the operator edits: the ring plus the build state
 *   (min_part_hours, overload, when each partition last moved, devices pending removal).
 */
export const RING_MAGIC = 'SWLTRING';
export const BUILDER_MAGIC = 'SWLTBLDR';
export const RING_FORMAT_VERSION = 1;
export const BUILDER_FORMAT_VERSION = 1;

/** What a ring file holds. */
export interface RingData {
  /** Increases with every rebalance, so servers can tell which ring is newer. */
  readonly version: number;
  readonly partPower: number;
  readonly replicas: number;
  /** Indexed by device id; `null` where an id was removed. */
  readonly devices: readonly (Device | null)[];
  /** `replica2part2dev[replica][partition]` = device id. */
  readonly replica2part2dev: readonly Uint16Array[];
}

/** What a builder file holds. */
export interface BuilderData {
  readonly version: number;
  readonly partPower: number;
  readonly replicas: number;
  readonly minPartHours: number;
  readonly overload: number;
  readonly devices: readonly (Device | null)[];
  /** Ids marked by `remove`, taken out at the next rebalance. */
  readonly removing: readonly number[];
  /** Seconds since the epoch from which `lastPartMoves` counts hours. */
  readonly lastPartMovesEpoch: number;
  /** Hours since each partition last moved (255 = long ago). */
  readonly lastPartMoves: Uint8Array;
  /** Absent until the first rebalance. */
  readonly replica2part2dev: readonly Uint16Array[] | null;
}

interface Section {
  magic: string;
  formatVersion: number;
  header: unknown;
  arrays: Buffer;
}

function pack(magic: string, formatVersion: number, header: unknown, arrays: readonly Uint8Array[]): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.alloc(8 + 2 + 4);
  head.write(magic, 0, 'latin1');
  head.writeUInt16BE(formatVersion, 8);
  head.writeUInt32BE(json.length, 10);
  const body = Buffer.concat([head, json, ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))]);
  const sum = Buffer.from(xxh64Hex(body), 'hex');
  return gzipSync(Buffer.concat([body, sum]), { level: 6 });
}

function unpack(file: Buffer, source: string, expected: string): Section {
  let raw: Buffer;
  try {
    raw = gunzipSync(file);
  } catch (err) {
    if (file.length > 0 && file[0] === 0x80) {
      throw new RingError('RING_FILE_FOREIGN', `${source}: this looks like an OpenStack Swift builder (a Python pickle); Swiftlet reads only its own files: create it with "swiftlet ring create"`, { cause: err });
    }
    throw new RingError('RING_FILE_CORRUPT', `${source}: not a Swiftlet ring or builder file (not gzip data: ${(err as Error).message})`, { cause: err });
  }
  if (raw.length >= 4 && raw.toString('latin1', 0, 4) === 'R1NG') {
    throw new RingError('RING_FILE_FOREIGN', `${source}: this is an OpenStack Swift ring file; Swiftlet reads only its own rings: rebuild it with "swiftlet ring"`);
  }
  if (raw.length < 8 + 2 + 4 + 8) throw new RingError('RING_FILE_CORRUPT', `${source}: file is truncated (${raw.length} bytes)`);
  const magic = raw.toString('latin1', 0, 8);
  if (magic !== expected) {
    const what = magic === RING_MAGIC ? 'a ring file' : magic === BUILDER_MAGIC ? 'a builder file' : 'not a Swiftlet ring or builder file';
    throw new RingError('RING_FILE_FOREIGN', `${source}: expected ${expected === RING_MAGIC ? 'a ring file' : 'a builder file'}, found ${what}`);
  }
  const body = raw.subarray(0, raw.length - 8);
  if (xxh64Hex(body) !== raw.subarray(raw.length - 8).toString('hex')) {
    throw new RingError('RING_FILE_CORRUPT', `${source}: checksum mismatch; the file is corrupt or truncated`);
  }
  const formatVersion = raw.readUInt16BE(8);
  const jsonLength = raw.readUInt32BE(10);
  if (14 + jsonLength > body.length) throw new RingError('RING_FILE_CORRUPT', `${source}: header runs past the end of the file`);
  let header: unknown;
  try {
    header = JSON.parse(raw.toString('utf8', 14, 14 + jsonLength));
  } catch (err) {
    throw new RingError('RING_FILE_CORRUPT', `${source}: header is not valid JSON`, { cause: err });
  }
  return { magic, formatVersion, header, arrays: body.subarray(14 + jsonLength) };
}

function u16Arrays(buf: Buffer, count: number, length: number, source: string): Uint16Array[] {
  if (buf.length < count * length * 2) throw new RingError('RING_FILE_CORRUPT', `${source}: partition table is truncated`);
  const out: Uint16Array[] = [];
  for (let r = 0; r < count; r++) {
    const copy = Buffer.from(buf.subarray(r * length * 2, (r + 1) * length * 2));
    if (endianness() === 'BE') copy.swap16();
    out.push(new Uint16Array(copy.buffer, copy.byteOffset, length));
  }
  return out;
}

function leBytes(arr: Uint16Array): Uint8Array {
  if (endianness() === 'LE') return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  return Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength).swap16();
}

export function serializeRing(ring: RingData): Buffer {
  const header = { version: ring.version, partPower: ring.partPower, replicas: ring.replicas, devices: ring.devices };
  return pack(RING_MAGIC, RING_FORMAT_VERSION, header, ring.replica2part2dev.map(leBytes));
}

export function deserializeRing(file: Buffer, source = 'ring'): RingData {
  const s = unpack(file, source, RING_MAGIC);
  if (s.formatVersion !== RING_FORMAT_VERSION) {
    throw new RingError('RING_FILE_VERSION', `${source}: ring format version ${s.formatVersion} is not supported (this Swiftlet reads version ${RING_FORMAT_VERSION})`);
  }
  const h = s.header as { version: number; partPower: number; replicas: number; devices: (Device | null)[] };
  checkShape(h, source);
  const r2p2d = u16Arrays(s.arrays, h.replicas, 2 ** h.partPower, source);
  checkAssignments(r2p2d, h.devices, source);
  return { version: h.version, partPower: h.partPower, replicas: h.replicas, devices: h.devices, replica2part2dev: r2p2d };
}

export function serializeBuilder(b: BuilderData): Buffer {
  const header = {
    version: b.version,
    partPower: b.partPower,
    replicas: b.replicas,
    minPartHours: b.minPartHours,
    overload: b.overload,
    devices: b.devices,
    removing: b.removing,
    lastPartMovesEpoch: b.lastPartMovesEpoch,
    assigned: b.replica2part2dev !== null,
  };
  const arrays: Uint8Array[] = (b.replica2part2dev ?? []).map(leBytes);
  arrays.push(b.lastPartMoves);
  return pack(BUILDER_MAGIC, BUILDER_FORMAT_VERSION, header, arrays);
}

export function deserializeBuilder(file: Buffer, source = 'builder'): BuilderData {
  const s = unpack(file, source, BUILDER_MAGIC);
  if (s.formatVersion !== BUILDER_FORMAT_VERSION) {
    throw new RingError('RING_FILE_VERSION', `${source}: builder format version ${s.formatVersion} is not supported (this Swiftlet reads version ${BUILDER_FORMAT_VERSION})`);
  }
  const h = s.header as Omit<BuilderData, 'lastPartMoves' | 'replica2part2dev'> & { assigned: boolean };
  checkShape(h, source);
  const parts = 2 ** h.partPower;
  const tableBytes = h.assigned ? h.replicas * parts * 2 : 0;
  const r2p2d = h.assigned ? u16Arrays(s.arrays, h.replicas, parts, source) : null;
  if (r2p2d) checkAssignments(r2p2d, h.devices, source);
  if (s.arrays.length !== tableBytes + parts) throw new RingError('RING_FILE_CORRUPT', `${source}: expected ${tableBytes + parts} bytes of tables, found ${s.arrays.length}`);
  const lastPartMoves = new Uint8Array(s.arrays.subarray(tableBytes, tableBytes + parts));
  return {
    version: h.version,
    partPower: h.partPower,
    replicas: h.replicas,
    minPartHours: h.minPartHours,
    overload: h.overload,
    devices: h.devices,
    removing: h.removing ?? [],
    lastPartMovesEpoch: h.lastPartMovesEpoch,
    lastPartMoves,
    replica2part2dev: r2p2d,
  };
}

function checkShape(h: { partPower: unknown; replicas: unknown; devices: unknown; version: unknown }, source: string): void {
  const ok =
    Number.isInteger(h.partPower) && (h.partPower as number) >= 0 && (h.partPower as number) <= 23 &&
    Number.isInteger(h.replicas) && (h.replicas as number) >= 1 && (h.replicas as number) <= 16 &&
    Array.isArray(h.devices) && Number.isInteger(h.version);
  if (!ok) throw new RingError('RING_FILE_CORRUPT', `${source}: header has a bad part power, replica count, version or device list`);
}

const NONE = 0xffff;

function checkAssignments(r2p2d: readonly Uint16Array[], devices: readonly (Device | null)[], source: string): void {
  for (const row of r2p2d) {
    for (let p = 0; p < row.length; p++) {
      const id = row[p] as number;
      if (id === NONE) throw new RingError('RING_FILE_CORRUPT', `${source}: partition ${p} has a replica with no device`);
      if (!devices[id]) throw new RingError('RING_FILE_CORRUPT', `${source}: partition ${p} is assigned to device ${id}, which does not exist`);
    }
  }
}

/** Reads a ring file. @throws {RingError} when missing, corrupt or foreign. */
export function readRingFile(path: string): RingData {
  return deserializeRing(readFileOrThrow(path), path);
}

/** Reads a builder file. @throws {RingError} when missing, corrupt or foreign. */
export function readBuilderFile(path: string): BuilderData {
  return deserializeBuilder(readFileOrThrow(path), path);
}

function readFileOrThrow(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new RingError('RING_FILE_MISSING', `${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}

export async function writeRingFile(path: string, ring: RingData): Promise<void> {
  await writeFileAtomic(path, serializeRing(ring));
}

export async function writeBuilderFile(path: string, builder: BuilderData): Promise<void> {
  await writeFileAtomic(path, serializeBuilder(builder));
}
