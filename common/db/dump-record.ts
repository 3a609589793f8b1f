import { Timestamp } from '../timestamp.ts';
import type { DbRecord } from './broker.ts';
import { ReplicationRequestError } from './errors.ts';

/**
 * Reads the record of a dump sent by another replica: the fields every database has, checked
 * and with timestamps normalized, under a new `id` and this device's `partition`.
 * @throws {ReplicationRequestError}
 */
export function dumpedRecord(raw: Readonly<Record<string, unknown>>, id: string, partition: number): DbRecord {
  const str = (name: string): string => {
    const v = raw[name];
    if (typeof v !== 'string') throw new ReplicationRequestError(`dumped record field ${name} must be a string`);
    return v;
  };
  const ts = (name: string): string => {
    try {
      return Timestamp.parse(str(name)).internal;
    } catch {
      throw new ReplicationRequestError(`dumped record field ${name} must be a timestamp`);
    }
  };
  const account = str('account');
  if (account === '') throw new ReplicationRequestError('dumped record has no account');
  return {
    account,
    created_at: ts('created_at'),
    put_timestamp: ts('put_timestamp'),
    delete_timestamp: ts('delete_timestamp'),
    status_changed_at: ts('status_changed_at'),
    status: str('status'),
    id,
    partition,
  };
}

/** A non-negative integer field of a dumped record, or `fallback` when absent. */
export function dumpedInteger(raw: Readonly<Record<string, unknown>>, name: string, fallback: number, min = 0): number {
  const v = raw[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw new ReplicationRequestError(`dumped record field ${name} must be an integer >= ${min}`);
  return v;
}
