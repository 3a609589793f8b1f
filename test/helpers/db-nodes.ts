import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { accountServerSchema } from '../../account/config.ts';
import { AccountServer } from '../../account/server.ts';
import type { Clock } from '../../common/clock.ts';
import { defaultConfig } from '../../common/config.ts';
import { memoryKvOpener } from '../../common/db/memory-kv.ts';
import { HashPath } from '../../common/hash-path.ts';
import { type BackendClient, UndiciBackendClient } from '../../common/http/backend-client.ts';
import { type HttpServer, listen } from '../../common/http/server.ts';
import { createLogger, type Logger } from '../../common/logger.ts';
import { storageSchema } from '../../common/storage-config.ts';
import { containerServerSchema } from '../../container/config.ts';
import { ContainerServer } from '../../container/server.ts';
import type { AsyncPendingStore } from '../../object/async-pending.ts';
import type { FsDiskFileManager } from '../../object/diskfile/fs.ts';
import type { DiskFileRouter } from '../../object/diskfile/router.ts';
import { StoragePolicies } from '../../common/storage-policy.ts';
import type { StorageNodeContext } from '../../replicator/node-context.ts';
import { RingBuilder } from '../../ring/builder.ts';
import { Ring } from '../../ring/ring.ts';
import { makeTempDir } from './tmpdir.ts';

/** One storage node of account and container servers over in-memory databases. */
export interface DbNode {
  readonly n: number;
  readonly device: string;
  readonly devices: string;
  readonly container: ContainerServer;
  readonly account: AccountServer;
  readonly ports: { readonly object: number; readonly container: number; readonly account: number };
  /** What this node's daemons are given. */
  readonly ctx: StorageNodeContext;
}

/** A few `DbNode`s sharing rings (one device each, one zone each), for the db daemons' tests. */
export interface DbNodes {
  readonly nodes: readonly DbNode[];
  readonly hashPath: HashPath;
  readonly rings: { readonly account: Ring; readonly container: Ring; readonly object: Ring };
  /** Node numbers (1-based) of the primaries of an account or container, in ring order. */
  primaries(kind: 'account' | 'container', account: string, container?: string): number[];
  /** Stops node n's servers (its databases stay in memory); `resume` starts them again. */
  pause(n: number): Promise<void>;
  resume(n: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts `count` nodes on 127.0.0.1, each with a container and an account server over
 * `MemoryKv` databases on real HTTP, and rings over them (the object ring has the same
 * devices, on ports 1, 2, ... where nothing listens). Daemons get `ctx` with `backend` (default: undici).
 */
export async function startDbNodes(options: { count?: number; replicas?: number; partPower?: number; clock: Clock; logger?: Logger; backend?: BackendClient }): Promise<DbNodes> {
  const count = options.count ?? 4;
  const logger = options.logger ?? createLogger({ level: 'error' });
  const clock = options.clock;
  const dir = await makeTempDir('swiftlet-db-nodes-');
  const hashPath = new HashPath('', 'db-nodes');
  const defaults = defaultConfig({ storage: storageSchema, 'container-server': containerServerSchema, 'account-server': accountServerSchema });
  const backend = options.backend ?? new UndiciBackendClient({ connectTimeoutMs: 500, nodeTimeoutMs: 2000 });
  const nodes: DbNode[] = [];
  const http = new Map<number, HttpServer[]>();
  let rings: DbNodes['rings'] | undefined;
  const serve = async (node: DbNode, ports?: { container: number; account: number }): Promise<{ container: number; account: number }> => {
    const c = await listen(node.container.handle, { host: '127.0.0.1', port: ports?.container ?? 0, logger });
    const a = await listen(node.account.handle, { host: '127.0.0.1', port: ports?.account ?? 0, logger });
    http.set(node.n, [c, a]);
    return { container: c.port, account: a.port };
  };
  for (let n = 1; n <= count; n++) {
    const devices = join(dir.path, `node${n}`);
    const device = `d${n}`;
    await mkdir(join(devices, device), { recursive: true });
    const storage = { ...defaults.storage, devices };
    const kvOpener = memoryKvOpener();
    const container = new ContainerServer({ storage, containerServer: { ...defaults['container-server'], log_requests: false } }, { clock, logger, backend, hashPath, kvOpener });
    const account = new AccountServer({ storage, accountServer: { ...defaults['account-server'], log_requests: false } }, { clock, logger, hashPath, kvOpener });
    const partial = { n, device, devices, container, account } as Omit<DbNode, 'ports' | 'ctx'>;
    const ports = await serve(partial as DbNode);
    // Nothing listens on the object ports (1, 2, ...): requests to them are refused.
    const allPorts = { object: n, container: ports.container, account: ports.account };
    const ctx: StorageNodeContext = {
      clock,
      logger,
      backend,
      hashPath,
      get rings() {
        if (!rings) throw new Error('rings are not built yet');
        return rings;
      },
      bindIp: '127.0.0.1',
      ports: allPorts,
      devices,
      mountCheck: false,
      diskFiles: undefined as unknown as DiskFileRouter<FsDiskFileManager>,
      policies: StoragePolicies.legacy(),
      pendings: undefined as unknown as AsyncPendingStore,
      containerDbs: container.datadirs,
      accountDbs: account.datadirs,
    };
    nodes.push({ ...partial, ports: allPorts, ctx });
  }
  const build = (kind: 'account' | 'container' | 'object'): Ring => {
    const builder = RingBuilder.create({ partPower: options.partPower ?? 4, replicas: options.replicas ?? 3, minPartHours: 0 }, clock);
    for (const node of nodes) builder.addDevice({ region: 1, zone: node.n, ip: '127.0.0.1', port: node.ports[kind], device: node.device, weight: 100 });
    builder.rebalance({ seed: 1 });
    return Ring.fromData(builder.ringData(), hashPath);
  };
  rings = { account: build('account'), container: build('container'), object: build('object') };
  const built = rings;
  return {
    nodes,
    hashPath,
    rings: built,
    primaries(kind, account, container) {
      return built[kind].getNodes(account, container).nodes.map((d) => nodes.findIndex((n) => n.ports[kind] === d.port) + 1);
    },
    async pause(n) {
      const servers = http.get(n) ?? [];
      http.delete(n);
      await Promise.all(servers.map((s) => s.close()));
    },
    async resume(n) {
      const node = nodes[n - 1] as DbNode;
      if (!http.has(n)) await serve(node, node.ports);
    },
    async close() {
      await Promise.all([...http.values()].flat().map((s) => s.close()));
      await Promise.all(nodes.flatMap((n) => [n.container.close(), n.account.close()]));
      await backend.close();
      await dir.remove();
    },
  };
}
