import { type ConfigOf, int, num, type Schema } from '../common/config.ts';
import { Daemon } from '../common/daemon.ts';
import { backendPath } from '../common/http/backend-client.ts';
import type { Device } from '../ring/device.ts';
import type { FsDiskFileManager } from '../object/diskfile/fs.ts';
import { objectRing } from '../ring/ring-set.ts';
import type { Ring } from '../ring/ring.ts';
import { deviceDirs } from './local-devices.ts';
import type { StorageNodeContext } from './node-context.ts';
import { type SsyncTarget, ssyncPush } from './ssync-sender.ts';

export const objectReplicatorSchema = {
  interval: num(30, { min: 0, doc: 'seconds between the starts of two passes' }),
  concurrency: int(2, { min: 1, doc: 'partitions replicated at once' }),
  node_timeout: num(10, { min: 0, doc: 'seconds to wait for a remote object server' }),
} as const satisfies Schema;

/** One storage policy as a replication job sees it. */
interface PolicyJob {
  readonly index: number;
  readonly ring: Ring;
  readonly diskFiles: FsDiskFileManager;
}

interface Job {
  readonly policy: PolicyJob;
  readonly device: Device;
  readonly partition: number;
  readonly primary: boolean;
}

/**
 * The object replicator (Swift's, over SSYNC). For every storage policy (its ring and its
 * directories), for every partition on this node's devices:
 *
 * 1. A partition this device is a primary for is compared with each other primary, suffix
 *    hash by suffix hash (`REPLICATE`); the suffixes that differ are pushed with SSYNC (what
 *    the remote lacks or has older: data, tombstones, metadata), then the remote is asked to
 *    rehash them. Each primary pushes what it has, so all primaries converge.
 * 2. A partition this device is not a primary for (a handoff: written while primaries were
 *    down, or left by a rebalance) is pushed whole to every primary; once all of them took
 *    it, the objects that were sent are removed here (not any written since).
 *
 * Tombstones older than `reclaim_age` are reclaimed as a side effect of hashing.
 */
export class ObjectReplicator extends Daemon {
  readonly name = 'object-replicator';
  private readonly ctx: StorageNodeContext;
  private readonly config: ConfigOf<typeof objectReplicatorSchema>;

  constructor(ctx: StorageNodeContext, config: ConfigOf<typeof objectReplicatorSchema>) {
    super({ clock: ctx.clock, logger: ctx.logger.child({ daemon: 'object-replicator' }) });
    this.ctx = ctx;
    this.config = config;
  }

  protected intervalMs(): number {
    return this.config.interval * 1000;
  }

  async runOnce(signal?: AbortSignal): Promise<void> {
    const jobs: Job[] = [];
    for (const policy of this.ctx.policies) {
      const ring = objectRing(this.ctx.rings, policy.index);
      const diskFiles = this.ctx.diskFiles.get(policy.index);
      const addJobs = async (device: Device, primary: (partition: number) => boolean): Promise<void> => {
        let partitions: number[];
        try {
          partitions = await diskFiles.partitions(device.device);
        } catch (err) {
          this.logger.warn('device unavailable; skipping it', { device: device.device, policy: policy.index, err });
          this.count('devices_skipped');
          return;
        }
        for (const partition of partitions) jobs.push({ policy: { index: policy.index, ring, diskFiles }, device, partition, primary: primary(partition) });
      };
      const local = ring.devices.filter((d) => d.ip === this.ctx.bindIp && d.port === this.ctx.ports.object);
      for (const device of local) await addJobs(device, (p) => ring.getPartNodes(p).some((n) => n.id === device.id));
      // A device taken out of the ring still holds data, maybe the last copy of some: every
      // partition on it is a handoff, pushed home and then removed. (Swift leaves it behind.)
      const inRing = new Set(ring.devices.filter((d) => d.ip === this.ctx.bindIp).map((d) => d.device));
      for (const name of await deviceDirs(this.ctx)) {
        if (inRing.has(name)) continue;
        this.count('orphan_devices');
        await addJobs({ id: -1, region: 0, zone: 0, ip: this.ctx.bindIp, port: this.ctx.ports.object, replication_ip: this.ctx.bindIp, replication_port: this.ctx.ports.object, device: name, weight: 0, meta: '' }, () => false);
      }
    }
    // Handoffs first: their data has fewer copies than it should.
    jobs.sort((a, b) => Number(a.primary) - Number(b.primary));
    let next = 0;
    await Promise.all(
      Array.from({ length: this.config.concurrency }, async () => {
        while (next < jobs.length && !signal?.aborted) {
          const job = jobs[next++] as Job;
          try {
            if (job.primary) await this.replicatePrimary(job.policy, job.device, job.partition, signal);
            else await this.revertHandoff(job.policy, job.device, job.partition, signal);
            this.count('partitions');
          } catch (err) {
            this.count('failures');
            this.logger.warn('partition replication failed', { device: job.device.device, policy: job.policy.index, partition: job.partition, err });
          }
        }
      }),
    );
  }

