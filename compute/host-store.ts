import type { HostStateStore } from './scheduler/claims.ts';
import type { HostState } from './scheduler/host-state.ts';
import type { ComputeHostRecord } from './host-record.ts';
import { T } from './records.ts';
import type { ComputeStore } from './store.ts';
import { RecordVersionError } from '../client/record-store.ts';
import { SwiftError } from '../common/errors.ts';

export class UnknownHost extends SwiftError {
  constructor(host: string) {
    super('UNKNOWN_HOST', `Compute host ${host} could not be found.`);
  }
}

/** The hosts' records as the scheduler's claims need them (compare-and-swap on the record's version). */
export class RecordHostStateStore implements HostStateStore {
  private readonly store: ComputeStore;

  constructor(store: ComputeStore) {
    this.store = store;
  }

  async read(host: string): Promise<{ readonly state: HostState; readonly version: string }> {
    const found = await this.store.records.get<ComputeHostRecord>(T.hosts, host);
    if (!found) throw new UnknownHost(host);
    return { state: found.value, version: found.version };
  }

  async writeIfUnchanged(host: string, version: string, state: HostState): Promise<boolean> {
    try {
      await this.store.records.put(T.hosts, host, state, { ifVersion: version });
      return true;
    } catch (err) {
      if (err instanceof RecordVersionError) return false;
      throw err;
    }
  }

  all(): Promise<ComputeHostRecord[]> {
    return this.store.scan<ComputeHostRecord>(T.hosts);
  }
}
