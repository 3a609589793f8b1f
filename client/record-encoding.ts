import { createHash } from 'node:crypto';

/** A record's stored form: its JSON, and its version, the MD5 of that JSON (the object's ETag). */
export function encodeRecord(value: unknown): { bytes: Buffer; version: string } {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('a record must be JSON-serializable');
  const bytes = Buffer.from(json);
  return { bytes, version: createHash('md5').update(bytes).digest('hex') };
}
