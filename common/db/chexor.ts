import { createHash } from 'node:crypto';

/** The hash of a database with no rows. */
export const EMPTY_DB_HASH = '00000000000000000000000000000000';

/**
 * Swift's `chexor`: XORs the MD5 of one row's identity into a database's running hash. XOR is
 * its own inverse, so adding a row and later removing it cancels out; two databases with the
 * same rows have the same hash whatever order the rows came in, which lets the replicator
 * skip a database that is already in sync.
 */
export function chexor(oldHex: string, identity: string): string {
  const row = createHash('md5').update(identity).digest();
  const old = Buffer.from(oldHex, 'hex');
  for (let i = 0; i < 16; i++) row[i] = (row[i] as number) ^ (old[i] ?? 0);
  return row.toString('hex');
}
