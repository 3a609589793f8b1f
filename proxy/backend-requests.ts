import type { Clock } from '../common/clock.ts';
import { type BackendBody, type BackendClient, type BackendResponse, backendPath } from '../common/http/backend-client.ts';
import type { Logger } from '../common/logger.ts';
import { Timestamp } from '../common/timestamp.ts';
import type { Device } from '../ring/device.ts';
import type { Ring } from '../ring/ring.ts';
import type { ErrorLimiter } from './error-limiter.ts';
import type { LocalReads } from './local-reads.ts';
import type { NodeOrder } from './node-order.ts';
import { nodeIter, type ProxyNode } from './node-iter.ts';
import { quorumSize } from '../common/quorum-size.ts';
import { bestResponseIndex, haveQuorum } from './quorum.ts';

/** What the proxy needs to talk to storage nodes. */
export interface BackendDeps {
  readonly backend: BackendClient;
  readonly limiter: ErrorLimiter;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly connTimeoutMs: number;
  readonly nodeTimeoutMs: number;
  readonly postQuorumTimeoutMs: number;
  /** Object bodies read from this machine's disks, when the proxy may (`local_file_reads`). */
  readonly localReads?: LocalReads;
  /** The order to ask nodes in (`sorting_method`, the affinities); ring order without it. */
  readonly nodeOrder?: NodeOrder;
}

/** A complete (small) backend answer. */
export interface BackendReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly node?: ProxyNode;
}

const SERVICE_UNAVAILABLE: BackendReply = { status: 503, headers: {}, body: Buffer.alloc(0) };

/** Where a request goes: a ring, a partition, and the names under the partition. */
export interface Target {
  readonly ring: Ring;
  readonly partition: number;
  readonly names: readonly string[];
  /** An object's storage policy (its `[proxy-server:policy:N]` node order settings). */
  readonly policyIndex?: number;
}

/** The nodes a read asks, in order: the primaries sorted by `sorting_method` (`preferred` ones first), then handoffs. */
export function readNodes(deps: BackendDeps, target: Target, preferred?: (node: Device) => boolean): Generator<ProxyNode> {
  const order = deps.nodeOrder;
  return nodeIter(target.ring, target.partition, deps.limiter, {
    ...(order ? { sort: <T extends Device>(primaries: readonly T[]) => order.sortPrimaries(primaries, target.policyIndex) } : {}),
    ...(preferred ? { preferred } : {}),
  });
}

/** The nodes an object PUT writes to, in order: local ones first under `write_affinity`, else primaries then handoffs. */
export function writeNodes(deps: BackendDeps, target: Target): Generator<ProxyNode> {
  const order = deps.nodeOrder?.writeOrder(target.ring, target.partition, target.policyIndex);
  return nodeIter(target.ring, target.partition, deps.limiter, order ? { order } : {});
}

/**
 * Swift's `make_requests`: one request per slot (each slot has its own headers), in parallel.
 * A slot takes nodes from one shared iterator (primaries, then handoffs) until a node answers
 * below 500; a 507 benches the node. Once a quorum agrees, stragglers get
 * `postQuorumTimeoutMs`, then are aborted and count as 503. Returns the best reply (503 if no
 * class reached quorum) and all replies.
 */
