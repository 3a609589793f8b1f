import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Ring } from '../ring/ring.ts';

/** Seconds; from a 4 KiB GET (a millisecond) to a large upload (minutes). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** What a client request is about: Swift's proxy-logging metric types (`other` for auth, info, ...). */
export type RequestType = 'account' | 'container' | 'object' | 'other';

export interface RequestLabels {
  readonly type: RequestType;
  readonly method: string;
  /** The storage policy index of an object request; empty otherwise. */
  readonly policy: string;
  readonly status: string;
}

/**
 * The proxy's metrics, in Prometheus's text format at `/metrics` (the proxy-logging
 * middleware observes; `prom-client` keeps and renders them). What Swift's proxy emits to
 * StatsD, as Prometheus names it: requests and their latency by type, verb, policy and
 * status; bytes in and out; errors of backend nodes and the nodes error-limited for them.
 */
export class ProxyMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<keyof RequestLabels>;
  private readonly duration: Histogram<keyof RequestLabels>;
  private readonly bytesIn: Counter<'type' | 'method' | 'policy'>;
  private readonly bytesOut: Counter<'type' | 'method' | 'policy'>;
  private readonly backendErrors: Counter<'node'>;
  private readonly errorLimits: Counter<'node'>;
  private readonly localReads: Counter<'outcome'>;

  constructor(sources: { limitedNodes: () => number; rings: () => Readonly<Record<string, Ring>> }) {
    const registers = [this.registry];
    const labelNames = ['type', 'method', 'policy', 'status'] as const;
    this.requests = new Counter({ name: 'swiftlet_proxy_requests_total', help: 'Client requests answered, by type (account, container, object, other), verb, storage policy and status', labelNames, registers });
    this.duration = new Histogram({ name: 'swiftlet_proxy_request_duration_seconds', help: 'Client request time, from arrival to the last byte sent', labelNames, buckets: LATENCY_BUCKETS, registers });
    this.bytesIn = new Counter({ name: 'swiftlet_proxy_request_bytes_total', help: 'Body bytes received from clients', labelNames: ['type', 'method', 'policy'], registers });
    this.bytesOut = new Counter({ name: 'swiftlet_proxy_response_bytes_total', help: 'Body bytes sent to clients', labelNames: ['type', 'method', 'policy'], registers });
    this.backendErrors = new Counter({ name: 'swiftlet_proxy_backend_errors_total', help: 'Errors of storage nodes (timeouts, refused connections, 5xx, 507), by node', labelNames: ['node'], registers });
    this.localReads = new Counter({ name: 'swiftlet_proxy_local_reads_total', help: 'Object bodies read from a data file on this machine: read whole (local), or finished over HTTP after the file failed (fallback)', labelNames: ['outcome'], registers });
    this.errorLimits = new Counter({ name: 'swiftlet_proxy_error_limited_total', help: 'Times a node was error-limited (skipped for error_suppression_interval)', labelNames: ['node'], registers });
    new Gauge({
      name: 'swiftlet_proxy_error_limited_nodes',
      help: 'Storage nodes (ip:port/device) this proxy skips now for their errors',
      registers,
      aggregator: 'max',
      collect() {
        this.set(sources.limitedNodes());
      },
    });
    new Gauge({
      name: 'swiftlet_ring_version',
      help: 'Version of each ring this process has loaded (it grows with every rebalance)',
      labelNames: ['ring'],
      registers,
      aggregator: 'min',
      collect() {
        for (const [name, ring] of Object.entries(sources.rings())) {
          // Reading the devices lets the ring check its file first, as a lookup does: an idle
          // proxy would otherwise report the ring it had before the last change.
          void ring.devices;
          this.set({ ring: name }, ring.version);
        }
      },
    });
  }

  /** One client request, once its response body has ended. */
  request(labels: RequestLabels, seconds: number, bytesIn: number, bytesOut: number): void {
    this.requests.inc(labels);
    this.duration.observe(labels, seconds);
    if (bytesIn > 0 || bytesOut > 0) {
      const by = { type: labels.type, method: labels.method, policy: labels.policy };
      if (bytesIn > 0) this.bytesIn.inc(by, bytesIn);
      if (bytesOut > 0) this.bytesOut.inc(by, bytesOut);
    }
  }

  localRead(outcome: 'local' | 'fallback'): void {
    this.localReads.inc({ outcome });
  }

  backendError(node: string): void {
    this.backendErrors.inc({ node });
  }

  errorLimited(node: string): void {
    this.errorLimits.inc({ node });
  }
}

/** The type of a client path (`/v1/a`, `/v1/a/c`, `/v1/a/c/o`), without splitting it. */
export function requestType(path: string): RequestType {
  const a = path.startsWith('/v1/') ? 4 : path.startsWith('/v1.0/') ? 6 : -1;
  if (a === -1) return 'other';
  const c = path.indexOf('/', a);
  if (c === -1 || c === path.length - 1) return 'account';
  const o = path.indexOf('/', c + 1);
  if (o === -1 || o === path.length - 1) return 'container';
  return 'object';
}
