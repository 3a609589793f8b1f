import { randomUUID } from 'node:crypto';
import type { Logger } from '../../common/logger.ts';
import type { RecordHostStateStore } from '../host-store.ts';
import { type MigrationRecord, setMigrationStatus } from '../migration-record.ts';
import { T } from '../records.ts';
import { confirmMove } from '../resize-confirm.ts';
import type { ServerRecord } from '../server-record.ts';
import type { ServiceAuth } from '../service-auth.ts';
import type { ComputeStore } from '../store.ts';

/** How often the agent looks (Nova's periodic tasks run every 60 s by default). */
export const UNCONFIRMED_POLL_MS = 60_000;

/**
 * Nova's `_poll_unconfirmed_resizes` with `[DEFAULT] resize_confirm_window` (seconds; 0, the
 * default, turns it off): on the host a resize or migration went to, every migration `finished`
 * longer ago than the window is confirmed as the API's confirmResize would (with no user, as
 * Nova's admin context). A server that is gone, in ERROR or otherwise not waiting in
 * VERIFY_RESIZE has its migration set to `error`; one being deleted or still finishing is left
 * for the next look; a confirmation that fails is tried again at the next look.
 */
export class UnconfirmedResizes {
  private readonly host: string;
  private readonly windowMs: number;
  private readonly store: ComputeStore;
  private readonly hosts: RecordHostStateStore;
  private readonly service: ServiceAuth;
  private readonly logger: Logger;

  constructor(options: { readonly host: string; readonly windowSeconds: number }, deps: { store: ComputeStore; hosts: RecordHostStateStore; service: ServiceAuth; logger: Logger }) {
    this.host = options.host;
    this.windowMs = options.windowSeconds * 1000;
    this.store = deps.store;
    this.hosts = deps.hosts;
    this.service = deps.service;
    this.logger = deps.logger;
  }

  get enabled(): boolean {
    return this.windowMs > 0;
  }

  /** One look; how many resizes it confirmed. */
  async poll(): Promise<number> {
    if (!this.enabled) return 0;
    const cutoff = this.store.clock.now() - this.windowMs;
    const due = (await this.store.scan<MigrationRecord>(T.migrations)).filter((m) => m.status === 'finished' && m.dest_compute === this.host && m.updated_ms !== null && m.updated_ms <= cutoff);
    let confirmed = 0;
    for (const m of due) {
      this.logger.info('automatically confirming a migration', { migration: m.id, server: m.instance_uuid });
      const s = await this.store.get<ServerRecord>(T.servers, m.instance_uuid);
      const problem = !s ? `Instance ${m.instance_uuid} not found` : s.vm_state === 'error' ? 'In ERROR state' : undefined;
      if (problem !== undefined || !s) {
        await this.error(m, problem ?? '');
        continue;
      }
      // Being deleted, or between the migration's `finished` and the server's VERIFY_RESIZE.
      if (s.task_state === 'deleting' || s.task_state === 'resize_finish') continue;
      if (s.vm_state !== 'resized' || s.task_state !== null || s.migration?.id !== m.uuid || s.host === null) {
        await this.error(m, `In states ${s.vm_state}/${s.task_state ?? 'None'}, not RESIZED/None`);
        continue;
      }
      try {
        await confirmMove({ store: this.store, hosts: this.hosts }, { ...s, migration: s.migration, host: s.host }, { userId: null, projectId: null }, `req-${randomUUID()}`, await this.service.token());
        confirmed++;
      } catch (err) {
        this.logger.info('automatic confirmation failed; tried again later', { server: s.uuid, err });
      }
    }
    return confirmed;
  }

  private async error(m: MigrationRecord, reason: string): Promise<void> {
    this.logger.warn('setting migration to error', { migration: m.id, reason });
    await setMigrationStatus(this.store, m.uuid, 'error', {}, ['finished']);
  }
}
