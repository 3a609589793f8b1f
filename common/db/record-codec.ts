import { Packr } from 'msgpackr';

/**
 * The one msgpack codec for broker records and the replication RPC: plain maps and arrays
 * (no msgpackr record extension), so any msgpack reader can decode what we store and send.
 */
const packr = new Packr({ useRecords: false, mapsAsObjects: true, variableMapSize: true });

/** Encodes a record (objects, arrays, strings, numbers, booleans, null). */
export function encodeRecord(value: unknown): Uint8Array {
  return packr.pack(value);
}

/** Decodes what `encodeRecord` wrote. */
export function decodeRecord(bytes: Uint8Array): unknown {
  return packr.unpack(bytes);
}

/** Options for msgpackr's stream decoders (`decodeIter`), matching `encodeRecord`. */
export const RECORD_CODEC_OPTIONS = { useRecords: false, mapsAsObjects: true } as const;
