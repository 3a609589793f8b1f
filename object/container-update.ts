import type { HeaderBag } from '../common/constraints.ts';
import type { Logger } from '../common/logger.ts';
import type { AsyncPendingStore, AsyncUpdate } from './async-pending.ts';
import type { ContainerTarget, ContainerUpdateBatcher } from './container-update-batcher.ts';

/**
 * The container servers named by the proxy: `X-Container-Host: ip:port[,ip:port...]` with the
 * matching `X-Container-Device` list and one `X-Container-Partition` (or the same
 * `X-Delete-At-*` headers for the expirer's queue). Empty when absent.
 */
export function containerTargets(headers: HeaderBag, prefix: 'container' | 'delete-at' = 'container'): ContainerTarget[] {
  const hosts = (headers[`x-${prefix}-host`] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const devices = (headers[`x-${prefix}-device`] ?? '').split(',').map((s) => s.trim());
  const partition = headers[`x-${prefix}-partition`] ?? '';
  const targets: ContainerTarget[] = [];
  hosts.forEach((host, i) => {
    const colon = host.lastIndexOf(':');
    const device = devices[i];
    if (colon <= 0 || device === undefined || device === '' || partition === '') return;
    targets.push({ ip: host.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(host.slice(colon + 1)), device, partition });
  });
  return targets;
}

export interface ContainerUpdaterDeps {
  /** Sends the updates (with the object server's node_timeout). */
  readonly updates: ContainerUpdateBatcher;
  readonly pendings: AsyncPendingStore;
  readonly logger: Logger;
}

/**
 * Sends a container update (Swift's `container_update`) to every target, in parallel, and
 * waits for them: a target that does not answer 2xx in time gets an async pending instead, on
 * the object's device, before the object server answers its client.
 */
export async function sendContainerUpdates(
  deps: ContainerUpdaterDeps,
  update: AsyncUpdate,
  targets: readonly ContainerTarget[],
  origin: { device: string; hash: string; timestamp: string; transId?: string },
): Promise<void> {
  let pendingSaved = false;
  await Promise.all(
    targets.map(async (target) => {
      const failure = await deps.updates.send(target, update, origin.transId);
      if (failure === undefined) return;
      deps.logger.warn('container update failed; saving async pending', { target: `${target.ip}:${target.port}/${target.device}`, failure, txn: origin.transId });
      // One pending per write is enough: the updater sends it to every replica.
      if (pendingSaved) return;
      pendingSaved = true;
      await deps.pendings.save(origin.device, origin.hash, origin.timestamp, update);
    }),
  );
}