  private async replicatePrimary(policy: PolicyJob, device: Device, partition: number, signal?: AbortSignal): Promise<void> {
    const local = await policy.diskFiles.getHashes(device.device, partition);
    for (const node of policy.ring.getPartNodes(partition)) {
      if (node.id === device.id) continue;
      let remote: Record<string, string>;
      try {
        remote = await this.remoteHashes(policy, node, partition, [], signal);
      } catch (err) {
        this.count('failures');
        this.logger.warn('remote hashes unavailable', { node: `${node.ip}:${node.port}/${node.device}`, policy: policy.index, partition, err });
        continue;
      }
      const suffixes = Object.keys(local).filter((s) => local[s] !== remote[s]);
      if (suffixes.length === 0) continue;
      this.count('suffixes_synced', suffixes.length);
      try {
        const result = await ssyncPush(this.pushDeps(policy), { device: device.device, partition }, node, suffixes, signal);
        this.count('objects_sent', result.sent);
        this.count('bytes_sent', result.bytes);
        if (result.failed > 0) this.count('failures', result.failed);
        await this.remoteHashes(policy, node, partition, suffixes, signal);
      } catch (err) {
        this.count('failures');
        this.logger.warn('ssync push failed', { node: `${node.ip}:${node.port}/${node.device}`, policy: policy.index, partition, err });
      }
    }
  }

  private async revertHandoff(policy: PolicyJob, device: Device, partition: number, signal?: AbortSignal): Promise<void> {
    const diskFiles = policy.diskFiles;
    const suffixes = Object.keys(await diskFiles.getHashes(device.device, partition));
    let everywhere = true;
    let offered: Awaited<ReturnType<typeof ssyncPush>>['offered'] = [];
    for (const node of policy.ring.getPartNodes(partition)) {
      try {
        const result = await ssyncPush(this.pushDeps(policy), { device: device.device, partition }, node, suffixes, signal);
        this.count('objects_sent', result.sent);
        this.count('bytes_sent', result.bytes);
        if (result.failed > 0) everywhere = false;
        offered = result.offered;
      } catch (err) {
        everywhere = false;
        this.count('failures');
        this.logger.warn('handoff push failed', { node: `${node.ip}:${node.port}/${node.device}`, policy: policy.index, partition, err });
      }
    }
    if (!everywhere) return;
    let removed = 0;
    for (const entry of offered) if (await diskFiles.removeIfUnchanged(device.device, partition, entry)) removed++;
    this.count('handoff_objects_removed', removed);
    const left = Object.keys(await diskFiles.getHashes(device.device, partition));
    if (left.length === 0) {
      await diskFiles.removePartition(device.device, partition);
      this.count('handoff_partitions_removed');
    }
  }

  private async remoteHashes(policy: PolicyJob, node: SsyncTarget, partition: number, recalculate: readonly string[], signal?: AbortSignal): Promise<Record<string, string>> {
    const path = recalculate.length > 0 ? backendPath(node.device, partition, recalculate.join('-')) : backendPath(node.device, partition);
    const headers = { 'X-Backend-Storage-Policy-Index': String(policy.index) };
    const res = await this.ctx.backend.request(node, { method: 'REPLICATE', path, headers, timeoutMs: this.config.node_timeout * 1000, ...(signal ? { signal } : {}) });
    if (res.status !== 200) {
      await res.body.dump();
      throw new Error(`REPLICATE answered ${res.status}`);
    }
    return (await res.body.json()) as Record<string, string>;
  }

  private pushDeps(policy: PolicyJob): Parameters<typeof ssyncPush>[0] {
    return { backend: this.ctx.backend, diskFiles: policy.diskFiles, policyIndex: policy.index, logger: this.logger, nodeTimeoutMs: this.config.node_timeout * 1000 };
  }
}
