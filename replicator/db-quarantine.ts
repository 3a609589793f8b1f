import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatabaseBroker, DbRecord } from '../common/db/broker.ts';
import { encodeRecord } from '../common/db/record-codec.ts';
import type { BaseRow } from '../common/db/row-schema.ts';
import type { Logger } from '../common/logger.ts';

/** Where a quarantined database came from. */
export interface QuarantineWhere {
  /** The devices root. */
  readonly devices: string;
  readonly device: string;
  /** `containers` or `accounts`. */
  readonly datadirName: string;
  /** Why (for the log). */
  readonly reason: string;
  /** Wall-clock ms, names the saved copy. */
  readonly now: number;
}

/**
 * Swift's `quarantine_db`: takes a broken database off this device so replication restores it
 * from the other replicas. Swift moves the file to `<device>/quarantined/<type>s/`; here the
 * database shares a LevelDB with others, so what can still be read of it is saved there as a
 * dump (`<hash>-<ms>.dump`: msgpack values, the header then arrays of rows, as `load` takes
 * them) and the database is then removed.
 * @returns the path of the saved copy, or undefined when nothing could be read.
 */
export async function quarantineDb(broker: DatabaseBroker<BaseRow, DbRecord>, where: QuarantineWhere, logger: Logger): Promise<string | undefined> {
  const dir = join(where.devices, where.device, 'quarantined', where.datadirName);
  const path = join(dir, `${broker.hash}-${where.now}.dump`);
  let saved: string | undefined;
  try {
    await mkdir(dir, { recursive: true });
    const file = await open(path, 'w');
    try {
      for await (const part of broker.dump()) await file.write(encodeRecord(part));
      await file.sync();
    } finally {
      await file.close();
    }
    saved = path;
  } catch (err) {
    await rm(path, { force: true }).catch(() => undefined);
    logger.warn('could not save a copy of the quarantined database', { hash: broker.hash, device: where.device, err });
  }
  await broker.destroy();
  logger.error('quarantined database', { hash: broker.hash, device: where.device, datadir: where.datadirName, reason: where.reason, saved });
  return saved;
}
