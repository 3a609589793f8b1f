import type { QuotaUsage } from './quota.ts';
import { T } from './records.ts';
import type { ComputeStore } from './store.ts';
import type { ProjectUsage } from './usage.ts';

/** The fields of a server record that count against quotas. */
interface CountedServer {
  readonly project_id: string;
  readonly flavor: { readonly vcpus: number; readonly ram: number };
}

/** Usage counted from the server records, as Nova counts instances, cores and ram (no reservations). */
export class ServerRecordUsage implements ProjectUsage {
  private readonly store: ComputeStore;

  constructor(store: ComputeStore) {
    this.store = store;
  }

  async of(projectId: string): Promise<QuotaUsage> {
    const servers = (await this.store.scan<CountedServer>(T.servers)).filter((s) => s.project_id === projectId);
    return { instances: servers.length, cores: servers.reduce((n, s) => n + s.flavor.vcpus, 0), ram: servers.reduce((n, s) => n + s.flavor.ram, 0) };
  }
}
