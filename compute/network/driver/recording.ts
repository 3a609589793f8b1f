import { EMPTY_PLAN, planChanges, planHost } from './host-plan.ts';
import type { HostNetworkConfig, NetworkDriver, NetworkDriverSupports, NetworkPlan, SyncResult } from './types.ts';

/** The network driver twin: plans as the Linux driver does and keeps every sync, touching nothing. */
export class RecordingNetworkDriver implements NetworkDriver {
  readonly supports: NetworkDriverSupports = { applies: false };
  /** Every sync, oldest first. */
  readonly syncs: SyncResult[] = [];
  private plan: NetworkPlan = EMPTY_PLAN;

  async sync(config: HostNetworkConfig): Promise<SyncResult> {
    const plan = planHost(config);
    const result = { plan, changes: planChanges(this.plan, plan), applied: false };
    this.plan = plan;
    this.syncs.push(result);
    return result;
  }

  async current(): Promise<NetworkPlan> {
    return this.plan;
  }
}