export async function makeRequests(deps: BackendDeps, target: Target, request: { method: string; query?: string; headersPerSlot: readonly Record<string, string>[]; body?: string | Buffer }, signal?: AbortSignal, nodes: Iterator<ProxyNode> = nodeIter(target.ring, target.partition, deps.limiter)): Promise<{ best: BackendReply; replies: BackendReply[] }> {
  const slots = request.headersPerSlot.length;
  const quorum = quorumSize(slots);
  const controllers = request.headersPerSlot.map(() => new AbortController());
  // The client going away stops every slot: one listener for all of them, where a signal per
  // slot from `AbortSignal.any` cost each small PUT three composite signals to follow and collect.
  const stopAll = (): void => {
    for (const c of controllers) c.abort(signal?.reason);
  };
  if (signal?.aborted) stopAll();
  else signal?.addEventListener('abort', stopAll, { once: true });
  const replies: BackendReply[] = [];
  let onQuorum: (() => void) | undefined;
  const quorumReached = new Promise<void>((resolve) => (onQuorum = resolve));
  const all = Promise.all(
    request.headersPerSlot.map(async (headers, slot) => {
      const controller = controllers[slot] as AbortController;
      const reply = await firstWorkingNode(deps, nodes, target, { method: request.method, query: request.query, headers, body: request.body }, controller.signal);
      replies.push(reply);
      if (haveQuorum(replies.map((r) => r.status), slots, quorum)) onQuorum?.();
    }),
  );
  try {
    await Promise.race([all, quorumReached]);
    if (replies.length < slots) {
      // Stragglers get their time; the timer goes when they are in, not half a second later.
      const stopTimer = new AbortController();
      const timer = deps.clock.sleep(deps.postQuorumTimeoutMs, stopTimer.signal).then(
        () => 'timeout' as const,
        () => 'done' as const,
      );
      const outcome = await Promise.race([all.then(() => 'done' as const), timer]);
      stopTimer.abort();
      if (outcome === 'timeout') {
        for (const c of controllers) c.abort(new Error('post-quorum timeout'));
      }
    }
  } finally {
    signal?.removeEventListener('abort', stopAll);
  }
  const done = [...replies];
  while (done.length < slots) done.push(SERVICE_UNAVAILABLE);
  const index = bestResponseIndex(done.map((r) => r.status), quorum);
  const best = index === undefined ? SERVICE_UNAVAILABLE : (done[index] as BackendReply);
  // A client that went away is the caller's to report (499), not a cluster failing its quorum.
  if (index === undefined && !signal?.aborted) deps.logger.error('returning 503: no quorum', { method: request.method, names: target.names.join('/'), statuses: done.map((r) => r.status).join(',') });
  return { best, replies: done };
}

/** The first node of `nodes` that answers below 500 (benching those that fail), or a 503. */
export async function firstWorkingNode(deps: BackendDeps, nodes: Iterator<ProxyNode>, target: Target, request: { method: string; query?: string; headers: Record<string, string>; body?: BackendBody }, signal: AbortSignal): Promise<BackendReply> {
  for (let step = nodes.next(); !step.done; step = nodes.next()) {
    if (signal.aborted) break;
    const node = step.value;
    try {
      const res = await send(deps, node, target, request, signal);
      const body = await res.body.bytes();
      if (res.status < 500 && res.status >= 200) return { status: res.status, headers: res.headers, body, node };
      if (res.status === 507) deps.limiter.errorLimit(node);
      else if (res.status >= 500) deps.limiter.errorOccurred(node);
    } catch (err) {
      if (signal.aborted) break;
      deps.limiter.errorOccurred(node);
      deps.logger.warn('backend request failed', { node: `${node.ip}:${node.port}/${node.device}`, method: request.method, err });
    }
  }
  return SERVICE_UNAVAILABLE;
}

/** One request to one node for `target`, with the proxy's timeouts. */
export function send(deps: BackendDeps, node: ProxyNode, target: Target, request: { method: string; query?: string; headers: Record<string, string>; body?: BackendBody; timeoutMs?: number }, signal?: AbortSignal): Promise<BackendResponse> {
  const order = deps.nodeOrder;
  if (order?.sortsByTiming) {
    // Swift's `set_node_timing`; here the time to the answer's headers (connections are reused).
    const start = deps.clock.monotonic();
    return sendNow(deps, node, target, request, signal).then((res) => {
      order.recordTiming(node, deps.clock.monotonic() - start);
      return res;
    });
  }
  return sendNow(deps, node, target, request, signal);
}

