import type { QuotaUsage } from './quota.ts';

/** What a project's servers use now (servers know; compute/api/servers.ts implements it). */
export interface ProjectUsage {
  of(projectId: string): Promise<QuotaUsage>;
}
