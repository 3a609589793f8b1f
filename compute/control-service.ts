import { randomUUID } from 'node:crypto';
import { RecordExistsError } from '../client/record-store.ts';
import { updateRecord } from '../client/record-update.ts';
import { T } from './records.ts';
import type { ComputeStore } from './store.ts';

/**
 * The services Nova runs beside its computes whose work a compute API process does itself:
 * it schedules (compute/placement.ts) and conducts builds and resizes. Each API process
 * reports both on its host, so os-services, os-hosts and the `internal` zone list them as Nova
 * does; they are up while the process heartbeats.
 */
export const CONTROL_BINARIES = ['nova-conductor', 'nova-scheduler'] as const;
export type ControlBinary = (typeof CONTROL_BINARIES)[number];

/** Nova's `internal_service_availability_zone`. */
export const INTERNAL_ZONE = 'internal';

/** One control service (`services/<binary>/<host>`). */
export interface ControlServiceRecord {
  readonly binary: ControlBinary;
  readonly host: string;
  /** os-services' id from 2.53. */
  readonly serviceUuid: string;
  /** os-services' integer id before 2.53. */
  readonly serviceNumber: number;
  readonly enabled: boolean;
  readonly disabledReason?: string;
  readonly forcedDown?: boolean;
  readonly lastHeartbeatMs: number;
}

/** Heartbeats this process's control services on `host`, made on the first report. */
export async function reportControlServices(store: ComputeStore, host: string): Promise<void> {
  const now = store.clock.now();
  for (const binary of CONTROL_BINARIES) {
    const key = `${binary}/${host}`;
    const beat = await updateRecord<ControlServiceRecord>(store.records, T.services, key, (cur) => ({ ...cur.value, lastHeartbeatMs: now }));
    if (beat) continue;
    const record: ControlServiceRecord = { binary, host, serviceUuid: randomUUID(), serviceNumber: 1 + Math.floor(Math.random() * 1_000_000), enabled: true, lastHeartbeatMs: now };
    await store.records.create(T.services, key, record).catch((err: unknown) => {
      if (!(err instanceof RecordExistsError)) throw err;
    });
  }
}

/** Every reported control service, by binary then host. */
export function controlServices(store: ComputeStore): Promise<ControlServiceRecord[]> {
  return store.scan<ControlServiceRecord>(T.services);
}
