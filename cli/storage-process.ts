import { resolve } from 'node:path';
import { systemClock, type Clock } from '../common/clock.ts';
import { ConfigError } from '../common/errors.ts';
import { UndiciBackendClient } from '../common/http/backend-client.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import { ContainerUpdateBatcher } from '../object/container-update-batcher.ts';
import { newSlabPool } from '../object/diskfile/fs.ts';
import { type RunningStorageNode, runStorageNode, type StorageNodeConfig } from './storage-node.ts';

/** Direct-I/O buffers of a storage process, shared by its nodes. */
const PROCESS_DIRECT_IO_BUFFERS = 24;

export interface StorageProcessNode {
  /** The node's name in its log lines (its config file's name without `.conf`). */
  readonly name: string;
  readonly config: StorageNodeConfig;
}

export interface RunningStorageProcess {
  readonly nodes: readonly RunningStorageNode[];
  close(): Promise<void>;
}

/**
 * Runs one or more storage nodes in this process. One node per process is a real cluster's
 * shape (one machine, one storage node); an all-in-one cluster on a small machine runs its
 * nodes together, since every busy process on two cores makes the others' work dearer (see
 * docs/decisions.md). The nodes stay separate in everything a cluster sees (their ports,
 * devices, rings, daemons) and talk to each other over HTTP as before; they share what is
 * per process: the direct-I/O buffers, and the queues of container updates (so the updates
 * the nodes' object servers send one container replica go out together: see
 * `sharedContainerUpdates`).
 */
export async function runStorageProcess(nodes: readonly StorageProcessNode[], deps: { clock?: Clock; logger?: (node: StorageProcessNode) => Logger } = {}): Promise<RunningStorageProcess> {
  checkDistinctDevices(nodes);
  const clock = deps.clock ?? systemClock;
  const slabs = nodes.length > 1 ? newSlabPool(PROCESS_DIRECT_IO_BUFFERS) : undefined;
  const shared = sharedContainerUpdates(nodes);
  const running: RunningStorageNode[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(running.map((n) => n.close()));
    await shared?.backend.close();
  };
  try {
    for (const node of nodes) {
      const logger = deps.logger?.(node) ?? createLogger({ level: node.config.storage.log_level, clock, ...(nodes.length > 1 ? { fields: { node: node.name } } : {}) });
      running.push(await runStorageNode(node.config, { clock, logger, ...(slabs ? { slabs } : {}), ...(shared ? { containerUpdates: shared.updates } : {}) }));
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { nodes: running, close };
}

/**
 * One container-update batcher for all the object servers of this process, when they agree
 * on its timeouts. Each object server of a node updates one container replica per write; with
 * a queue per object server, a container replica took one request per ~2.3 rows under 32
 * concurrent 4 KiB PUTs into one container, and each request costs both ends a parse and a
 * loopback write or two. Shared, the writes of all the nodes' object servers that wait for the
 * same container replica go in one `UPDATE`. What a caller is told is unchanged: its update
 * was taken by that container replica, or it saves an async pending on its own device.
 */
function sharedContainerUpdates(nodes: readonly StorageProcessNode[]): { updates: ContainerUpdateBatcher; backend: UndiciBackendClient } | undefined {
  const first = nodes[0]?.config['object-server'];
  if (nodes.length < 2 || first === undefined) return undefined;
  if (nodes.some((n) => n.config['object-server'].node_timeout !== first.node_timeout || n.config['object-server'].conn_timeout !== first.conn_timeout)) return undefined;
  const backend = new UndiciBackendClient({ connectTimeoutMs: first.conn_timeout * 1000 });
  return { updates: new ContainerUpdateBatcher({ backend, timeoutMs: first.node_timeout * 1000 }), backend };
}


/** Two nodes on one devices directory would each take the other's temp files for a crash's. */
function checkDistinctDevices(nodes: readonly StorageProcessNode[]): void {
  const seen = new Map<string, string>();
  for (const node of nodes) {
    const devices = resolve(node.config.storage.devices);
    const other = seen.get(devices);
    if (other !== undefined) throw new ConfigError('storage.devices', node.config.storage.devices, `${other} and ${node.name} in one process would share it`);
    seen.set(devices, node.name);
  }
}
