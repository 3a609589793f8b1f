import { createHash } from 'node:crypto';
import { readdir, readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Daemon, DaemonReport } from '../common/daemon.ts';
import { devicePath } from '../common/drive.ts';
import { HttpError } from '../common/http/http-error.ts';
import type { Handler, ServerResponse } from '../common/http/server.ts';
import type { StorageNodeContext } from './node-context.ts';

/** Daemons in the order `swiftlet once all` runs them: deliveries first, then repairs, then checks. */
export const DAEMON_ORDER = [
  'object-updater', 'container-updater', 'object-expirer', 'object-replicator', 'container-replicator', 'account-replicator',
  'object-auditor-fast', 'object-auditor', 'container-auditor', 'account-auditor', 'account-reaper',
] as const;

/**
 * Recon (Swift's recon middleware) on a storage node's object port, for operators and
 * `swiftlet status`:
 * - `GET /recon/async`: container updates waiting (`async_pending`)
 * - `GET /recon/quarantined`: objects, containers and accounts moved aside
 * - `GET /recon/diskusage`: size, used and free bytes per device
 * - `GET /recon/ringmd5`: MD5 of each ring file this node uses
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
  const routes: Record<string, () => Promise<unknown>> = {
    async: async () => ({ async_pending: await sum(ctx, (device) => ctx.pendings.count(device)) }),
    quarantined: async () => quarantined(ctx),
    diskusage: async () => diskUsage(ctx),
    ringmd5: async () => ringMd5(swiftDir),
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

/** This node's devices: the directories under the devices root. */
async function devices(ctx: StorageNodeContext): Promise<string[]> {
  return (await readdir(ctx.devices, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory()).map((d) => d.name);
}

async function sum(ctx: StorageNodeContext, of: (device: string) => Promise<number>): Promise<number> {
  let total = 0;
  for (const device of await devices(ctx)) total += await of(device).catch(() => 0);
  return total;
}

async function quarantined(ctx: StorageNodeContext): Promise<Record<string, number>> {
  const out: Record<string, number> = { objects: 0, containers: 0, accounts: 0 };
  for (const device of await devices(ctx)) {
    for (const kind of Object.keys(out)) {
      out[kind] = (out[kind] as number) + (await readdir(join(ctx.devices, device, 'quarantined', kind)).catch(() => [])).length;
    }
  }
  return out;
}

async function diskUsage(ctx: StorageNodeContext): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const device of await devices(ctx)) {
    try {
      const path = await devicePath(ctx.devices, device, ctx.mountCheck);
      const s = await statfs(path);
      out.push({ device, mounted: true, size: s.blocks * s.bsize, used: (s.blocks - s.bfree) * s.bsize, avail: s.bavail * s.bsize });
    } catch {
      out.push({ device, mounted: false });
    }
  }
  return out;
}

async function ringMd5(swiftDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of ['account.ring.gz', 'container.ring.gz', 'object.ring.gz']) {
    const bytes = await readFile(join(swiftDir, name)).catch(() => undefined);
    if (bytes) out[join(swiftDir, name)] = createHash('md5').update(bytes).digest('hex');
  }
  return out;
}
