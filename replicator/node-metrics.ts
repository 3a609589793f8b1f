import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../common/clock.ts';
import type { Daemon } from '../common/daemon.ts';
import { countedBody } from '../common/http/counted-body.ts';
import { metricsResponse } from '../common/http/metrics-response.ts';
import type { Handler } from '../common/http/server.ts';
import type { StorageNodeContext } from './node-context.ts';
import { asyncPendings, diskUsage, quarantined, ringFiles } from './node-facts.ts';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export type StorageServer = 'object' | 'container' | 'account';

/**
 * A storage node's metrics, in Prometheus's text format at `/metrics` on its object port:
 * requests by server, verb and status with their latency, bytes sent; and, read when scraped,
 * what recon shows: daemons' passes and their last counts, async pendings, quarantined files,
 * each device's disk, ring versions and misplaced objects. One registry per node, so the
 * nodes of one process (the all-in-one cluster) stay apart.
 */
export class StorageNodeMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'server' | 'method' | 'status'>;
  private readonly duration: Histogram<'server' | 'method'>;
  private readonly bytesOut: Counter<'server'>;
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
    const registers = [this.registry];
    this.requests = new Counter({ name: 'swiftlet_storage_requests_total', help: 'Requests answered by this node\'s servers, by server, verb and status', labelNames: ['server', 'method', 'status'], registers });
    this.duration = new Histogram({ name: 'swiftlet_storage_request_duration_seconds', help: 'Time to answer a request, to the last byte sent', labelNames: ['server', 'method'], buckets: LATENCY_BUCKETS, registers });
    this.bytesOut = new Counter({ name: 'swiftlet_storage_response_bytes_total', help: 'Body bytes sent by this node\'s servers', labelNames: ['server'], registers });
  }

  /** A server's handler that counts and times what it answers. */
  wrap(server: StorageServer, handler: Handler): Handler {
    return async (req) => {
      const began = this.clock.monotonic();
      const res = await handler(req);
      return {
        ...res,
        body: countedBody(res.body, (bytes) => {
          this.requests.inc({ server, method: req.method, status: String(res.status) });
          this.duration.observe({ server, method: req.method }, (this.clock.monotonic() - began) / 1000);
          if (bytes > 0) this.bytesOut.inc({ server }, bytes);
        }),
      };
    };
  }

  /** The gauges read at scrape time from the node's state. */
  watch(ctx: StorageNodeContext, daemons: readonly Daemon[], swiftDir: string): void {
    const registers = [this.registry];
    const reports = (): ReturnType<Daemon['recon']>[] => daemons.map((d) => d.recon());
    new Gauge({
      name: 'swiftlet_daemon_passes',
      help: 'Complete passes of each daemon since the node started (replicators, auditors, updaters, expirer, reaper)',
      labelNames: ['daemon'],
      registers,
      collect() {
        for (const r of reports()) this.set({ daemon: r.name }, r.passes);
      },
    });
    new Gauge({
      name: 'swiftlet_daemon_last_pass_timestamp_seconds',
      help: 'When each daemon\'s last complete pass started',
      labelNames: ['daemon'],
      registers,
      collect() {
        for (const r of reports()) if (r.lastPassStartedAt !== undefined) this.set({ daemon: r.name }, r.lastPassStartedAt / 1000);
      },
    });
    new Gauge({
      name: 'swiftlet_daemon_last_pass_duration_seconds',
      help: 'How long each daemon\'s last complete pass took',
      labelNames: ['daemon'],
      registers,
      collect() {
        for (const r of reports()) if (r.lastPassMs !== undefined) this.set({ daemon: r.name }, r.lastPassMs / 1000);
      },
    });
    new Gauge({
      name: 'swiftlet_daemon_last_pass',
      help: 'The counts of each daemon\'s last complete pass (objects_sent, failures, quarantined, ...)',
      labelNames: ['daemon', 'count'],
      registers,
      collect() {
        this.reset();
        for (const r of reports()) for (const [count, value] of Object.entries(r.lastPass)) this.set({ daemon: r.name, count }, value);
      },
    });
    new Gauge({
      name: 'swiftlet_daemon_failing',
      help: '1 when a daemon\'s latest pass failed as a whole (its error is in recon)',
      labelNames: ['daemon'],
      registers,
      collect() {
        for (const r of reports()) this.set({ daemon: r.name }, r.lastError !== undefined ? 1 : 0);
      },
    });
    new Gauge({
      name: 'swiftlet_async_pendings',
      help: 'Container updates waiting for the object updater',
      registers,
      async collect() {
        this.set(await asyncPendings(ctx));
      },
    });
    new Gauge({
      name: 'swiftlet_quarantined',
      help: 'Files moved aside as corrupt, by kind (objects, containers, accounts)',
      labelNames: ['kind'],
      registers,
      async collect() {
        for (const [kind, n] of Object.entries(await quarantined(ctx))) this.set({ kind }, n);
      },
    });
    // Each gauge reads the disks itself: a registry collects its metrics concurrently.
    new Gauge({
      name: 'swiftlet_device_bytes',
      help: 'Each usable device\'s disk: size, used and avail bytes',
      labelNames: ['device', 'kind'],
      registers,
      async collect() {
        this.reset();
        for (const d of await diskUsage(ctx)) if (d.mounted === true) for (const kind of ['size', 'used', 'avail'] as const) this.set({ device: d.device, kind }, d[kind]);
      },
    });
    new Gauge({
      name: 'swiftlet_device_mounted',
      help: '1 when a device may be used, 0 when it may not (not mounted, with mount_check): its servers answer 507',
      labelNames: ['device'],
      registers,
      async collect() {
        this.reset();
        for (const d of await diskUsage(ctx)) this.set({ device: d.device }, d.mounted === true ? 1 : 0);
      },
    });
    new Gauge({
      name: 'swiftlet_ring_version',
      help: 'Version of each ring file in swift_dir (it grows with every rebalance)',
      labelNames: ['ring'],
      registers,
      async collect() {
        for (const [ring, facts] of Object.entries(await ringFiles(swiftDir))) if (facts.version !== undefined) this.set({ ring }, facts.version);
      },
    });
    new Gauge({
      name: 'swiftlet_misplaced_objects',
      help: 'Objects found whose name does not hash to where they lie under this node\'s hash-path secret',
      registers,
      collect() {
        this.set(ctx.placement?.report().misplaced ?? 0);
      },
    });
  }
}

/** `GET /metrics` on a storage node's object port (beside recon). */
export function withMetricsEndpoint(next: Handler, text: () => Promise<string>): Handler {
  return async (req) => (req.path === '/metrics' ? metricsResponse(req.method, text) : next(req));
}
