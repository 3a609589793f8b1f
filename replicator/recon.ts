import { join } from 'node:path';
import { CLUSTER_CONF } from '../common/config.ts';
import type { Daemon, DaemonReport } from '../common/daemon.ts';
import { HttpError } from '../common/http/http-error.ts';
import type { Handler, ServerResponse } from '../common/http/server.ts';
import type { StorageNodeContext } from './node-context.ts';
import { asyncPendings, diskUsage, fileMd5, quarantined, quarantinedByPolicy, ringFiles } from './node-facts.ts';

/** Daemons in the order `swiftlet once all` runs them: deliveries first, then repairs, then checks. */
export const DAEMON_ORDER = [
  'object-updater', 'container-updater', 'object-expirer', 'object-replicator', 'container-replicator', 'container-reconciler', 'container-sync', 'account-replicator',
  'object-auditor-fast', 'object-auditor', 'container-auditor', 'account-auditor', 'account-reaper',
] as const;

/** What `/recon/node` says of the node: enough for `swiftlet status` to tell nodes apart. */
export interface NodeFacts {
  readonly bind_ip: string;
  readonly ports: { readonly object: number; readonly container: number; readonly account: number };
  readonly devices: string;
  readonly mount_check: boolean;
  readonly swift_dir: string;
  readonly pid: number;
}

/**
 * Recon (Swift's recon middleware) on a storage node's object port, for operators and
 * `swiftlet status`:
 * - `GET /recon/async`: container updates waiting (`async_pending`)
 * - `GET /recon/quarantined`: objects, containers and accounts moved aside, and objects per
 *   storage policy (`policies: {"1": {objects}}`, as Swift's)
 * - `GET /recon/diskusage`: size, used and free bytes per device (`mounted: false` when not)
 * - `GET /recon/unmounted`: the devices that may not be used, and why
 * - `GET /recon/ringmd5`: MD5 of each ring file (`*.ring.gz`) in the node's swift_dir
 * - `GET /recon/rings`: the same with each ring's version (it grows with every rebalance)
 * - `GET /recon/swiftconfmd5`: MD5 of swift_dir's `swiftlet.conf`
 * - `GET /recon/hashpath`: a digest of the hash-path secret the node uses (never the secret)
 *   and whether its objects hash to where they lie under it (`placement`)
 * - `GET /recon/node`: the node's address, ports and devices root
 * - `GET /recon/memory`: this process's memory (rss, V8 heap, buffers), in bytes
 * - `GET /recon/daemons`: every daemon's passes and the counts of its last pass
 * - `GET /recon/replication/<object|container|account>`, `/recon/updater/<object|container>`,
 *   `/recon/auditor/<object|container|account>`, `/recon/expirer/object`: one daemon's report
 * - `POST /recon/once?daemon=<name|all>`: runs a pass now and answers with the reports when
 *   it is done (`swiftlet once`; the node owns its databases, so passes run inside it)
 */
export function withRecon(next: Handler, ctx: StorageNodeContext, daemons: readonly Daemon[], swiftDir: string): Handler {
  const report = (name: string): DaemonReport => {
    const daemon = daemons.find((d) => d.name === name);
    if (!daemon) throw new HttpError(404, `no ${name} on this node`);
    return daemon.recon();
  };
  const node: NodeFacts = { bind_ip: ctx.bindIp, ports: ctx.ports, devices: ctx.devices, mount_check: ctx.mountCheck, swift_dir: swiftDir, pid: process.pid };
  const routes: Record<string, () => Promise<unknown>> = {
    async: async () => ({ async_pending: await asyncPendings(ctx) }),
    quarantined: async () => ({ ...(await quarantined(ctx)), policies: await quarantinedByPolicy(ctx) }),
    diskusage: async () => diskUsage(ctx),
    unmounted: async () => (await diskUsage(ctx)).filter((d) => d.mounted !== true),
    ringmd5: async () => Object.fromEntries(Object.entries(await ringFiles(swiftDir)).map(([name, r]) => [join(swiftDir, name), r.md5])),
    rings: async () => ringFiles(swiftDir),
    swiftconfmd5: async () => ({ [join(swiftDir, CLUSTER_CONF)]: await fileMd5(join(swiftDir, CLUSTER_CONF)) }),
    hashpath: async () => ({ digest: ctx.hashPath.secretDigest(), placement: ctx.placement?.report() }),
    node: async () => node,
    daemons: async () => daemons.map((d) => d.recon()),
    'replication/object': async () => report('object-replicator'),
    'replication/container': async () => report('container-replicator'),
    'replication/account': async () => report('account-replicator'),
    'updater/object': async () => report('object-updater'),
    'updater/container': async () => report('container-updater'),
    'auditor/object': async () => report('object-auditor'),
    'auditor/container': async () => report('container-auditor'),
    'auditor/account': async () => report('account-auditor'),
    'expirer/object': async () => report('object-expirer'),
    time: async () => ctx.clock.now() / 1000,
    memory: async () => process.memoryUsage(),
  };
  return async (req) => {
    if (!req.path.startsWith('/recon/')) return next(req);
    const what = req.path.slice('/recon/'.length);
    if (req.method === 'POST' && what === 'once') return json(await runOnce(daemons, req.query.get('daemon') ?? 'all'));
    const route = routes[what];
    if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) return { status: 404, body: `unknown recon check: ${what}` };
    return json(await route());
  };
}

async function runOnce(daemons: readonly Daemon[], wanted: string): Promise<DaemonReport[]> {
  const chosen = wanted === 'all' ? [...daemons].sort((a, b) => order(a.name) - order(b.name)) : daemons.filter((d) => d.name === wanted);
  if (chosen.length === 0) throw new HttpError(404, `no daemon ${wanted} on this node (have: ${daemons.map((d) => d.name).join(', ')})`);
  for (const daemon of chosen) await daemon.runPass();
  return chosen.map((d) => d.recon());
}

function order(name: string): number {
  const i = (DAEMON_ORDER as readonly string[]).indexOf(name);
  return i === -1 ? DAEMON_ORDER.length : i;
}

function json(value: unknown): ServerResponse {
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) };
}
