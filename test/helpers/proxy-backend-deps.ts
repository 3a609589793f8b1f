import { HashPath } from '../../common/hash-path.ts';
import type { BackendClient } from '../../common/http/backend-client.ts';
import { nullLogger } from '../../common/logger.ts';
import type { BackendDeps } from '../../proxy/backend-requests.ts';
import { ErrorLimiter } from '../../proxy/error-limiter.ts';
import { RingBuilder } from '../../ring/builder.ts';
import { Ring } from '../../ring/ring.ts';
import type { ManualClock } from './manual-clock.ts';

/** Partition 0 of a 3-replica ring over five nodes (10.0.0.1-5:6200, one zone each), for `names`. */
export function fiveNodeTarget(clock: ManualClock, names: string[] = ['a', 'c', 'o']): { ring: Ring; partition: number; names: string[] } {
  const b = RingBuilder.create({ partPower: 2, replicas: 3, minPartHours: 0 }, clock);
  for (let i = 1; i <= 5; i++) b.addDevice({ region: 1, zone: i, ip: `10.0.0.${i}`, port: 6200, device: 'sda', weight: 1 });
  b.rebalance({ seed: 1 });
  return { ring: Ring.fromData(b.ringData(), new HashPath('', 's')), partition: 0, names };
}

/** The proxy's backend dependencies over a scripted backend (`fakeBackend`), with short timeouts. */
export function fakeBackendDeps<B extends BackendClient>(clock: ManualClock, backend: B): BackendDeps & { backend: B } {
  return {
    backend,
    limiter: new ErrorLimiter({ clock, intervalMs: 60_000, limit: 10 }),
    clock,
    logger: nullLogger,
    connTimeoutMs: 500,
    nodeTimeoutMs: 2000,
    postQuorumTimeoutMs: 500,
  };
}