function sendNow(deps: BackendDeps, node: ProxyNode, target: Target, request: { method: string; query?: string; headers: Record<string, string>; body?: BackendBody; timeoutMs?: number }, signal?: AbortSignal): Promise<BackendResponse> {
  return deps.backend.request(node, {
    method: request.method,
    path: backendPath(node.device, target.partition, ...target.names),
    ...(request.query ? { query: request.query } : {}),
    headers: request.headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
    timeoutMs: request.timeoutMs ?? deps.nodeTimeoutMs,
    ...(signal ? { signal } : {}),
  });
}

/** A read that found a good answer: the response (body still streaming) and the node. */
export interface ReadSource {
  readonly response: BackendResponse;
  readonly node: ProxyNode;
}

/**
 * A GET or HEAD (Swift's `GETorHEAD_base`): nodes in order until one gives a good answer
 * (2xx, 3xx, or a 4xx other than 404). A 404 is remembered and the next node tried, handoffs
 * too (a write may have landed there: primaries down, or `write_affinity`); as in Swift, a
 * handoff's 404 or 5xx is no answer unless it holds a tombstone (`X-Backend-Timestamp`). With `newest`, every
 * primary is asked and the answer with the newest `timestampHeader` wins (`X-Newest`).
 * Returns the source, or the best of the failures (503 when there were only errors).
 * `nodeHeaders` gives a node's own headers in place of `headers`; `preferred` primaries are asked
 * before the others.
 */
export async function readFromNodes(deps: BackendDeps, target: Target, request: { method: string; query?: string; headers: Record<string, string>; nodeHeaders?: (node: ProxyNode) => Record<string, string> }, options: { newest?: boolean; timestampHeader: string; signal?: AbortSignal; preferred?: (node: { readonly ip: string }) => boolean }): Promise<ReadSource | BackendReply> {
  const failures: BackendReply[] = [];
  const primaries = target.ring.replicas;
  let tried = 0;
  let best: ReadSource | undefined;
  for (const node of readNodes(deps, target, options.preferred)) {
    tried++;
    let res: BackendResponse;
    try {
      res = await send(deps, node, target, request.nodeHeaders ? { ...request, headers: request.nodeHeaders(node) } : request, options.signal);
    } catch (err) {
      // The client went away: not the node's fault, and nobody waits for another try.
      if (options.signal?.aborted) break;
      deps.limiter.errorOccurred(node);
      deps.logger.warn('backend read failed', { node: `${node.ip}:${node.port}/${node.device}`, err });
      continue;
    }
    if (res.status === 404 || res.status >= 500) {
      const body = await res.body.bytes().catch(() => Buffer.alloc(0));
      if (res.status === 507) deps.limiter.errorLimit(node);
      else if (res.status >= 500) deps.limiter.errorOccurred(node);
      if (node.handoff && timestampOf(res.headers['x-backend-timestamp']).compare(NO_TIME) <= 0) continue;
      failures.push({ status: res.status, headers: res.headers, body, node });
      continue;
    }
    if (!options.newest || !(res.status >= 200 && res.status < 300)) {
      if (best) await best.response.body.dump();
      return { response: res, node };
    }
    // X-Newest: keep the newest good answer, drain the others.
    if (!best || newer(res, best.response, options.timestampHeader)) {
      if (best) await best.response.body.dump();
      best = { response: res, node };
    } else {
      await res.body.dump();
    }
    if (tried >= primaries && best) break;
  }
  if (best) return best;
  // Only 404s and errors: 404 when a quorum of the replicas said so, else 503.
  const index = bestResponseIndex(failures.map((f) => f.status), quorumSize(primaries));
  return index === undefined ? SERVICE_UNAVAILABLE : (failures[index] as BackendReply);
}

const NO_TIME = new Timestamp(0);

function newer(a: BackendResponse, b: BackendResponse, header: string): boolean {
  return timestampOf(a.headers[header]).compare(timestampOf(b.headers[header])) > 0;
}

function timestampOf(value: string | undefined): Timestamp {
  try {
    return value === undefined ? new Timestamp(0) : Timestamp.parse(value);
  } catch {
    return new Timestamp(0);
  }
}

export function isReadSource(result: ReadSource | BackendReply): result is ReadSource {
  return 'response' in result;
}
