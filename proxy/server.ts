import type { Clock } from '../common/clock.ts';
import type { ConfigOf } from '../common/config.ts';
import { type Constraints, DEFAULT_CONSTRAINTS } from '../common/constraints.ts';
import type { BackendClient } from '../common/http/backend-client.ts';
import type { LocalDataFiles } from '../common/http/local-file-read.ts';
import type { ServerRequest, ServerResponse } from '../common/http/server.ts';
import type { HashPath } from '../common/hash-path.ts';
import type { Logger } from '../common/logger.ts';
import { TimestampSource } from '../common/timestamp-source.ts';
import { newTransId } from '../common/trans-id.ts';
import { StoragePolicies } from '../common/storage-policy.ts';
import { type RingSet, ringsByName } from '../ring/ring-set.ts';
import { proxyApp } from './app.ts';
import type { proxyPolicySchema, proxyServerSchema } from './config.ts';
import type { ProxyContext } from './context.ts';
import { ErrorLimiter } from './error-limiter.ts';
import { NodeOrder } from './node-order.ts';
import type { LocalReads } from './local-reads.ts';
import { InfoCache, type InfoPeers } from './info-cache.ts';
import type { Capabilities } from './middleware/info.ts';
import { ProxyMetrics } from './metrics.ts';
import { defaultPipelineConfig, type PipelineConfig, proxyPipeline } from './pipeline.ts';
import { pipeline, type ProxyHandler, type ProxyRequest } from './request.ts';
import { markOwnChunks } from '../common/release-buffer.ts';
import { readBodyPieces } from '../common/http/body-pieces.ts';
import { offerPieces } from '../common/http/offered-pieces.ts';

export interface ProxyServerConfig {
  readonly proxy: ConfigOf<typeof proxyServerSchema>;
  /** `[proxy-server:policy:N]` sections by N: a policy's own node order settings. */
  readonly policyOverrides?: Readonly<Record<string, ConfigOf<typeof proxyPolicySchema>>>;
  /** The middlewares' sections (`[tempauth]`, `[bulk]`, ...); each defaults to Swift's defaults. */
  readonly middleware?: Partial<PipelineConfig>;
  /** The cluster secret tokens are signed with (from `[swift-hash]`). */
  readonly secret: string;
  /** The cluster's storage policies (`[storage-policy:N]`); default: policy 0 alone. */
  readonly policies?: StoragePolicies;
  readonly constraints?: Constraints;
}

export interface ProxyServerDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly backend: BackendClient;
  /** The rings, with every policy's object ring (`objects`) when there is more than policy 0. */
  readonly rings: RingSet;
  readonly hashPath: HashPath;
  /** The other proxy processes on the same port, told of writes (see `InfoPeers`). */
  readonly infoPeers?: InfoPeers;
  /**
   * The text `/metrics` answers; default this proxy's own. A worker of several asks its
   * supervisor, which sums every worker's (see cli/proxy-metrics.ts).
   */
  readonly metricsText?: () => Promise<string>;
  /**
   * The data files of object servers on this machine, which the proxy reads large bodies from
   * when `local_file_reads` is on (`common/http/local-file-read.ts`); without them it relays.
   */
  readonly localFiles?: LocalDataFiles;
}

/**
 * The proxy: Swift API v1 in front of the storage nodes: the middlewares of `pipeline.ts`, in
 * the order stated there, then the account/container/object controllers.
 */
export class ProxyServer {
  readonly context: ProxyContext;
  readonly capabilities: Capabilities;
  readonly metrics: ProxyMetrics;
  private readonly deps: ProxyServerDeps;
  private readonly app: ProxyHandler;
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(config: ProxyServerConfig, deps: ProxyServerDeps) {
    this.deps = deps;
    const p = config.proxy;
    const constraints = config.constraints ?? DEFAULT_CONSTRAINTS;
    const policies = config.policies ?? StoragePolicies.legacy();
    const nodeOrder = new NodeOrder(p, config.policyOverrides ?? {}, [...policies.names().keys()], { clock: deps.clock });
    for (const label of nodeOrder.unusedReadAffinity) deps.logger.warn(`sorting_method is set to '${p.sorting_method}', not 'affinity'; ${label} read_affinity setting will have no effect.`);
    const backendDeps = {
      backend: deps.backend,
      limiter: new ErrorLimiter({ clock: deps.clock, intervalMs: p.error_suppression_interval * 1000, limit: p.error_suppression_limit, observer: { error: (node) => this.metrics.backendError(node), limited: (node) => this.metrics.errorLimited(node) } }),
      clock: deps.clock,
      logger: deps.logger,
      connTimeoutMs: p.conn_timeout * 1000,
      nodeTimeoutMs: p.node_timeout * 1000,
      postQuorumTimeoutMs: p.post_quorum_timeout * 1000,
      nodeOrder,
      ...(p.local_file_reads && deps.localFiles ? { localReads: observed(deps.localFiles, (outcome) => this.metrics.localRead(outcome)) } : {}),
    };
    this.context = {
      ...backendDeps,
      config: p,
      rings: deps.rings,
      info: new InfoCache(backendDeps, deps.rings, { accountSeconds: p.recheck_account_existence, containerSeconds: p.recheck_container_existence }, deps.infoPeers),
      constraints,
      policies,
      timestamps: new TimestampSource(deps.clock),
      hashPath: deps.hashPath,
      onClose: (stop) => this.closers.push(stop),
    };
    this.capabilities = {
      swift: {
        version: '2.30.1-swiftlet',
        strict_cors_mode: p.strict_cors_mode,
        ...constraints,
        policies: policies.info(),
        allow_account_management: p.allow_account_management,
        account_autocreate: p.account_autocreate,
      },
    };
    this.metrics = new ProxyMetrics({ limitedNodes: () => backendDeps.limiter.limitedCount(), rings: () => ringsByName(deps.rings) });
    const local = (): Promise<string> => this.metrics.registry.metrics();
    const middleware = { ...defaultPipelineConfig(), ...config.middleware };
    this.app = pipeline(proxyPipeline(this.context, this.capabilities, middleware, config.secret, this.metrics, deps.metricsText ?? local), proxyApp(this.context));
  }

  /** The request handler to serve with `listen()`. */
  readonly handle = async (req: ServerRequest): Promise<ServerResponse> => {
    const transId = newTransId(this.deps.clock.now(), req.headers['x-trans-id-extra']);
    const request: ProxyRequest = {
      method: req.method,
      path: req.path,
      query: req.query,
      rawQuery: req.rawQuery,
      headers: { ...req.headers },
      // The client's socket data: nothing else holds a chunk once the proxy has read it; a
      // large PUT reads it in 1 MiB pieces instead (`offerPieces`).
      body: offerPieces(markOwnChunks(req.body), ({ idleMs }) => readBodyPieces(req.body, { idleMs, releaseChunks: true })),
      remoteAddress: req.remoteAddress,
      signal: req.signal,
      env: { transId, logger: this.deps.logger.child({ txn: transId }) },
    };
    return this.app(request);
  };

  async close(): Promise<void> {
    await Promise.all(this.closers.map((stop) => stop()));
    await this.deps.backend.close();
  }
}

/** `files`, with each read's outcome told to `observe`. */
function observed(files: LocalDataFiles, observe: LocalReads['observe']): LocalReads {
  return { isLocal: (node) => files.isLocal(node), open: (file, etag) => files.open(file, etag), observe };
}
