import { type BackendClient, backendPath } from '../common/http/backend-client.ts';
import { quorumSize } from '../common/quorum-size.ts';
import { Timestamp } from '../common/timestamp.ts';
import type { Device } from '../ring/device.ts';
import type { Ring } from '../ring/ring.ts';

/** What a daemon needs to talk to storage nodes directly (Swift's `direct_client`). */
export interface DirectDeps {
  readonly backend: BackendClient;
  readonly timeoutMs: number;
}

/**
 * Every item of a JSON listing (account or container), paged with `marker`, from the first
 * primary that answers. A listing that no primary has is empty.
 * @throws {Error} when no primary answered at all.
 */
export async function directListing(deps: DirectDeps, ring: Ring, names: readonly [string] | readonly [string, string], query: Record<string, string> = {}): Promise<Record<string, unknown>[]> {
  const partition = ring.getPart(names[0], names[1]);
  const items: Record<string, unknown>[] = [];
  let marker = '';
  for (;;) {
    const page = await firstAnswer(deps, ring, partition, names, new URLSearchParams({ ...query, format: 'json', ...(marker ? { marker } : {}) }).toString());
    if (page.length === 0) return items;
    items.push(...page);
    const last = page[page.length - 1] as Record<string, unknown>;
    marker = String(last['name'] ?? last['subdir'] ?? '');
  }
}

async function firstAnswer(deps: DirectDeps, ring: Ring, partition: number, names: readonly string[], query: string): Promise<Record<string, unknown>[]> {
  let notFound = 0;
  const nodes = ring.getPartNodes(partition);
  for (const node of nodes) {
    try {
      const res = await deps.backend.request(node, { method: 'GET', path: backendPath(node.device, partition, ...names), query, timeoutMs: deps.timeoutMs });
      if (res.status === 200) return (await res.body.json()) as Record<string, unknown>[];
      await res.body.dump();
      if (res.status === 204) return [];
      if (res.status === 404) notFound++;
    } catch {
      // try the next replica
    }
  }
  if (notFound > 0) return [];
  throw new Error(`no replica of /${names.join('/')} answered`);
}

/**
 * One request for `names` to every primary of `partition`, with per-node extra headers;
 * resolves the statuses (599 where a node did not answer). The caller names the partition:
 * an object row lives in its container's partition of the container ring, not its own.
 */
export async function directToAll(deps: DirectDeps, ring: Ring, partition: number, names: readonly string[], method: string, headers: Record<string, string>, perNode: readonly Record<string, string>[] = []): Promise<number[]> {
  return Promise.all(
    ring.getPartNodes(partition).map(async (node, i) => {
      try {
        const res = await deps.backend.request(node, { method, path: backendPath(node.device, partition, ...names), headers: { ...headers, ...perNode[i] }, timeoutMs: deps.timeoutMs });
        await res.body.dump();
        return res.status;
      } catch {
        return 599;
      }
    }),
  );
}

/**
 * A container's storage policy index, from the first primary that has the container (a HEAD,
 * as the proxy's container info); `undefined` when every primary answered that it has none.
 * @throws {Error} when no primary answered and none said 404.
 */
export async function directContainerPolicy(deps: DirectDeps, ring: Ring, account: string, container: string): Promise<number | undefined> {
  const partition = ring.getPart(account, container);
  let notFound = 0;
  const nodes = ring.getPartNodes(partition);
  for (const node of nodes) {
    try {
      const res = await deps.backend.request(node, { method: 'HEAD', path: backendPath(node.device, partition, account, container), timeoutMs: deps.timeoutMs });
      await res.body.dump();
      const index = res.headers['x-backend-storage-policy-index'];
      if (res.status >= 200 && res.status < 300) return index !== undefined && /^\d+$/.test(index) ? Number(index) : 0;
      if (res.status === 404) notFound++;
    } catch {
      // try the next replica
    }
  }
  if (notFound === nodes.length) return undefined;
  throw new Error(`no replica of /${account}/${container} answered`);
}

/** The newest answer of an object's primaries (by `X-Backend-Timestamp`), and who gave it. */
export interface NewestObject {
  readonly status: number;
  readonly timestamp: Timestamp;
  readonly node: Device;
}

/**
 * HEADs every primary of an object in a storage policy and keeps the newest answer (Swift's
 * `X-Newest`); undefined when fewer than a majority answered at all (2xx or 404).
 */
export async function directNewestObject(backend: BackendClient, ring: Ring, policyIndex: number, names: readonly [string, string, string]): Promise<NewestObject | undefined> {
  const { partition, nodes } = ring.getNodes(...names);
  const answers = await Promise.all(
    nodes.map(async (node): Promise<NewestObject | undefined> => {
      try {
        const res = await backend.request(node, { method: 'HEAD', path: backendPath(node.device, partition, ...names), headers: { 'X-Backend-Storage-Policy-Index': String(policyIndex) } });
        await res.body.dump();
        if (res.status !== 404 && (res.status < 200 || res.status > 299)) return undefined;
        const ts = res.headers['x-backend-timestamp'];
        return { status: res.status, timestamp: ts ? Timestamp.parse(ts) : new Timestamp(0), node };
      } catch {
        return undefined;
      }
    }),
  );
  const answered = answers.filter((a): a is NewestObject => a !== undefined);
  if (answered.length < quorumSize(nodes.length)) return undefined;
  // The newest object wins; among equals, one that has it (2xx) over a tombstone's 404.
  answered.sort((a, b) => b.timestamp.compare(a.timestamp) || Number(b.status < 300) - Number(a.status < 300));
  return answered[0];
}
