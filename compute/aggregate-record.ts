import { updateRecord } from '../client/record-update.ts';
import type { ComputeHostRecord } from './host-record.ts';
import { T } from './records.ts';
import type { ComputeStore } from './store.ts';

/** A host aggregate (Nova's Aggregate): its hosts and metadata, `availability_zone` among them. */
export interface AggregateRecord {
  readonly id: number;
  readonly uuid: string;
  readonly name: string;
  readonly hosts: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
  readonly created_at: string;
  readonly updated_at: string | null;
}

/** The zone an aggregate gives its hosts (Nova's `availability_zone` metadata), or undefined. */
export function aggregateZone(a: AggregateRecord): string | undefined {
  return a.metadata['availability_zone'];
}

/** The zone the aggregates give `host` (they never give two: os-aggregates refuses it), or undefined. */
export function zoneFromAggregates(aggregates: readonly AggregateRecord[], host: string): string | undefined {
  return aggregates.filter((a) => a.hosts.includes(host)).map(aggregateZone).find((z) => z !== undefined);
}

/**
 * Writes `hosts`' zones as the aggregates now give them (Nova's host availability zone: an
 * aggregate's, else the default): `aggregateZone` and the `availabilityZone` everything reads,
 * the host's configured zone where no aggregate gives one.
 */
export async function applyAggregateZones(store: ComputeStore, hosts: readonly string[]): Promise<void> {
  const aggregates = await store.scan<AggregateRecord>(T.aggregates);
  for (const host of hosts) {
    const zone = zoneFromAggregates(aggregates, host);
    await updateRecord<ComputeHostRecord>(store.records, T.hosts, host, (cur) => {
      const v = cur.value;
      // A host recorded before zones came from aggregates has its own in `availabilityZone`.
      const configured = v.configuredZone ?? (v.aggregateZone === undefined ? v.availabilityZone : 'nova');
      const { aggregateZone: _, ...rest } = v;
      const next: ComputeHostRecord = { ...rest, configuredZone: configured, availabilityZone: zone ?? configured, ...(zone !== undefined ? { aggregateZone: zone } : {}) };
      return next.availabilityZone === v.availabilityZone && next.aggregateZone === v.aggregateZone && v.configuredZone !== undefined ? undefined : next;
    });
  }
}
